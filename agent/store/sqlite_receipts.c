// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store's pending receipts (PROTOCOL.md section 4, Delivery):
 * one row per DELIVERED until it was written to its sender.
 */
#include <errno.h>

#include "sqlite_int.h"

static int add_receipt(struct kc_sqlite *q, const struct kc_store_receipt_in *r)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_RECEIPT_ADD);
	int ret;

	ret = kc_sqlite_bind_text(s, 1, r->sender);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, r->msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = kc_sqlite_bind_text(s, 3, r->recipient);
	return ret ? ret : kc_sqlite_exec(q, ST_RECEIPT_ADD);
}

int kc_sqlite_receipts_add(struct kc_store *st,
			   const struct kc_store_receipt_in *r, size_t n)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int ret = kc_sqlite_begin(st);

	for (size_t i = 0; !ret && i < n; i++)
		ret = add_receipt(q, &r[i]);
	return kc_sqlite_finish(st, ret);
}

/* Best effort: a receipt that stays is written again (PROTOCOL.md 4). */
void kc_sqlite_receipts_forget(struct kc_store *st, const int64_t *ids,
			       size_t n)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int ret = kc_sqlite_begin(st);

	for (size_t i = 0; !ret && i < n; i++)
		ret = kc_sqlite_exec_int(q, ST_RECEIPT_DEL, ids[i]);
	kc_sqlite_finish(st, ret);
}

struct receipt_walk {
	kc_stored_receipt_fn fn;
	void *arg;
};

static int visit_receipt(sqlite3_stmt *s, void *arg)
{
	struct receipt_walk *w = arg;
	struct kc_stored_receipt r = { .id = sqlite3_column_int64(s, 0) };

	if (kc_sqlite_column_msg_id(s, 1, &r.msg_id) ||
	    kc_sqlite_column_id(s, 2, &r.recipient))
		return -EIO;
	return w->fn(&r, w->arg);
}

int kc_sqlite_receipts_walk(struct kc_store *st, const char *sender,
			    kc_stored_receipt_fn fn, void *arg)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	struct receipt_walk w = { fn, arg };

	return kc_sqlite_rows_of(q, ST_RECEIPT_LIST, sender, visit_receipt, &w);
}
