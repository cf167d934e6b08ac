/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the SQLite store: the connection, its prepared statements, the
 * helpers every sqlite_*.c uses, and the ops each of them provides. Not
 * for use outside agent/store/, except a store implementation that keeps
 * SQLite's directory (store_int.h).
 */
#ifndef KC_STORE_SQLITE_INT_H
#define KC_STORE_SQLITE_INT_H

#include <stdbool.h>

#include <sqlite3.h>

#include "sqlite.h"
#include "store_int.h"

enum sqlite_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_TOKEN_ADD,
	ST_TOKEN_GET,
	ST_TOKEN_USE,
	ST_CLIENT_EXISTS,
	ST_CLIENT_ADD,
	ST_CLIENT_GET,
	ST_CLIENT_LIVE,
	ST_CLIENT_REVOKE,
	ST_RECEIPT_ADD,
	ST_RECEIPT_LIST,
	ST_RECEIPT_DEL,
	ST_PRUNE_TOKENS,
	ST_DATA_VERSION,
	ST_COUNT
};

struct kc_sqlite {
	struct kc_store base; /* first: the ops take a struct kc_store * */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char *path; /* for readers' own connections */
};

static inline struct kc_sqlite *kc_sqlite_of(struct kc_store *st)
{
	return (struct kc_sqlite *)st;
}

extern const struct kc_store_dir_ops kc_sqlite_dir_ops;

/* --- sqlite_schema.c --- */

/* Brings the schema up to date; a newer one is -EPROTO. */
int kc_sqlite_migrate(sqlite3 *db);
/* Prepares every statement of enum sqlite_stmt. */
int kc_sqlite_prepare(struct kc_sqlite *q);

/* --- sqlite_stmt.c --- */

/* SQLite result code (extended or primary) to -errno; OK/ROW/DONE are 0. */
int kc_sqlite_err(int rc);

/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *kc_sqlite_stmt(struct kc_sqlite *q, enum sqlite_stmt id);

/*
 * Runs a statement that returns no rows (after the caller bound its
 * parameters) and resets it. Returns 0 or -errno.
 */
int kc_sqlite_exec(struct kc_sqlite *q, enum sqlite_stmt id);

/* kc_sqlite_exec of a statement whose one parameter, ?1, is v. */
int kc_sqlite_exec_int(struct kc_sqlite *q, enum sqlite_stmt id, int64_t v);
/*
 * kc_sqlite_exec of a statement whose one parameter, ?1, is key: the
 * number of rows it changed, or -errno.
 */
int kc_sqlite_changes_of(struct kc_sqlite *q, enum sqlite_stmt id,
			 const char *key);

/*
 * The one row walk: steps statement id (its parameters bound) and hands
 * each row to row(), which returns 0 to go on or anything else to stop;
 * that is returned. Otherwise 0 after the last row, or -errno. Resets
 * the statement either way.
 */
typedef int (*kc_sqlite_row_fn)(sqlite3_stmt *s, void *arg);
int kc_sqlite_rows(struct kc_sqlite *q, enum sqlite_stmt id,
		   kc_sqlite_row_fn row, void *arg);
/* kc_sqlite_rows of a statement whose one parameter, ?1, is key. */
int kc_sqlite_rows_of(struct kc_sqlite *q, enum sqlite_stmt id, const char *key,
		      kc_sqlite_row_fn row, void *arg);

/* A single-integer PRAGMA read (sql is the whole PRAGMA): 0 or -errno. */
int kc_sqlite_pragma_int(sqlite3 *db, const char *sql, int64_t *out);

/* Whether statement id (bound) returns a row: 1, 0, or -errno. */
int kc_sqlite_any_row(struct kc_sqlite *q, enum sqlite_stmt id);
/* The row callback that stops at the first row (returns 1). */
int kc_sqlite_first_row(sqlite3_stmt *s, void *arg);

/* Binding helpers: 0 or -errno. */
int kc_sqlite_bind_text(sqlite3_stmt *s, int idx, const char *text);
int kc_sqlite_bind_blob(sqlite3_stmt *s, int idx, const void *p, size_t len);
int kc_sqlite_bind_int(sqlite3_stmt *s, int idx, int64_t v);
/* A text id column (at most KC_CLIENT_ID_MAX bytes): 0 or -EIO. */
int kc_sqlite_column_id(sqlite3_stmt *s, int col, const char **out);
/* A blob column of exactly KC_MSGID_LEN bytes: 0 or -EIO. */
int kc_sqlite_column_msg_id(sqlite3_stmt *s, int col, const uint8_t **out);

/* --- sqlite_receipts.c: the receipt ops of kc_sqlite_dir_ops --- */

int kc_sqlite_receipts_add(struct kc_store *st,
			   const struct kc_store_receipt_in *r, size_t n);
void kc_sqlite_receipts_forget(struct kc_store *st, const int64_t *ids,
			       size_t n);
int kc_sqlite_receipts_walk(struct kc_store *st, const char *sender,
			    kc_stored_receipt_fn fn, void *arg);

/* --- sqlite.c: transactions --- */

/* BEGIN IMMEDIATE; -EBUSY if one is open. */
int kc_sqlite_begin(struct kc_store *st);
/* COMMIT; on failure nothing is stored and the transaction is over. */
int kc_sqlite_commit(struct kc_store *st);
/* Harmless when none is open. */
void kc_sqlite_rollback(struct kc_store *st);
/* Commits when ret is 0, else rolls back; returns the final result. */
int kc_sqlite_finish(struct kc_store *st, int ret);

#endif
