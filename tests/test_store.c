// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent store (agent/store/store.h) on its SQLite implementation in a
 * temporary directory.
 *
 * register.*: tokens are used up exactly when REGISTER succeeds; EXISTS
 * leaves the token usable; only the token's SHA-256 is on disk (checked
 * with a second, plain SQLite connection and OpenSSL's digest); a batch
 * of tokens is stored whole or not at all.
 * receipts: added all or none, walked per sender oldest first, forgotten
 * once written. failure: a full store (size cap) and a failing write
 * (RLIMIT_FSIZE) come back as -ENOSPC / -EIO, and nothing of a failed
 * write is found afterwards. schema: a store of schema 1 (with the old
 * message tables) is brought to 2, unless it still queues messages.
 * reader: a reader sees what the store committed. The messages
 * themselves are the message log's (tests/test_msglog.c).
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

/* A receipt bob's DELIVERED of alice's message n would leave. */
static struct kc_store_receipt_in receipt_of(unsigned int n)
{
	struct kc_store_receipt_in r = { .sender = "alice",
					 .recipient = "bob" };

	msg_id_of(r.msg_id, n);
	return r;
}

static int add_receipts(struct kc_store *st, unsigned int first,
			unsigned int n)
{
	struct kc_store_receipt_in r[64];

	for (unsigned int i = 0; i < n; i++)
		r[i] = receipt_of(first + i);
	return kc_store_receipts_add(st, r, n);
}

/* How many receipts sender has (the first MAX_SEEN of them kept in r). */
static unsigned int receipts_of(struct kc_store *st, const char *sender,
				struct seen_receipts *r)
{
	memset(r, 0, sizeof(*r));
	if (kc_store_receipts_walk(st, sender, collect_receipt, r) == -E2BIG)
		return MAX_SEEN + 1;
	return r->n;
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

TEST_F(store, receipts_walk_and_forget)
{
	struct seen_receipts r;
	uint8_t id[KC_MSGID_LEN];

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	EXPECT_EQ(0, receipts_of(self->st, "alice", &r));
	ASSERT_EQ(0, add_receipts(self->st, 1, 3));
	ASSERT_EQ(3, receipts_of(self->st, "alice", &r));
	EXPECT_EQ(0, receipts_of(self->st, "bob", &r));
	ASSERT_EQ(3, receipts_of(self->st, "alice", &r));
	for (unsigned int i = 0; i < 3; i++) {
		msg_id_of(id, 1 + i);
		EXPECT_EQ(0, memcmp(id, r.msg_id[i], KC_MSGID_LEN));
		EXPECT_STREQ("bob", r.recipient[i]);
		if (i)
			EXPECT_LT(r.id[i - 1], r.id[i]);
	}
	kc_store_receipts_forget(self->st, r.id, 2);
	/* Best effort: a receipt already forgotten fails nothing. */
	kc_store_receipts_forget(self->st, r.id, 1);
	ASSERT_EQ(1, receipts_of(self->st, "alice", &r));
	msg_id_of(id, 3);
	EXPECT_EQ(0, memcmp(id, r.msg_id[0], KC_MSGID_LEN));
	reopen(_metadata, self);
	EXPECT_EQ(1, receipts_of(self->st, "alice", &r));
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

/* A write that cannot reach the disk leaves no trace. */
TEST_F(store, failed_receipts_change_nothing)
{
	struct seen_receipts r;
	int ret;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, add_receipts(self->st, 1, 1));
	/* Not one more byte: the commit cannot write its WAL frames. */
	ASSERT_EQ(0, cap_file_size(self->path, 0));
	ret = add_receipts(self->st, 10, 5);
	ASSERT_EQ(0, uncap_file_size());
	TH_LOG("failed commit reported as %d", ret);
	EXPECT_TRUE(ret == -EIO || ret == -ENOSPC);
	reopen(_metadata, self);
	EXPECT_EQ(1, receipts_of(self->st, "alice", &r));
	EXPECT_EQ(0, add_receipts(self->st, 10, 5));
	EXPECT_EQ(6, receipts_of(self->st, "alice", &r));
}

TEST_F(store, reopen_keeps_everything)
{
	char t_used[KC_TOKEN_TEXT_LEN + 1], t_free[KC_TOKEN_TEXT_LEN + 1];
	struct kc_client_reg alice = reg_for("alice");
	struct seen_receipts r;
	struct kc_stored_client c;

	ASSERT_EQ(0, new_token(self->st, T0, 600, t_used));
	ASSERT_EQ(0, new_token(self->st, T0, 600, t_free));
	ASSERT_EQ(0, kc_store_register(self->st, text_of(t_used), T0, &alice));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, add_receipts(self->st, 1, 2));
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
	EXPECT_EQ(2, receipts_of(self->st, "alice", &r));
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

TEST_F(store, prune_forgets_tokens_after_seven_days)
{
	char token[KC_TOKEN_TEXT_LEN + 1];

	ASSERT_EQ(0, new_token(self->st, T0, 60, token));
	/* Expired, but for KC_TOKEN_KEEP_MS it says so. */
	ASSERT_EQ(0, kc_store_prune(self->st, T0 + KC_TOKEN_KEEP_MS));
	EXPECT_EQ(-KC_EXPIRED, kc_store_token_check(self->st, text_of(token),
						    T0 + KC_TOKEN_KEEP_MS));
	ASSERT_EQ(0, kc_store_prune(self->st, T0 + KC_TOKEN_KEEP_MS + DAY_MS));
	EXPECT_EQ(-KC_BAD_TOKEN, kc_store_token_check(self->st, text_of(token),
						      T0 + 8 * DAY_MS));
}

/* Receipts until the capped store is full, then nothing of that write. */
TEST_F(store, full_store_is_enospc)
{
	struct seen_receipts r;
	int ret = 0;

	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	ASSERT_EQ(0, add_receipts(self->st, 1, 1));
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 64 * 1024));
	for (unsigned int i = 0; !ret && i < 4000; i++)
		ret = add_receipts(self->st, 100 + 64 * i, 64);
	EXPECT_EQ(-ENOSPC, ret);
	ASSERT_EQ(0, kc_store_set_max_bytes(self->st, 0));
	EXPECT_EQ(0, add_receipts(self->st, 1, 1));
	EXPECT_LT(1, receipts_of(self->st, "alice", &r));
}

/* Schema 1 had the message queue: empty, it goes; holding messages, no. */
static int make_schema_1(const char *path, bool with_message)
{
	static const char v1[] =
		"CREATE TABLE clients (id TEXT PRIMARY KEY NOT NULL,"
		" cert BLOB NOT NULL, enc_spki BLOB NOT NULL,"
		" enc_sig BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
		" created_ms INTEGER NOT NULL) WITHOUT ROWID;"
		"CREATE TABLE tokens (hash TEXT PRIMARY KEY NOT NULL,"
		" expires_ms INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
		" WITHOUT ROWID;"
		"CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		" sender TEXT NOT NULL, msg_id BLOB NOT NULL,"
		" recipient TEXT NOT NULL, stored_at_ms INTEGER NOT NULL,"
		" inner BLOB NOT NULL, UNIQUE (sender, msg_id));"
		"CREATE INDEX messages_by_recipient ON messages (recipient, seq);"
		"CREATE INDEX messages_by_msg_id ON messages (recipient, msg_id);"
		"CREATE TABLE seen (sender TEXT NOT NULL, msg_id BLOB NOT NULL,"
		" at_ms INTEGER NOT NULL, PRIMARY KEY (sender, msg_id))"
		" WITHOUT ROWID;"
		"CREATE INDEX seen_by_age ON seen (at_ms);"
		"CREATE TABLE receipts (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		" sender TEXT NOT NULL, msg_id BLOB NOT NULL,"
		" recipient TEXT NOT NULL);"
		"CREATE INDEX receipts_by_sender ON receipts (sender, id);"
		"PRAGMA user_version = 1;";
	sqlite3 *db;
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, v1, NULL, NULL, NULL);
	if (rc == SQLITE_OK && with_message)
		rc = sqlite3_exec(db,
				  "INSERT INTO messages (sender, msg_id,"
				  " recipient, stored_at_ms, inner) VALUES"
				  " ('a', x'00', 'b', 1, x'00')",
				  NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

TEST_F(store, schema_1_becomes_2_unless_messages_wait)
{
	char empty[160], busy[160];
	struct kc_store *st = NULL;

	snprintf(empty, sizeof(empty), "%s/v1-empty.db", self->dir);
	snprintf(busy, sizeof(busy), "%s/v1-busy.db", self->dir);
	ASSERT_EQ(0, make_schema_1(empty, false));
	ASSERT_EQ(0, make_schema_1(busy, true));
	ASSERT_EQ(0, kc_sqlite_open(empty, false, &st));
	EXPECT_EQ(0, count_rows(empty, "clients"));
	EXPECT_EQ(-1, count_rows(empty, "messages"));
	kc_store_close(st);
	st = NULL;
	EXPECT_EQ(-ENOTEMPTY, kc_sqlite_open(busy, false, &st));
	EXPECT_EQ(NULL, st);
	EXPECT_EQ(1, count_rows(busy, "messages"));
}

/*
 * A reader sees every commit of the store as of its last sync, and keeps
 * its answers between syncs (one per loop turn in the agent).
 */
TEST_F(store, reader_sees_commits_after_sync)
{
	struct kc_store_reader *r = NULL;

	ASSERT_EQ(0, kc_store_reader_open(self->st, &r));
	kc_store_reader_sync(r);
	EXPECT_EQ(-ENOENT, kc_store_reader_client_live(r, "alice"));
	ASSERT_EQ(0, add_client(self->st, "alice"));
	ASSERT_EQ(0, add_client(self->st, "bob"));
	/* Not synced yet: the answer it had. */
	EXPECT_EQ(-ENOENT, kc_store_reader_client_live(r, "alice"));
	kc_store_reader_sync(r);
	EXPECT_EQ(0, kc_store_reader_client_live(r, "alice"));
	ASSERT_EQ(0, kc_store_revoke(self->st, "alice"));
	kc_store_reader_sync(r);
	EXPECT_EQ(-ENOENT, kc_store_reader_client_live(r, "alice"));
	EXPECT_EQ(0, kc_store_reader_client_live(r, "bob"));
	/* Nothing changed: the same answers, from memory. */
	kc_store_reader_sync(r);
	EXPECT_EQ(0, kc_store_reader_client_live(r, "bob"));
	kc_store_reader_close(r);
	kc_store_reader_close(NULL);
}

TEST_HARNESS_MAIN
