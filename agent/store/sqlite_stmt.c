// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prepared statements of the SQLite store: error mapping, binding, and
 * the one way rows are read (kc_sqlite_rows), so every lookup and walk
 * resets its statement and maps its errors alike.
 */
#include <errno.h>

#include "sqlite_int.h"

int kc_sqlite_err(int rc)
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

sqlite3_stmt *kc_sqlite_stmt(struct kc_sqlite *q, enum sqlite_stmt id)
{
	sqlite3_stmt *s = q->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int kc_sqlite_exec(struct kc_sqlite *q, enum sqlite_stmt id)
{
	sqlite3_stmt *s = q->stmt[id];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	/* A row from a statement that should return none: a bug, not data. */
	return rc == SQLITE_ROW ? -EIO : kc_sqlite_err(rc);
}

int kc_sqlite_rows(struct kc_sqlite *q, enum sqlite_stmt id,
		   kc_sqlite_row_fn row, void *arg)
{
	sqlite3_stmt *s = q->stmt[id];
	int rc = SQLITE_DONE, ret = 0;

	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ret = row(s, arg);
	if (!ret && rc != SQLITE_DONE)
		ret = kc_sqlite_err(rc);
	sqlite3_reset(s);
	return ret;
}

int kc_sqlite_exec_int(struct kc_sqlite *q, enum sqlite_stmt id, int64_t v)
{
	int ret = kc_sqlite_bind_int(kc_sqlite_stmt(q, id), 1, v);

	return ret ? ret : kc_sqlite_exec(q, id);
}

int kc_sqlite_changes_of(struct kc_sqlite *q, enum sqlite_stmt id,
			 const char *key)
{
	int ret = kc_sqlite_bind_text(kc_sqlite_stmt(q, id), 1, key);

	if (!ret)
		ret = kc_sqlite_exec(q, id);
	return ret ? ret : sqlite3_changes(q->db);
}

int kc_sqlite_rows_of(struct kc_sqlite *q, enum sqlite_stmt id, const char *key,
		      kc_sqlite_row_fn row, void *arg)
{
	int ret = kc_sqlite_bind_text(kc_sqlite_stmt(q, id), 1, key);

	return ret ? ret : kc_sqlite_rows(q, id, row, arg);
}

int kc_sqlite_first_row(sqlite3_stmt *s, void *arg)
{
	return 1;
}

int kc_sqlite_any_row(struct kc_sqlite *q, enum sqlite_stmt id)
{
	return kc_sqlite_rows(q, id, kc_sqlite_first_row, NULL);
}

int kc_sqlite_bind_text(sqlite3_stmt *s, int idx, const char *text)
{
	return kc_sqlite_err(
		sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC));
}

int kc_sqlite_bind_blob(sqlite3_stmt *s, int idx, const void *p, size_t len)
{
	/* A zero-length blob must still be a blob, not NULL. */
	if (!len)
		return kc_sqlite_err(sqlite3_bind_zeroblob(s, idx, 0));
	return kc_sqlite_err(
		sqlite3_bind_blob64(s, idx, p, len, SQLITE_STATIC));
}

int kc_sqlite_bind_int(sqlite3_stmt *s, int idx, int64_t v)
{
	return kc_sqlite_err(sqlite3_bind_int64(s, idx, v));
}

int kc_sqlite_column_id(sqlite3_stmt *s, int col, const char **out)
{
	*out = (const char *)sqlite3_column_text(s, col);
	return *out && sqlite3_column_bytes(s, col) <= KC_CLIENT_ID_MAX ? 0
									: -EIO;
}

int kc_sqlite_column_msg_id(sqlite3_stmt *s, int col, const uint8_t **out)
{
	*out = sqlite3_column_blob(s, col);
	return *out && sqlite3_column_bytes(s, col) == KC_MSGID_LEN ? 0 : -EIO;
}

int kc_sqlite_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
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
	return rc == SQLITE_ROW ? 0 : kc_sqlite_err(rc ? rc : SQLITE_ERROR);
}
