// SPDX-License-Identifier: GPL-2.0-only
/*
 * Store connection: opening, schema and migrations, prepared statements,
 * transactions and error mapping. See store.h for the contract.
 *
 * Schema version 1 (PRAGMA user_version). The queue position is the
 * AUTOINCREMENT rowid `seq`, so positions are never reused and ACK order
 * is seq order. Every message has its (sender, msg_id) in `seen`, which
 * outlives the message by at least KC_SEEN_KEEP_MS. Clients are never
 * deleted (only revoked), so messages and receipts reference them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* How long a call waits for another process's lock before -EBUSY. */
#define BUSY_TIMEOUT_MS 5000

static const char schema_v1[] =
	"CREATE TABLE clients ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" cert BLOB NOT NULL,"
	" enc_spki BLOB NOT NULL,"
	" enc_sig BLOB NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE tokens ("
	" hash TEXT PRIMARY KEY NOT NULL," /* hex SHA-256 of the token */
	" expires_ms INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE TABLE messages ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sender TEXT NOT NULL REFERENCES clients(id),"
	" msg_id BLOB NOT NULL CHECK (length(msg_id) = 16),"
	" recipient TEXT NOT NULL REFERENCES clients(id),"
	" stored_at_ms INTEGER NOT NULL,"
	" inner BLOB NOT NULL,"
	" UNIQUE (sender, msg_id)"
	");"
	"CREATE INDEX messages_by_recipient ON messages (recipient, seq);"
	"CREATE INDEX messages_by_msg_id ON messages (recipient, msg_id);"
	"CREATE TABLE seen ("
	" sender TEXT NOT NULL,"
	" msg_id BLOB NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" PRIMARY KEY (sender, msg_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX seen_by_age ON seen (at_ms);"
	"CREATE TABLE receipts ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sender TEXT NOT NULL REFERENCES clients(id),"
	" msg_id BLOB NOT NULL CHECK (length(msg_id) = 16),"
	" recipient TEXT NOT NULL"
	");"
	"CREATE INDEX receipts_by_sender ON receipts (sender, id);";

/* migrations[v] takes a store from user_version v to v + 1. */
static const char *const migrations[KC_STORE_SCHEMA_VERSION] = {
	schema_v1,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (hash, expires_ms, used) VALUES "
			 "(?1, ?2, 0)",
	[ST_TOKEN_GET] = "SELECT expires_ms, used FROM tokens WHERE hash = ?1",
	[ST_TOKEN_USE] =
		"UPDATE tokens SET used = 1 WHERE hash = ?1 AND used = 0",
	[ST_CLIENT_EXISTS] = "SELECT 1 FROM clients WHERE id = ?1",
	[ST_CLIENT_ADD] = "INSERT INTO clients"
			  " (id, cert, enc_spki, enc_sig, revoked, created_ms)"
			  " VALUES (?1, ?2, ?3, ?4, 0, ?5)",
	[ST_CLIENT_GET] = "SELECT cert, enc_spki, enc_sig, revoked, created_ms"
			  " FROM clients WHERE id = ?1",
	[ST_CLIENT_LIVE] = "SELECT revoked FROM clients WHERE id = ?1",
	[ST_CLIENT_REVOKE] = "UPDATE clients SET revoked = 1 WHERE id = ?1",
	[ST_SEEN_GET] = "SELECT 1 FROM seen WHERE sender = ?1 AND msg_id = ?2",
	[ST_SEEN_ADD] =
		"INSERT INTO seen (sender, msg_id, at_ms) VALUES (?1, ?2, ?3)",
	[ST_MSG_ADD] = "INSERT INTO messages"
		       " (sender, msg_id, recipient, stored_at_ms, inner)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_MSG_QUEUE] = "SELECT seq, sender, msg_id, stored_at_ms, inner"
			 " FROM messages WHERE recipient = ?1 AND seq > ?2"
			 " ORDER BY seq LIMIT ?3",
	[ST_MSG_FIND] = "SELECT seq, sender FROM messages"
			" WHERE recipient = ?1 AND msg_id = ?2"
			" ORDER BY seq LIMIT 1",
	[ST_MSG_DEL] = "DELETE FROM messages WHERE seq = ?1",
	[ST_RECEIPT_ADD] = "INSERT INTO receipts (sender, msg_id, recipient)"
			   " VALUES (?1, ?2, ?3)",
	[ST_RECEIPT_LIST] = "SELECT id, msg_id, recipient FROM receipts"
			    " WHERE sender = ?1 ORDER BY id",
	[ST_RECEIPT_DEL] = "DELETE FROM receipts WHERE id = ?1",
	[ST_PRUNE_SEEN] = "DELETE FROM seen WHERE at_ms < ?1 AND NOT EXISTS"
			  " (SELECT 1 FROM messages m WHERE"
			  " m.sender = seen.sender AND m.msg_id = seen.msg_id)",
	[ST_PRUNE_TOKENS] = "DELETE FROM tokens WHERE expires_ms < ?1",
};

int store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		/* IOERR, CORRUPT, NOTADB, READONLY, CANTOPEN and the rest. */
		return -EIO;
	}
}

sqlite3_stmt *store_stmt(struct kc_store *st, enum store_stmt id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int store_exec(struct kc_store *st, enum store_stmt id)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	/* A row from a statement that should return none: a bug, not data. */
	return rc == SQLITE_ROW ? -EIO : store_err(rc);
}

int store_bind_text(sqlite3_stmt *s, int idx, const char *text)
{
	return store_err(sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC));
}

int store_bind_blob(sqlite3_stmt *s, int idx, const void *p, size_t len)
{
	/* A zero-length blob must still be a blob, not NULL. */
	if (!len)
		return store_err(sqlite3_bind_zeroblob(s, idx, 0));
	return store_err(sqlite3_bind_blob64(s, idx, p, len, SQLITE_STATIC));
}

int kc_store_begin(struct kc_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return -EBUSY;
	store_stmt(st, ST_BEGIN);
	return store_exec(st, ST_BEGIN);
}

void kc_store_rollback(struct kc_store *st)
{
	/* SQLite may already have rolled back by itself (FULL, IOERR). */
	if (sqlite3_get_autocommit(st->db))
		return;
	store_stmt(st, ST_ROLLBACK);
	store_exec(st, ST_ROLLBACK);
}

int kc_store_commit(struct kc_store *st)
{
	int ret;

	if (sqlite3_get_autocommit(st->db))
		return -EINVAL;
	store_stmt(st, ST_COMMIT);
	ret = store_exec(st, ST_COMMIT);
	/* A failed COMMIT can leave the transaction open: end it unstored. */
	if (ret)
		kc_store_rollback(st);
	return ret;
}

int store_tx_enter(struct kc_store *st, bool *own)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	return *own ? kc_store_begin(st) : 0;
}

int store_tx_leave(struct kc_store *st, bool own, int ret)
{
	if (!own)
		return ret;
	if (ret) {
		kc_store_rollback(st);
		return ret;
	}
	return kc_store_commit(st);
}

/* A single-integer PRAGMA read. */
static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*out = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_err(rc ? rc : SQLITE_ERROR);
}

/* WAL must really be on: some file systems refuse it (no shared memory). */
static int set_wal(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc, ret = -EIO;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		mode = sqlite3_column_text(s, 0);
		if (mode && !sqlite3_stricmp((const char *)mode, "wal"))
			ret = 0;
	} else {
		ret = store_err(rc ? rc : sqlite3_errcode(db));
	}
	sqlite3_finalize(s);
	return ret;
}

/* See configure(). cache_size is negative: KiB rather than pages. */
#define STORE_CACHE_KIB "-65536"
#define STORE_MMAP_BYTES "268435456"

static int configure(sqlite3 *db)
{
	int ret;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	ret = set_wal(db);
	if (ret)
		return ret;
	/*
	 * Speed without giving up durability (synchronous stays FULL): the
	 * pages every commit reads back (queue, seen, clients) stay in a
	 * large page cache, and the file is mapped rather than pread.
	 * (A larger wal_autocheckpoint was tried: fewer checkpoints, but each
	 * one stalls its commit for hundreds of ms; the default stays.)
	 */
	return store_err(sqlite3_exec(db,
				      "PRAGMA synchronous = FULL;"
				      "PRAGMA foreign_keys = ON;"
				      "PRAGMA cache_size = " STORE_CACHE_KIB ";"
				      "PRAGMA mmap_size = " STORE_MMAP_BYTES ";",
				      NULL, NULL, NULL));
}

static int apply_migrations(sqlite3 *db, int64_t from)
{
	char sql[64];
	int64_t v;
	int rc;

	for (v = from; v < KC_STORE_SCHEMA_VERSION; v++) {
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return store_err(rc);
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 KC_STORE_SCHEMA_VERSION);
	return store_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/*
 * Brings the schema up to date in one transaction; newer is -EPROTO. An
 * up-to-date store is recognised without the write lock, so `kcourierd
 * token` does not queue behind a running agent just to open the file.
 */
static int migrate(sqlite3 *db)
{
	int64_t version = 0;
	int ret;

	ret = pragma_int(db, "PRAGMA user_version", &version);
	if (ret || version == KC_STORE_SCHEMA_VERSION)
		return ret;
	if (version > KC_STORE_SCHEMA_VERSION)
		return -EPROTO;
	ret = store_err(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
	if (ret)
		return ret;
	/* Read under the write lock: another process may have just done it. */
	ret = pragma_int(db, "PRAGMA user_version", &version);
	if (!ret && version > KC_STORE_SCHEMA_VERSION)
		ret = -EPROTO;
	if (!ret && version < KC_STORE_SCHEMA_VERSION)
		ret = apply_migrations(db, version);
	if (!ret)
		ret = store_err(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
	if (ret && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int prepare_all(struct kc_store *st)
{
	int i, rc;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
					NULL);
		if (rc != SQLITE_OK)
			return store_err(rc);
	}
	return 0;
}

/* The file itself, so its mode is ours (SQLite's -wal/-shm copy it). */
static int create_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int kc_store_open(const char *path, bool create, struct kc_store **out)
{
	struct kc_store *st;
	struct stat sb;
	int ret;

	*out = NULL;
	ret = create ? create_file(path) : (stat(path, &sb) ? -errno : 0);
	if (ret)
		return ret;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = store_err(sqlite3_open_v2(
		path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL));
	if (!ret)
		ret = configure(st->db);
	if (!ret)
		ret = migrate(st->db);
	if (!ret)
		ret = prepare_all(st);
	if (ret) {
		kc_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void kc_store_close(struct kc_store *st)
{
	int i;

	if (!st)
		return;
	if (st->db)
		kc_store_rollback(st);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int kc_store_set_max_bytes(struct kc_store *st, uint64_t max_bytes)
{
	int64_t page_size = 0, pages;
	char sql[64];
	int ret;

	ret = pragma_int(st->db, "PRAGMA page_size", &page_size);
	if (ret)
		return ret;
	if (page_size <= 0)
		return -EIO;
	/* 0 asks for no cap: SQLite's own maximum page count. */
	pages = max_bytes ? (int64_t)(max_bytes / (uint64_t)page_size)
			  : (int64_t)0xfffffffe;
	if (pages < 1)
		pages = 1;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
		 (long long)pages);
	return store_err(sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}
