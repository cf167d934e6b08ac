// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store's schema, its migrations and its statements.
 *
 * Schema version 2 (PRAGMA user_version): clients, tokens and pending
 * receipts. Version 1 also held the message queue and the (sender,
 * msg_id) pairs seen; messages now live in the message log (msglog.h)
 * and duplicates are found by counters, so version 2 drops both tables,
 * and refuses to when messages are still queued in them (they were
 * acknowledged: nothing acknowledged is dropped). Clients are never
 * deleted (only revoked), so receipts reference them.
 */
#include <errno.h>
#include <stdio.h>

#include "sqlite_int.h"

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

static const char schema_v2[] =
	"DROP INDEX seen_by_age;"
	"DROP TABLE seen;"
	"DROP INDEX messages_by_recipient;"
	"DROP INDEX messages_by_msg_id;"
	"DROP TABLE messages;";

/* migrations[v] takes a store from user_version v to v + 1. */
static const char *const migrations[KC_SQLITE_SCHEMA_VERSION] = {
	schema_v1,
	schema_v2,
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
	[ST_RECEIPT_ADD] = "INSERT INTO receipts (sender, msg_id, recipient)"
			   " VALUES (?1, ?2, ?3)",
	[ST_RECEIPT_LIST] = "SELECT id, msg_id, recipient FROM receipts"
			    " WHERE sender = ?1 ORDER BY id",
	[ST_RECEIPT_DEL] = "DELETE FROM receipts WHERE id = ?1",
	[ST_PRUNE_TOKENS] = "DELETE FROM tokens WHERE expires_ms < ?1",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

/* Version 1 messages were acknowledged: version 2 keeps them or stops. */
static int queue_is_empty(sqlite3 *db)
{
	int64_t n = 0;
	int ret = kc_sqlite_pragma_int(db, "SELECT count(*) FROM messages", &n);

	return ret ? ret : n ? -ENOTEMPTY : 0;
}

static int apply_migrations(sqlite3 *db, int64_t from)
{
	char sql[64];
	int64_t v;
	int rc;

	if (from == 1) {
		rc = queue_is_empty(db);
		if (rc)
			return rc;
	}
	for (v = from; v < KC_SQLITE_SCHEMA_VERSION; v++) {
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return kc_sqlite_err(rc);
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 KC_SQLITE_SCHEMA_VERSION);
	return kc_sqlite_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/*
 * Brings the schema up to date in one transaction; newer is -EPROTO. An
 * up-to-date store is recognised without the write lock, so `kcourierd
 * token` does not queue behind a running agent just to open the file.
 */
int kc_sqlite_migrate(sqlite3 *db)
{
	int64_t version = 0;
	int ret;

	ret = kc_sqlite_pragma_int(db, "PRAGMA user_version", &version);
	if (ret || version == KC_SQLITE_SCHEMA_VERSION)
		return ret;
	if (version > KC_SQLITE_SCHEMA_VERSION)
		return -EPROTO;
	ret = kc_sqlite_err(
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
	if (ret)
		return ret;
	/* Read under the write lock: another process may have just done it. */
	ret = kc_sqlite_pragma_int(db, "PRAGMA user_version", &version);
	if (!ret && version > KC_SQLITE_SCHEMA_VERSION)
		ret = -EPROTO;
	if (!ret && version < KC_SQLITE_SCHEMA_VERSION)
		ret = apply_migrations(db, version);
	if (!ret)
		ret = kc_sqlite_err(
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
	if (ret && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int kc_sqlite_prepare(struct kc_sqlite *q)
{
	int i, rc;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(q->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &q->stmt[i],
					NULL);
		if (rc != SQLITE_OK)
			return kc_sqlite_err(rc);
	}
	return 0;
}
