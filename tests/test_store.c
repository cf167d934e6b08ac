// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent store (agent/store/store.h) on its SQLite implementation in a
 * temporary directory.
 *
 * register.*: tokens are used up exactly when REGISTER succeeds; EXISTS
 * leaves the token usable; only the token's SHA-256 is on disk (checked
 * with a second, plain SQLite connection and OpenSSL's digest); a batch
 * of tokens is stored whole or not at all.
 * queue.*: groups, ACK order, deduplication by (sender, msg_id) within a
 * group, across groups, across close/reopen and after delivery.
 * delivered.*: only the recipient's DELIVERED takes a message, and it
 * leaves a receipt. failure.*: a full store (size cap) and a failing write
 * (RLIMIT_FSIZE) come back as -ENOSPC / -EIO, and nothing of a failed
 * group (puts, takes, forgotten receipts) is ever found afterwards.
 * reader.*: a reader sees what the store committed.
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

#include "../agent/store/sqlite.h"
#include "../agent/store/store.h"
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
	ASSERT_EQ(0, kc_sqlite_open(self->path, true, &self->st));
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
	ASSERT_EQ(0, kc_sqlite_open(self->path, false, &self->st));
}

/* One token: 0 or -errno. */
static int new_token(struct kc_store *st, int64_t now, uint32_t ttl_s,
		     char token[KC_TOKEN_TEXT_LEN + 1])
{
	return kc_store_tokens_new(st, now, ttl_s, 1,
				   (char(*)[KC_TOKEN_TEXT_LEN + 1]) token);
}

/* A registered client, through a fresh token as the agent would. */
static int add_client(struct kc_store *st, const char *id)
{
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg reg = reg_for(id);
	int ret;

	ret = new_token(st, T0, 3600, token);
	if (!ret)
		ret = kc_store_register(st, text_of(token), T0, &reg);
	return ret;
}

static struct kc_store_put put_of(const char *from, const uint8_t *id,
				  const char *to, const uint8_t *inner,
				  size_t inner_len)
{
	return (struct kc_store_put){ .sender = from,
				      .recipient = to,
				      .msg_id = id,
				      .inner = inner,
				      .inner_len = inner_len,
				      .seq = -1 };
}

/* A group of puts only. */
static int put_group(struct kc_store *st, struct kc_store_put *puts, size_t n,
		     int64_t now)
{
	struct kc_store_group g = { .puts = puts, .nputs = n };

	return kc_store_apply(st, &g, now);
}

/*
 * One message in its own group: 0 stored (*seq), 1 seen before, -ENOENT
 * an unknown client, or the group's -errno.
 */
static int put_one(struct kc_store *st, const char *from, unsigned int n,
		   const char *to, int64_t now, int64_t *seq)
{
	uint8_t id[KC_MSGID_LEN], inner[3] = { (uint8_t)n, 1, 2 };
	struct kc_store_put p;
	int ret;

	msg_id_of(id, n);
	p = put_of(from, id, to, inner, sizeof(inner));
	ret = put_group(st, &p, 1, now);
	if (ret)
		return ret;
	if (p.result == KC_STORE_STORED)
		*seq = p.seq;
	return p.result == KC_STORE_STORED ? 0
	       : p.result == KC_STORE_SEEN ? 1
					   : -ENOENT;
}

/*
 * DELIVERED in its own group: 0 taken (sender, *receipt_id unless NULL),
 * -ENOENT not queued for recipient, or the group's -errno.
 */
static int take_one(struct kc_store *st, const char *recipient,
		    const uint8_t id[KC_MSGID_LEN],
		    char sender[KC_CLIENT_ID_MAX + 1], int64_t *receipt_id)
{
	struct kc_store_take t = { .recipient = recipient, .msg_id = id };
	struct kc_store_group g = { .takes = &t, .ntakes = 1 };
	int ret;

	ret = kc_store_apply(st, &g, T0);
	if (ret)
		return ret;
	if (!t.taken)
		return -ENOENT;
	strcpy(sender, t.sender);
	if (receipt_id)
		*receipt_id = t.receipt_id;
	return 0;
}

/* Forgets a receipt written to a connection, in its own group. */
static int forget_receipt(struct kc_store *st, int64_t receipt_id)
{
	struct kc_store_group g = { .receipts_done = &receipt_id,
				    .nreceipts_done = 1 };

	return kc_store_apply(st, &g, T0);
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
	EXPECT_EQ(-ENOENT, kc_sqlite_open(missing, false, &other));
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
	EXPECT_EQ(KC_SQLITE_SCHEMA_VERSION, sqlite3_column_int(s, 0));
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
	EXPECT_EQ(-EPROTO, kc_sqlite_open(self->path, false, &again));
	EXPECT_EQ(NULL, again);
}

TEST_F(store, register_uses_token_once)
{
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice"), bob = reg_for("bob");
	struct kc_stored_client c;
	size_t i;

	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
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
	kc_stored_client_free(&c);
}

TEST_F(store, register_unknown_token)
{
	struct kc_client_reg alice = reg_for("alice");
	char token[KC_TOKEN_TEXT_LEN + 1];

	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
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

	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
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
	struct kc_stored_client c;

	alice2.cert = bytes_of(other_cert, sizeof(other_cert));
	ASSERT_EQ(0, new_token(self->st, T0, 60, t1));
	ASSERT_EQ(0, new_token(self->st, T0, 60, t2));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(t1), T0, &alice));
	EXPECT_EQ(-KC_EXISTS,
		  kc_store_register(self->st, text_of(t2), T0, &alice2));
	/* The first registration is untouched ... */
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_EQ(sizeof(cert_a), c.cert_len);
	kc_stored_client_free(&c);
	/* ... and t2 was not spent. */
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(t2), T0));
	EXPECT_EQ(0, kc_store_register(self->st, text_of(t2), T0, &bob));
}

/* Rows of a table, through a plain SQLite connection: -1 on failure. */
static int count_rows(const char *path, const char *table)
{
	sqlite3_stmt *s = NULL;
	char sql[64];
	sqlite3 *db;
	int n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* A batch of tokens is stored whole or not at all, like `kcourierd token`. */
TEST_F(store, register_tokens_all_or_none)
{
	static char texts[1000][KC_TOKEN_TEXT_LEN + 1];
	const char zero[KC_TOKEN_TEXT_LEN + 1] = { 0 };
	unsigned int i;

	ASSERT_EQ(0, kc_store_tokens_new(self->st, T0, 60, 3, texts));
	EXPECT_STRNE(texts[0], texts[1]);
	EXPECT_STRNE(texts[1], texts[2]);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, kc_store_token_check(self->st, text_of(texts[i]),
						  T0));
	ASSERT_EQ(3, count_rows(self->path, "tokens"));
	/* Far more than the cap leaves room for: none of them, texts wiped. */
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 64 * 1024));
	EXPECT_EQ(-ENOSPC, kc_store_tokens_new(self->st, T0, 60, 1000, texts));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, memcmp(zero, texts[i], sizeof(zero)));
	EXPECT_EQ(3, count_rows(self->path, "tokens"));
}

/* The token itself is never on disk, only its SHA-256 in hex. */
TEST_F(store, only_token_hash_is_stored)
{
	char token[KC_TOKEN_TEXT_LEN + 1], hex[65];
	unsigned char md[32];
	unsigned int md_len;
	sqlite3_stmt *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
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
	uint8_t ids[5][KC_MSGID_LEN], inner[5][300], id[KC_MSGID_LEN];
	struct seen_msgs all = { 0 }, tail = { 0 }, two = { 0 }, none = { 0 };
	struct kc_store_put p[5];
	int64_t seq[5];
	unsigned int i;
	int stops = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	for (i = 0; i < 5; i++) {
		msg_id_of(ids[i], i);
		memset(inner[i], (int)(0x10 + i), sizeof(inner[i]));
		/* Sizes 0, 75, 150, 225, 300: the empty inner stays a blob. */
		p[i] = put_of("alice", ids[i], "bob", inner[i], i * 75);
	}
	ASSERT_EQ(0, put_group(self->st, p, 5, T0));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(KC_STORE_STORED, p[i].result);
		seq[i] = p[i].seq;
		if (i)
			ASSERT_LT(seq[i - 1], seq[i]);
	}

	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &all));
	ASSERT_EQ(5, all.n);
	for (i = 0; i < 5; i++) {
		msg_id_of(id, i);
		EXPECT_EQ(seq[i], all.seq[i]);
		EXPECT_STREQ("alice", all.sender[i]);
		EXPECT_EQ(0, memcmp(id, all.msg_id[i], KC_MSGID_LEN));
		EXPECT_EQ(i * 75, all.inner_len[i]);
		EXPECT_EQ(i ? 0x10 + i : 0, all.inner0[i]);
		EXPECT_EQ(T0, all.stored_at[i]);
	}
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", seq[2], 0, collect,
					 &tail));
	ASSERT_EQ(2, tail.n);
	EXPECT_EQ(seq[3], tail.seq[0]);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 2, collect, &two));
	ASSERT_EQ(2, two.n);
	EXPECT_EQ(seq[1], two.seq[1]);
	ASSERT_EQ(0,
		  kc_store_queue_walk(self->st, "alice", 0, 0, collect, &none));
	EXPECT_EQ(0, none.n);
	EXPECT_EQ(42, kc_store_queue_walk(self->st, "bob", 0, 0, stop_at_first,
					  &stops));
	EXPECT_EQ(1, stops);
}

TEST_F(store, dedup_within_and_across_groups)
{
	uint8_t id[KC_MSGID_LEN], inner[1] = { 7 };
	struct seen_msgs q = { 0 };
	struct kc_store_put p[2];
	int64_t seq;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "carol"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	msg_id_of(id, 1);
	p[0] = put_of("alice", id, "bob", inner, 1);
	p[1] = p[0];
	ASSERT_EQ(0, put_group(self->st, p, 2, T0));
	ASSERT_EQ(KC_STORE_STORED, p[0].result);
	EXPECT_EQ(KC_STORE_SEEN, p[1].result);
	seq = p[0].seq;
	/* Same pair in a later group; another sender may reuse the msg_id. */
	p[1] = put_of("carol", id, "bob", inner, 1);
	ASSERT_EQ(0, put_group(self->st, p, 2, T0 + 1));
	EXPECT_EQ(KC_STORE_SEEN, p[0].result);
	EXPECT_EQ(KC_STORE_STORED, p[1].result);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
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
	ASSERT_EQ(0, take_one(self->st, "bob", id, sender, NULL));
	/* Delivered and deleted, still remembered (PROTOCOL.md: 7 days). */
	EXPECT_EQ(1, put_one(self->st, "alice", 3, "bob", T0 + 6, &seq));
}

TEST_F(store, put_needs_known_clients)
{
	uint8_t id[KC_MSGID_LEN], inner[1] = { 1 };
	struct seen_msgs q = { 0 };
	struct kc_store_put p[3];

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	msg_id_of(id, 1);
	p[0] = put_of("alice", id, "nobody", inner, 1);
	p[1] = put_of("nobody", id, "bob", inner, 1);
	p[2] = put_of("alice", id, "bob", inner, 1);
	ASSERT_EQ(0, put_group(self->st, p, 3, T0));
	EXPECT_EQ(KC_STORE_NO_CLIENT, p[0].result);
	EXPECT_EQ(KC_STORE_NO_CLIENT, p[1].result);
	/* The group went on, and the refused pair was not remembered. */
	EXPECT_EQ(KC_STORE_STORED, p[2].result);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(1, q.n);
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
	EXPECT_EQ(-ENOENT, take_one(self->st, "alice", id, sender, NULL));
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(1, q.n);
	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "alice", collect_receipt,
					    &none));
	EXPECT_EQ(0, none.n);

	ASSERT_EQ(0, take_one(self->st, "bob", id, sender, &rid));
	EXPECT_STREQ("alice", sender);
	q.n = 0;
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	EXPECT_EQ(0, q.n);
	EXPECT_EQ(-ENOENT, take_one(self->st, "bob", id, sender, NULL));

	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "alice", collect_receipt,
					    &r));
	ASSERT_EQ(1, r.n);
	EXPECT_EQ(0, memcmp(id, r.msg_id[0], KC_MSGID_LEN));
	EXPECT_STREQ("bob", r.recipient[0]);
	EXPECT_EQ(rid, r.id[0]);
	none.n = 0;
	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "bob", collect_receipt,
					    &none));
	EXPECT_EQ(0, none.n);
	EXPECT_EQ(0, forget_receipt(self->st, r.id[0]));
	/* Best effort: a receipt already forgotten fails nothing. */
	EXPECT_EQ(0, forget_receipt(self->st, r.id[0]));
	r.n = 0;
	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "alice", collect_receipt,
					    &r));
	EXPECT_EQ(0, r.n);
}

/*
 * Lets the store's files grow by at most extra bytes (RLIMIT_FSIZE), so
 * that a write beyond fails with EFBIG rather than SIGXFSZ.
 */
static int cap_file_size(const char *path, off_t extra)
{
	struct stat sb, wal;
	struct rlimit lim;
	char wal_path[160];

	snprintf(wal_path, sizeof(wal_path), "%s-wal", path);
	if (stat(path, &sb) || stat(wal_path, &wal) ||
	    getrlimit(RLIMIT_FSIZE, &lim))
		return -errno;
	signal(SIGXFSZ, SIG_IGN);
	lim.rlim_cur =
		(rlim_t)(wal.st_size > sb.st_size ? wal.st_size : sb.st_size) +
		(rlim_t)extra;
	return setrlimit(RLIMIT_FSIZE, &lim) ? -errno : 0;
}

static int uncap_file_size(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_FSIZE, &lim))
		return -errno;
	lim.rlim_cur = lim.rlim_max;
	return setrlimit(RLIMIT_FSIZE, &lim) ? -errno : 0;
}

/*
 * A group whose commit fails leaves no trace: its put is unseen, its
 * take leaves the message queued, its forgotten receipt stays pending.
 */
TEST_F(store, failed_group_changes_nothing)
{
	uint8_t id1[KC_MSGID_LEN], id2[KC_MSGID_LEN], id3[KC_MSGID_LEN];
	char sender[KC_CLIENT_ID_MAX + 1];
	const uint8_t inner[4] = { 1, 2, 3, 4 };
	struct seen_receipts r = { 0 };
	struct seen_msgs q = { 0 };
	struct kc_store_put p;
	struct kc_store_take t = { .recipient = "bob", .msg_id = id2 };
	int64_t seq1, seq2, rid;
	struct kc_store_group g = { .puts = &p,
				    .nputs = 1,
				    .takes = &t,
				    .ntakes = 1,
				    .receipts_done = &rid,
				    .nreceipts_done = 1 };
	int ret;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq1));
	ASSERT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq2));
	msg_id_of(id1, 1);
	msg_id_of(id2, 2);
	msg_id_of(id3, 3);
	ASSERT_EQ(0, take_one(self->st, "bob", id1, sender, &rid));
	p = put_of("alice", id3, "bob", inner, sizeof(inner));

	/* Not one more byte: the group's commit cannot write its WAL frames. */
	ASSERT_EQ(0, cap_file_size(self->path, 0));
	ret = kc_store_apply(self->st, &g, T0);
	ASSERT_EQ(0, uncap_file_size());
	TH_LOG("failed commit reported as %d", ret);
	EXPECT_TRUE(ret == -EIO || ret == -ENOSPC);

	reopen(_metadata, self);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(seq2, q.seq[0]);
	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "alice", collect_receipt,
					    &r));
	ASSERT_EQ(1, r.n);
	EXPECT_EQ(rid, r.id[0]);
	EXPECT_EQ(0, put_one(self->st, "alice", 3, "bob", T0, &seq1));
}

TEST_F(store, reopen_keeps_everything)
{
	char t_used[KC_TOKEN_TEXT_LEN + 1], t_free[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice");
	char sender[KC_CLIENT_ID_MAX + 1];
	struct seen_receipts r = { 0 };
	struct seen_msgs q = { 0 };
	uint8_t id[KC_MSGID_LEN];
	struct kc_stored_client c;
	int64_t seq;

	ASSERT_EQ(0, new_token(self->st, T0, 600, t_used));
	ASSERT_EQ(0, new_token(self->st, T0, 600, t_free));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(t_used), T0, &alice));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	ASSERT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq));
	msg_id_of(id, 1);
	ASSERT_EQ(0, take_one(self->st, "bob", id, sender, NULL));
	ASSERT_EQ(0, kc_store_revoke(self->st, "bob"));
	reopen(_metadata, self);

	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_token_check(self->st, text_of(t_used), T0));
	EXPECT_EQ(0, kc_store_token_check(self->st, text_of(t_free), T0));
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_FALSE(c.revoked);
	kc_stored_client_free(&c);
	ASSERT_EQ(0, kc_store_client_get(self->st, "bob", &c));
	EXPECT_TRUE(c.revoked);
	kc_stored_client_free(&c);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(seq, q.seq[0]);
	ASSERT_EQ(0, kc_store_receipts_walk(self->st, "alice", collect_receipt,
					    &r));
	EXPECT_EQ(1, r.n);
	/* Positions are never reused after a delete and a reopen. */
	EXPECT_EQ(0, put_one(self->st, "alice", 3, "bob", T0, &seq));
	EXPECT_LT(q.seq[0], seq);
}

TEST_F(store, revoke)
{
	struct kc_stored_client c;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	EXPECT_EQ(-ENOENT, kc_store_revoke(self->st, "mallory"));
	ASSERT_EQ(0, kc_store_revoke(self->st, "alice"));
	ASSERT_EQ(0, kc_store_client_get(self->st, "alice", &c));
	EXPECT_TRUE(c.revoked);
	kc_stored_client_free(&c);
	EXPECT_EQ(0, kc_store_revoke(self->st, "alice"));
}

TEST_F(store, prune_keeps_queued_pairs_seven_days)
{
	char sender[KC_CLIENT_ID_MAX + 1], token[KC_TOKEN_TEXT_LEN + 1];
	uint8_t id[KC_MSGID_LEN];
	int64_t seq;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	ASSERT_EQ(0, put_one(self->st, "alice", 2, "bob", T0, &seq));
	msg_id_of(id, 1);
	ASSERT_EQ(0, take_one(self->st, "bob", id, sender, NULL));

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
/* n puts from alice to bob, msg ids 0 to n - 1, all of the same inner. */
static void many_puts(struct kc_store_put *p, uint8_t (*ids)[KC_MSGID_LEN],
		      unsigned int n, const uint8_t *inner, size_t inner_len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		msg_id_of(ids[i], i);
		p[i] = put_of("alice", ids[i], "bob", inner, inner_len);
	}
}

/* Messages until the capped store is full, then nothing of that group. */
TEST_F(store, full_store_is_enospc)
{
	static uint8_t ids[100][KC_MSGID_LEN], inner[4000];
	static struct kc_store_put p[100];
	struct seen_msgs q = { 0 };
	int64_t seq, committed = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 200, "bob", T0, &committed));
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 64 * 1024));
	memset(inner, 0x5a, sizeof(inner));
	many_puts(p, ids, 100, inner, sizeof(inner));
	EXPECT_EQ(-ENOSPC, put_group(self->st, p, 100, T0));

	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
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
	static uint8_t ids[200][KC_MSGID_LEN], inner[16384];
	static struct kc_store_put p[200];
	struct seen_msgs q = { 0 };
	int64_t seq, committed;
	int ret;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, put_one(self->st, "alice", 200, "bob", T0, &committed));
	memset(inner, 0xa5, sizeof(inner));
	many_puts(p, ids, 200, inner, sizeof(inner));
	ASSERT_EQ(0, cap_file_size(self->path, 8192));
	ret = put_group(self->st, p, 200, T0);
	ASSERT_EQ(0, uncap_file_size());
	TH_LOG("failed write reported as %d", ret);
	EXPECT_TRUE(ret == -EIO || ret == -ENOSPC);

	reopen(_metadata, self);
	ASSERT_EQ(0, kc_store_queue_walk(self->st, "bob", 0, 0, collect, &q));
	ASSERT_EQ(1, q.n);
	EXPECT_EQ(committed, q.seq[0]);
	EXPECT_EQ(0, put_one(self->st, "alice", 0, "bob", T0, &seq));
}

/* A reader has its own connection and sees every commit of the store. */
TEST_F(store, reader_sees_commits)
{
	struct kc_store_reader *r = NULL;
	int64_t seq;

	ASSERT_EQ(0, kc_store_reader_open(self->st, &r));
	EXPECT_EQ(-ENOENT, kc_store_reader_client_live(r, "alice"));
	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	EXPECT_EQ(0, kc_store_reader_client_live(r, "alice"));
	ASSERT_EQ(0, put_one(self->st, "alice", 1, "bob", T0, &seq));
	ASSERT_EQ(0, kc_store_revoke(self->st, "alice"));
	EXPECT_EQ(-ENOENT, kc_store_reader_client_live(r, "alice"));
	EXPECT_EQ(0, kc_store_reader_client_live(r, "bob"));
	kc_store_reader_close(r);
	kc_store_reader_close(NULL);
}

TEST_HARNESS_MAIN
