/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the store: the connection, its prepared statements, and the
 * helpers store.c gives store_clients.c and store_queue.c. Not for use
 * outside agent/store*.c.
 */
#ifndef KC_AGENT_STORE_INT_H
#define KC_AGENT_STORE_INT_H

#include <stdbool.h>

#include <sqlite3.h>

#include "store.h"

enum store_stmt {
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
	ST_SEEN_GET,
	ST_SEEN_ADD,
	ST_MSG_ADD,
	ST_MSG_QUEUE,
	ST_MSG_FIND,
	ST_MSG_DEL,
	ST_RECEIPT_ADD,
	ST_RECEIPT_LIST,
	ST_RECEIPT_DEL,
	ST_PRUNE_SEEN,
	ST_PRUNE_TOKENS,
	ST_COUNT
};

struct kc_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
};

/* SQLite result code (extended or primary) to -errno; OK/ROW/DONE are 0. */
int store_err(int rc);

/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(struct kc_store *st, enum store_stmt id);

/*
 * Runs a statement that returns no rows (after the caller bound its
 * parameters) and resets it. Returns 0 or -errno.
 */
int store_exec(struct kc_store *st, enum store_stmt id);

/*
 * Opens a transaction unless the caller's group is already open (then the
 * work joins it); *own says which. store_tx_leave() commits an owned one
 * when ret is 0 and rolls it back otherwise, returning the final result.
 */
int store_tx_enter(struct kc_store *st, bool *own);
int store_tx_leave(struct kc_store *st, bool own, int ret);

/* Binding helpers: 0 or -errno. */
int store_bind_text(sqlite3_stmt *s, int idx, const char *text);
int store_bind_blob(sqlite3_stmt *s, int idx, const void *p, size_t len);

#endif
