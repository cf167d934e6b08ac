// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent store (agent/store.h) on real SQLite in a temporary directory.
 *
 * register.*: tokens are used up exactly when REGISTER succeeds; EXISTS
 * leaves the token usable; only the token's SHA-256 is on disk (checked
 * with a second, plain SQLite connection and OpenSSL's digest).
 * queue.*: group commit, ACK order, deduplication by (sender, msg_id)
 * within a group, across commits, across close/reopen and after delivery.
 * delivered.*: only the recipient's DELIVERED deletes, and it leaves a
 * receipt. failure.*: a full store (size cap) and a failing write
 * (RLIMIT_FSIZE) come back as -ENOSPC / -EIO, and nothing of a failed
 * group is ever found afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "../agent/store.h"
#include "crypto/crypto.h"
#include "kselftest_harness.h"

#define T0 1700000000000LL /* a fixed "now", ms */
#define DAY_MS (86400LL * 1000)
#define MAX_SEEN 16

static const uint8_t cert_a[] = "certificate bytes of a client";
static const uint8_t spki_a[] = "enc spki bytes";
static const uint8_t sig_a[] = "enc sig bytes";

static struct kc_bytes bytes_of(const void *p, size_t len)
{
	return (struct kc_bytes){ p, len };
}

static struct kc_bytes text_of(const char *s)
{
	return bytes_of(s, strlen(s));
}

static struct kc_client_reg reg_for(const char *id)
{
	return (struct kc_client_reg){
		.id = id,
		.cert = bytes_of(cert_a, sizeof(cert_a)),
		.enc_spki = bytes_of(spki_a, sizeof(spki_a)),
		.enc_sig = bytes_of(sig_a, sizeof(sig_a)),
	};
}

static void msg_id_of(uint8_t id[KC_MSGID_LEN], unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0xa0;
	id[KC_MSGID_LEN - 1] = (uint8_t)n;
}

/* What a queue walk saw. */
struct seen_msgs {
	unsigned int n;
	int64_t seq[MAX_SEEN];
	char sender[MAX_SEEN][KC_CLIENT_ID_MAX + 1];
	uint8_t msg_id[MAX_SEEN][KC_MSGID_LEN];
	size_t inner_len[MAX_SEEN];
	uint8_t inner0[MAX_SEEN];
	int64_t stored_at[MAX_SEEN];
};

static int collect(const struct kc_stored_msg *m, void *arg)
{
	struct seen_msgs *s = arg;

	if (s->n == MAX_SEEN)
		return -E2BIG;
	s->seq[s->n] = m->seq;
	strcpy(s->sender[s->n], m->sender);
	memcpy(s->msg_id[s->n], m->msg_id, KC_MSGID_LEN);
	s->inner_len[s->n] = m->inner_len;
	s->inner0[s->n] = m->inner_len ? m->inner[0] : 0;
	s->stored_at[s->n] = m->stored_at_ms;
	s->n++;
	return 0;
}

static int stop_at_first(const struct kc_stored_msg *m, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

struct seen_receipts {
	unsigned int n;
	int64_t id[MAX_SEEN];
	uint8_t msg_id[MAX_SEEN][KC_MSGID_LEN];
	char recipient[MAX_SEEN][KC_CLIENT_ID_MAX + 1];
};

static int collect_receipt(const struct kc_stored_receipt *r, void *arg)
{
	struct seen_receipts *s = arg;

	if (s->n == MAX_SEEN)
		return -E2BIG;
	s->id[s->n] = r->id;
	memcpy(s->msg_id[s->n], r->msg_id, KC_MSGID_LEN);
	strcpy(s->recipient[s->n], r->recipient);
	s->n++;
	return 0;
}

FIXTURE(store)
{
	char dir[64];
	char path[128];
	struct kc_store *st;
};

FIXTURE_SETUP(store)
{
	strcpy(self->dir, "/tmp/kc-store-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/store.db", self->dir);
	ASSERT_EQ(0, kc_store_open(self->path, true, &self->st));
}

FIXTURE_TEARDOWN(store)
{
	char cmd[160];

	kc_store_close(self->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("could not remove %s", self->dir);
}

static void reopen(struct __test_metadata *_metadata,
		   FIXTURE_DATA(store) * self)
{
	kc_store_close(self->st);
	self->st = NULL;
	ASSERT_EQ(0, kc_store_open(self->path, false, &self->st));
}

/* A registered client, through a fresh token as the agent would. */
static int add_client(struct kc_store *st, const char *id)
{
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg reg = reg_for(id);
	int ret;

	ret = kc_store_token_new(st, T0, 3600, token);
	if (!ret)
		ret = kc_store_register(st, text_of(token), T0, &reg);
	return ret;
}

/* One message in its own group. */
static int put_one(struct kc_store *st, const char *from, unsigned int n,
		   const char *to, int64_t now, int64_t *seq)
{
	uint8_t id[KC_MSGID_LEN], inner[3] = { (uint8_t)n, 1, 2 };
	int ret;

	msg_id_of(id, n);
	ret = kc_store_begin(st);
	if (ret)
		return ret;
	ret = kc_store_put_message(st, from, id, to, now, inner, sizeof(inner),
				   seq);
	if (ret < 0) {
		kc_store_rollback(st);
		return ret;
	}
	return kc_store_commit(st) ?: ret;
}

TEST_F(store, open_modes_and_wal)
{
	struct kc_store *other = NULL;
	sqlite3_stmt *s = NULL;
	char missing[160];
	struct stat sb;
	sqlite3 *db;

	ASSERT_EQ(0, stat(self->path, &sb));
	EXPECT_EQ(0600, sb.st_mode & 0777);
	snprintf(missing, sizeof(missing), "%s/none.db", self->dir);
	EXPECT_EQ(-ENOENT, kc_store_open(missing, false, &other));
	EXPECT_EQ(NULL, other);
	EXPECT_NE(0, access(missing, F_OK));

	/* A plain connection sees the journal mode and schema version. */
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->path, &db));
	ASSERT_EQ(SQLITE_OK,
		  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL));
	ASSERT_EQ(SQLITE_ROW, sqlite3_step(s));
	EXPECT_STREQ("wal", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	ASSERT_EQ(SQLITE_OK,
		  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL));
	ASSERT_EQ(SQLITE_ROW, sqlite3_step(s));
	EXPECT_EQ(KC_STORE_SCHEMA_VERSION, sqlite3_column_int(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

TEST_F(store, newer_schema_is_refused)
{
	struct kc_store *again = NULL;
	sqlite3 *db;

	kc_store_close(self->st);
	self->st = NULL;
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
					  NULL, NULL));
	sqlite3_close(db);
	EXPECT_EQ(-EPROTO, kc_store_open(self->path, false, &again));
	EXPECT_EQ(NULL, again);
}

TEST_F(store, register_uses_token_once)
{
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice"), bob = reg_for("bob");
	struct kc_client c;
	size_t i;

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	ASSERT_EQ(KC_TOKEN_TEXT_LEN, strlen(token));
	for (i = 0; i < KC_TOKEN_TEXT_LEN; i++)
		ASSERT_NE(NULL, strchr("0123456789abcdef", token[i]));
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(token), T0));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(token), T0, &alice));
	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_token_check(self->st, text_of(token), T0));
	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_register(self->st, text_of(token), T0, &bob));
	EXPECT_EQ(-ENOENT, kc_store_client_get(self->st, "bob", &c));

	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	ASSERT_EQ(sizeof(cert_a), c.cert_len);
	EXPECT_EQ(0, memcmp(c.cert, cert_a, sizeof(cert_a)));
	ASSERT_EQ(sizeof(spki_a), c.enc_spki_len);
	EXPECT_EQ(0, memcmp(c.enc_spki, spki_a, sizeof(spki_a)));
	ASSERT_EQ(sizeof(sig_a), c.enc_sig_len);
	EXPECT_EQ(0, memcmp(c.enc_sig, sig_a, sizeof(sig_a)));
	EXPECT_FALSE(c.revoked);
	EXPECT_EQ(T0, c.created_ms);
	kc_client_free(&c);
}

TEST_F(store, register_unknown_token)
{
	struct kc_client_reg alice = reg_for("alice");
	char token[KC_TOKEN_TEXT_LEN + 1];

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	token[0] = token[0] == 'a' ? 'b' : 'a';
	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_register(self->st, text_of(token), T0, &alice));
	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_register(self->st, text_of(""), T0, &alice));
}

TEST_F(store, register_expired_token)
{
	struct kc_client_reg alice = reg_for("alice");
	char token[KC_TOKEN_TEXT_LEN + 1];

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	EXPECT_EQ(-KC_EXPIRED,
		  kc_store_token_check(self->st, text_of(token), T0 + 60000));
	EXPECT_EQ(-KC_EXPIRED, kc_store_register(self->st, text_of(token),
						 T0 + 60000, &alice));
	/* Refused, not used: still fine one second before expiry. */
	EXPECT_EQ(0, kc_store_register(self->st, text_of(token), T0 + 59000,
				       &alice));
}

TEST_F(store, register_existing_id_keeps_token)
{
	char t1[KC_TOKEN_TEXT_LEN + 1], t2[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice");
	struct kc_client_reg alice2 = reg_for("alice");
	struct kc_client_reg bob = reg_for("bob");
	static const uint8_t other_cert[] = "another certificate";
	struct kc_client c;

	alice2.cert = bytes_of(other_cert, sizeof(other_cert));
	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, t1));
	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, t2));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(t1), T0, &alice));
	EXPECT_EQ(-KC_EXISTS,
		  kc_store_register(self->st, text_of(t2), T0, &alice2));
	/* The first registration is untouched ... */
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_EQ(sizeof(cert_a), c.cert_len);
	kc_client_free(&c);
	/* ... and t2 was not spent. */
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(t2), T0));
	EXPECT_EQ(0, kc_store_register(self->st, text_of(t2), T0, &bob));
}

TEST_F(store, register_joins_open_group)
{
	struct kc_client_reg alice = reg_for("alice");
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client c;

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	ASSERT_EQ(0, kc_store_begin(self->st));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(token), T0, &alice));
	kc_store_rollback(self->st);
	EXPECT_EQ(-ENOENT, kc_store_client_get(self->st, "alice", &c));
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(token), T0));
}

/* The token itself is never on disk, only its SHA-256 in hex. */
TEST_F(store, only_token_hash_is_stored)
{
	char token[KC_TOKEN_TEXT_LEN + 1], hex[65];
	unsigned char md[32];
	unsigned int md_len;
	sqlite3_stmt *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	ASSERT_EQ(1, EVP_Digest(token, strlen(token), md, &md_len, EVP_sha256(),
				NULL));
	kc_hex(md, sizeof(md), hex);
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, "SELECT hash FROM tokens",
						-1, &s, NULL));
	ASSERT_EQ(SQLITE_ROW, sqlite3_step(s));
	EXPECT_STREQ(hex, (const char *)sqlite3_column_text(s, 0));
	EXPECT_EQ(SQLITE_DONE, sqlite3_step(s));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

TEST_F(store, queue_in_order)
{
	uint8_t id[KC_MSGID_LEN], inner[300];
	struct seen_msgs all = { 0 }, tail = { 0 }, two = { 0 }, none = { 0 };
	int64_t seq[5];
	unsigned int i;
	int stops = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, kc_store_begin(self->st));
	for (i = 0; i < 5; i++) {
		msg_id_of(id, i);
		memset(inner, (int)(0x10 + i), sizeof(inner));
		/* Sizes 0, 75, 150, 225, 300: the empty inner stays a blob. */
		ASSERT_EQ(0,
			  kc_store_put_message(self->st, "alice", id, "bob",
					       T0 + i, inner, i * 75, &seq[i]));
		if (i)
			ASSERT_LT(seq[i - 1], seq[i]);
	}
	ASSERT_EQ(0, kc_store_commit(self->st));

	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &all));
	ASSERT_EQ(5, all.n);
	for (i = 0; i < 5; i++) {
		msg_id_of(id, i);
		EXPECT_EQ(seq[i], all.seq[i]);
		EXPECT_STREQ("alice", all.sender[i]);
		EXPECT_EQ(0, memcmp(id, all.msg_id[i], KC_MSGID_LEN));
		EXPECT_EQ(i * 75, all.inner_len[i]);
		EXPECT_EQ(i ? 0x10 + i : 0, all.inner0[i]);
		EXPECT_EQ(T0 + i, all.stored_at[i]);
	}
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", seq[2], 0, collect,
					 &tail));
	ASSERT_EQ(2, tail.n);
	EXPECT_EQ(seq[3], tail.seq[0]);
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 2, collect, &two));
	ASSERT_EQ(2, two.n);
	EXPECT_EQ(seq[1], two.seq[1]);
	ASSERT_EQ(0,
		  kc_store_queue_iter(self->st, "alice", 0, 0, collect, &none));
	EXPECT_EQ(0, none.n);
	EXPECT_EQ(42, kc_store_queue_iter(self->st, "bob", 0, 0, stop_at_first,
					  &stops));
	EXPECT_EQ(1, stops);
}

TEST_F(store, dedup_within_and_across_groups)
{
	uint8_t id[KC_MSGID_LEN], inner[1] = { 7 };
	struct seen_msgs q = { 0 };
	int64_t seq = -1, seq2 = -1;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "carol"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	msg_id_of(id, 1);
	ASSERT_EQ(0, kc_store_begin(self->st));
	ASSERT_EQ(0, kc_store_put_message(self->st, "alice", id, "bob", T0,
					  inner, 1, &seq));
	EXPECT_EQ(1, kc_store_put_message(self->st, "alice", id, "bob", T0,
					  inner, 1, &seq2));
	EXPECT_EQ(-1, seq2);
	ASSERT_EQ(0, kc_store_commit(self->st));
	/* Same pair in a later group; another sender may reuse the msg_id. */
	ASSERT_EQ(0, kc_store_begin(self->st));
	EXPECT_EQ(1, kc_store_put_message(self->st, "alice", id, "bob", T0 + 1,
					  inner, 1, &seq2));
	EXPECT_EQ(0, kc_store_put_message(self->st, "carol", id, "bob", T0 + 1,
					  inner, 1, &seq2));
	ASSERT_EQ(0, kc_store_commit(self->st));
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(2, q.n);
	EXPECT_EQ(seq, q.seq[0]);
	EXPECT_STREQ("alice", q.sender[0]);
	EXPECT_STREQ("carol", q.sender[1]);
}

TEST_F(store, dedup_survives_reopen_and_delivery)
{
	char sender[KC_CLIENT_ID_MAX + 1];
	uint8_t id[KC_MSGID_LEN];
	int64_t seq;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 3, "bob", T0, &seq));
	reopen(_metadata, self);
	EXPECT_EQ(1, put_one(self->st, "alice", 3, "bob", T0 + 5, &seq));
	msg_id_of(id, 3);
	ASSERT_EQ(0, kc_store_delivered(self->st, "bob", id, sender, NULL));
	/* Delivered and deleted, still remembered (PROTOCOL.md: 7 days). */
	EXPECT_EQ(1, put_one(self->st, "alice", 3, "bob", T0 + 6, &seq));
}

TEST_F(store, put_needs_group_and_known_clients)
{
	uint8_t id[KC_MSGID_LEN], inner[1] = { 1 };
	struct seen_msgs q = { 0 };
	int64_t seq;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	msg_id_of(id, 1);
	EXPECT_EQ(-EINVAL, kc_store_put_message(self->st, "alice", id, "bob",
						T0, inner, 1, &seq));
	ASSERT_EQ(0, kc_store_begin(self->st));
	EXPECT_EQ(-EBUSY, kc_store_begin(self->st));
	EXPECT_EQ(-ENOENT, kc_store_put_message(self->st, "alice", id, "nobody",
						T0, inner, 1, &seq));
	EXPECT_EQ(-ENOENT, kc_store_put_message(self->st, "nobody", id, "bob",
						T0, inner, 1, &seq));
	/* The group goes on, and the refused pair was not remembered. */
	EXPECT_EQ(0, kc_store_put_message(self->st, "alice", id, "bob", T0,
					  inner, 1, &seq));
	ASSERT_EQ(0, kc_store_commit(self->st));
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(1, q.n);
	EXPECT_EQ(-EINVAL, kc_store_commit(self->st));
}

TEST_F(store, delivered_only_by_recipient)
{
	char sender[KC_CLIENT_ID_MAX + 1] = "";
	struct seen_receipts r = { 0 }, none = { 0 };
	struct seen_msgs q = { 0 };
	uint8_t id[KC_MSGID_LEN];
	int64_t seq, rid = -1;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 9, "bob", T0, &seq));
	msg_id_of(id, 9);
	EXPECT_EQ(-ENOENT,
		  kc_store_delivered(self->st, "alice", id, sender, NULL));
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(1, q.n);
	ASSERT_EQ(0, kc_store_receipts_iter(self->st, "alice", collect_receipt,
					    &none));
	EXPECT_EQ(0, none.n);

	ASSERT_EQ(0, kc_store_delivered(self->st, "bob", id, sender, &rid));
	EXPECT_STREQ("alice", sender);
	q.n = 0;
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(0, q.n);
	EXPECT_EQ(-ENOENT, kc_store_delivered(self->st, "bob", id, sender, NULL));

	ASSERT_EQ(0, kc_store_receipts_iter(self->st, "alice", collect_receipt,
					    &r));
	ASSERT_EQ(1, r.n);
	EXPECT_EQ(0, memcmp(id, r.msg_id[0], KC_MSGID_LEN));
	EXPECT_STREQ("bob", r.recipient[0]);
	EXPECT_EQ(rid, r.id[0]);
	none.n = 0;
	ASSERT_EQ(0, kc_store_receipts_iter(self->st, "bob", collect_receipt,
					    &none));
	EXPECT_EQ(0, none.n);
	EXPECT_EQ(0, kc_store_receipt_done(self->st, r.id[0]));
	EXPECT_EQ(-ENOENT, kc_store_receipt_done(self->st, r.id[0]));
	r.n = 0;
	ASSERT_EQ(0, kc_store_receipts_iter(self->st, "alice", collect_receipt,
					    &r));
	EXPECT_EQ(0, r.n);
}

TEST_F(store, rollback_loses_nothing_committed)
{
	uint8_t id[KC_MSGID_LEN], inner[4] = { 1, 2, 3, 4 };
	struct seen_msgs q = { 0 };
	int64_t seq1, seq2;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq1));
	ASSERT_EQ(0, kc_store_begin(self->st));
	msg_id_of(id, 2);
	ASSERT_EQ(0, kc_store_put_message(self->st, "alice", id, "bob", T0,
					  inner, sizeof(inner), &seq2));
	kc_store_rollback(self->st);
	kc_store_rollback(self->st); /* harmless twice */
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(seq1, q.seq[0]);
	/* The rolled-back pair was never seen: it can be stored now. */
	EXPECT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq2));
	/* Closing with a group open drops that group, nothing else. */
	ASSERT_EQ(0, kc_store_begin(self->st));
	msg_id_of(id, 3);
	ASSERT_EQ(0, kc_store_put_message(self->st, "alice", id, "bob", T0,
					  inner, sizeof(inner), &seq2));
	reopen(_metadata, self);
	q.n = 0;
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(2, q.n);
}

TEST_F(store, reopen_keeps_everything)
{
	char t_used[KC_TOKEN_TEXT_LEN + 1], t_free[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice");
	char sender[KC_CLIENT_ID_MAX + 1];
	struct seen_receipts r = { 0 };
	struct seen_msgs q = { 0 };
	uint8_t id[KC_MSGID_LEN];
	struct kc_client c;
	int64_t seq;

	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 600, t_used));
	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 600, t_free));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(t_used), T0, &alice));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	ASSERT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq));
	msg_id_of(id, 1);
	ASSERT_EQ(0, kc_store_delivered(self->st, "bob", id, sender, NULL));
	ASSERT_EQ(0, kc_store_revoke(self->st, "bob"));
	reopen(_metadata, self);

	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_token_check(self->st, text_of(t_used), T0));
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(t_free), T0));
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_FALSE(c.revoked);
	kc_client_free(&c);
	ASSERT_EQ(0, kc_store_client_get(self->st, "bob", &c));
	EXPECT_TRUE(c.revoked);
	kc_client_free(&c);
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(seq, q.seq[0]);
	ASSERT_EQ(0, kc_store_receipts_iter(self->st, "alice", collect_receipt,
					    &r));
	EXPECT_EQ(1, r.n);
	/* Positions are never reused after a delete and a reopen. */
	EXPECT_EQ(0, put_one(self->st, "alice", 3, "bob", T0, &seq));
	EXPECT_LT(q.seq[0], seq);
}

TEST_F(store, revoke)
{
	struct kc_client c;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	EXPECT_EQ(-ENOENT, kc_store_revoke(self->st, "mallory"));
	ASSERT_EQ(0, kc_store_revoke(self->st, "alice"));
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_TRUE(c.revoked);
	kc_client_free(&c);
	EXPECT_EQ(0, kc_store_revoke(self->st, "alice"));
}

TEST_F(store, prune_keeps_queued_pairs_seven_days)
{
	char sender[KC_CLIENT_ID_MAX + 1], token[KC_TOKEN_TEXT_LEN + 1];
	uint8_t id[KC_MSGID_LEN];
	int64_t seq;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, kc_store_token_new(self->st, T0, 60, token));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	ASSERT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq));
	msg_id_of(id, 1);
	ASSERT_EQ(0, kc_store_delivered(self->st, "bob", id, sender, NULL));

	/* Not yet seven days: both pairs stay. */
	ASSERT_EQ(0, kc_store_prune(self->st, T0 + KC_SEEN_KEEP_MS));
	EXPECT_EQ(1, put_one(self->st, "alice", 1, "bob", T0, &seq));
	EXPECT_EQ(-KC_EXPIRED, kc_store_token_check(self->st, text_of(token),
						    T0 + KC_SEEN_KEEP_MS));
	/* Past it: the delivered pair goes, the queued one stays. */
	ASSERT_EQ(0, kc_store_prune(self->st, T0 + KC_SEEN_KEEP_MS + DAY_MS));
	EXPECT_EQ(1, put_one(self->st, "alice", 2, "bob", T0, &seq));
	EXPECT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	EXPECT_EQ(-KC_BAD_TOKEN, kc_store_token_check(self->st, text_of(token),
						      T0 + 8 * DAY_MS));
}

/* Messages until the capped store is full, then nothing of that group. */
TEST_F(store, full_store_is_enospc)
{
	uint8_t id[KC_MSGID_LEN], inner[4000];
	struct seen_msgs q = { 0 };
	int64_t seq, committed = 0;
	struct stat sb;
	unsigned int i;
	int ret = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 200, "bob", T0, &committed));
	ASSERT_EQ(0, stat(self->path, &sb));
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 64 * 1024));
	memset(inner, 0x5a, sizeof(inner));
	ASSERT_EQ(0, kc_store_begin(self->st));
	for (i = 0; !ret && i < 100; i++) {
		msg_id_of(id, i);
		ret = kc_store_put_message(self->st, "alice", id, "bob", T0,
					   inner, sizeof(inner), &seq);
	}
	if (!ret)
		ret = kc_store_commit(self->st);
	EXPECT_EQ(-ENOSPC, ret);
	kc_store_rollback(self->st);

	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(committed, q.seq[0]);
	/* Without the cap the same messages go in. */
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 0));
	EXPECT_EQ(0, put_one(self->st, "alice", 0, "bob", T0, &seq));
}

/*
 * A write the kernel refuses (RLIMIT_FSIZE: EFBIG) fails the group with
 * -EIO or -ENOSPC, never with 0, and the committed past survives.
 */
TEST_F(store, failed_write_never_reports_stored)
{
	uint8_t id[KC_MSGID_LEN], inner[16384];
	struct rlimit lim;
	struct seen_msgs q = { 0 };
	int64_t seq, committed;
	struct stat sb, wal;
	char wal_path[160];
	unsigned int i;
	int ret = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 200, "bob", T0, &committed));
	snprintf(wal_path, sizeof(wal_path), "%s-wal", self->path);
	ASSERT_EQ(0, stat(self->path, &sb));
	ASSERT_EQ(0, stat(wal_path, &wal));
	/* SIGXFSZ would kill the test; as ignored, write() says EFBIG. */
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &lim));
	lim.rlim_cur =
		(rlim_t)(wal.st_size > sb.st_size ? wal.st_size : sb.st_size) +
		8192;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &lim));

	memset(inner, 0xa5, sizeof(inner));
	ASSERT_EQ(0, kc_store_begin(self->st));
	for (i = 0; !ret && i < 200; i++) {
		msg_id_of(id, i);
		ret = kc_store_put_message(self->st, "alice", id, "bob", T0,
					   inner, sizeof(inner), &seq);
	}
	if (!ret)
		ret = kc_store_commit(self->st);
	TH_LOG("failed write reported as %d", ret);
	EXPECT_TRUE(ret == -EIO || ret == -ENOSPC);
	kc_store_rollback(self->st);

	lim.rlim_cur = lim.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &lim));
	reopen(_metadata, self);
	ASSERT_EQ(0, kc_store_queue_iter(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(committed, q.seq[0]);
	EXPECT_EQ(0, put_one(self->st, "alice", 0, "bob", T0, &seq));
}

TEST_HARNESS_MAIN
