// SPDX-License-Identifier: GPL-2.0-only
/*
 * The message queue, deduplication by (sender, msg_id), DELIVERED and
 * receipts (PROTOCOL.md section 4, SEND and Delivery).
 */
#include <errno.h>
#include <string.h>

#include "store_int.h"

/* 1 if (sender, msg_id) is in `seen`, 0 if not, or -errno. */
static int seen_before(struct kc_store *st, const char *sender,
		       const uint8_t msg_id[KC_MSGID_LEN])
{
	sqlite3_stmt *s = store_stmt(st, ST_SEEN_GET);
	int rc, ret;

	ret = store_bind_text(s, 1, sender);
	if (!ret)
		ret = store_bind_blob(s, 2, msg_id, KC_MSGID_LEN);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

static int insert_message(struct kc_store *st, const char *sender,
			  const uint8_t msg_id[KC_MSGID_LEN],
			  const char *recipient, int64_t now_ms,
			  const uint8_t *inner, size_t inner_len)
{
	sqlite3_stmt *s = store_stmt(st, ST_MSG_ADD);
	int ret, rc;

	ret = store_bind_text(s, 1, sender);
	if (!ret)
		ret = store_bind_blob(s, 2, msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = store_bind_text(s, 3, recipient);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(s, 4, now_ms));
	if (!ret)
		ret = store_bind_blob(s, 5, inner, inner_len);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	/* An unknown sender or recipient fails only this statement. */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return -ENOENT;
	/* UNIQUE (sender, msg_id): stored already, even if `seen` lost it. */
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return 1;
	return store_err(rc);
}

static int remember(struct kc_store *st, const char *sender,
		    const uint8_t msg_id[KC_MSGID_LEN], int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(st, ST_SEEN_ADD);
	int ret;

	ret = store_bind_text(s, 1, sender);
	if (!ret)
		ret = store_bind_blob(s, 2, msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(s, 3, now_ms));
	if (!ret)
		ret = store_exec(st, ST_SEEN_ADD);
	return ret;
}

int kc_store_put_message(struct kc_store *st, const char *sender,
			 const uint8_t msg_id[KC_MSGID_LEN],
			 const char *recipient, int64_t now_ms,
			 const uint8_t *inner, size_t inner_len, int64_t *seq)
{
	int ret;

	if (sqlite3_get_autocommit(st->db))
		return -EINVAL;
	ret = seen_before(st, sender, msg_id);
	if (ret)
		return ret;
	/*
	 * The message goes in before its `seen` row: a refused insert then
	 * leaves nothing behind, and a failure after it poisons the group,
	 * which the caller rolls back whole.
	 */
	ret = insert_message(st, sender, msg_id, recipient, now_ms, inner,
			     inner_len);
	if (ret)
		return ret;
	*seq = sqlite3_last_insert_rowid(st->db);
	return remember(st, sender, msg_id, now_ms);
}

int kc_store_queue_iter(struct kc_store *st, const char *recipient,
			int64_t after_seq, unsigned int limit, kc_msg_fn fn,
			void *arg)
{
	sqlite3_stmt *s = store_stmt(st, ST_MSG_QUEUE);
	struct kc_stored_msg m;
	int rc = SQLITE_DONE, ret;

	ret = store_bind_text(s, 1, recipient);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(s, 2, after_seq));
	/* LIMIT -1 is SQLite for "no limit". */
	if (!ret)
		ret = store_err(
			sqlite3_bind_int64(s, 3, limit ? (int64_t)limit : -1));
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		m.seq = sqlite3_column_int64(s, 0);
		m.sender = (const char *)sqlite3_column_text(s, 1);
		m.msg_id = sqlite3_column_blob(s, 2);
		m.stored_at_ms = sqlite3_column_int64(s, 3);
		m.inner = sqlite3_column_blob(s, 4);
		m.inner_len = (size_t)sqlite3_column_bytes(s, 4);
		if (!m.sender || !m.msg_id ||
		    sqlite3_column_bytes(s, 2) != KC_MSGID_LEN)
			ret = -EIO;
		else
			ret = fn(&m, arg);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_err(rc);
	sqlite3_reset(s);
	return ret;
}

/* The oldest message msg_id queued for recipient: its seq and sender. */
static int find_queued(struct kc_store *st, const char *recipient,
		       const uint8_t msg_id[KC_MSGID_LEN], int64_t *seq,
		       char sender[KC_CLIENT_ID_MAX + 1])
{
	sqlite3_stmt *s = store_stmt(st, ST_MSG_FIND);
	const unsigned char *text;
	int rc, ret;

	ret = store_bind_text(s, 1, recipient);
	if (!ret)
		ret = store_bind_blob(s, 2, msg_id, KC_MSGID_LEN);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		text = sqlite3_column_text(s, 1);
		if (text && sqlite3_column_bytes(s, 1) <= KC_CLIENT_ID_MAX)
			memcpy(sender, text, sqlite3_column_bytes(s, 1) + 1);
		else
			ret = -EIO;
	} else {
		ret = rc == SQLITE_DONE ? -ENOENT : store_err(rc);
	}
	sqlite3_reset(s);
	return ret;
}

static int add_receipt(struct kc_store *st, const char *sender,
		       const uint8_t msg_id[KC_MSGID_LEN],
		       const char *recipient, int64_t *receipt_id)
{
	sqlite3_stmt *s = store_stmt(st, ST_RECEIPT_ADD);
	int ret;

	ret = store_bind_text(s, 1, sender);
	if (!ret)
		ret = store_bind_blob(s, 2, msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = store_bind_text(s, 3, recipient);
	if (!ret)
		ret = store_exec(st, ST_RECEIPT_ADD);
	if (!ret)
		*receipt_id = sqlite3_last_insert_rowid(st->db);
	return ret;
}

int kc_store_delivered(struct kc_store *st, const char *recipient,
		       const uint8_t msg_id[KC_MSGID_LEN],
		       char sender_out[KC_CLIENT_ID_MAX + 1],
		       int64_t *receipt_id)
{
	char sender[KC_CLIENT_ID_MAX + 1];
	int64_t seq = 0, id = 0;
	bool own;
	int ret;

	ret = store_tx_enter(st, &own);
	if (ret)
		return ret;
	ret = find_queued(st, recipient, msg_id, &seq, sender);
	if (!ret)
		ret = store_err(
			sqlite3_bind_int64(store_stmt(st, ST_MSG_DEL), 1, seq));
	if (!ret)
		ret = store_exec(st, ST_MSG_DEL);
	if (!ret)
		ret = add_receipt(st, sender, msg_id, recipient, &id);
	ret = store_tx_leave(st, own, ret);
	if (ret)
		return ret;
	memcpy(sender_out, sender, strlen(sender) + 1);
	if (receipt_id)
		*receipt_id = id;
	return 0;
}

int kc_store_receipts_iter(struct kc_store *st, const char *sender,
			   kc_receipt_fn fn, void *arg)
{
	sqlite3_stmt *s = store_stmt(st, ST_RECEIPT_LIST);
	struct kc_stored_receipt r;
	int rc = SQLITE_DONE, ret;

	ret = store_bind_text(s, 1, sender);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(s, 0);
		r.msg_id = sqlite3_column_blob(s, 1);
		r.recipient = (const char *)sqlite3_column_text(s, 2);
		if (!r.msg_id || !r.recipient ||
		    sqlite3_column_bytes(s, 1) != KC_MSGID_LEN)
			ret = -EIO;
		else
			ret = fn(&r, arg);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_err(rc);
	sqlite3_reset(s);
	return ret;
}

int kc_store_receipt_done(struct kc_store *st, int64_t receipt_id)
{
	int ret;

	ret = store_err(sqlite3_bind_int64(store_stmt(st, ST_RECEIPT_DEL), 1,
					   receipt_id));
	if (!ret)
		ret = store_exec(st, ST_RECEIPT_DEL);
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	return ret;
}

int kc_store_prune(struct kc_store *st, int64_t now_ms)
{
	int64_t before = now_ms - KC_SEEN_KEEP_MS;
	bool own;
	int ret;

	ret = store_tx_enter(st, &own);
	if (ret)
		return ret;
	ret = store_err(
		sqlite3_bind_int64(store_stmt(st, ST_PRUNE_SEEN), 1, before));
	if (!ret)
		ret = store_exec(st, ST_PRUNE_SEEN);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(
			store_stmt(st, ST_PRUNE_TOKENS), 1, before));
	if (!ret)
		ret = store_exec(st, ST_PRUNE_TOKENS);
	return store_tx_leave(st, own, ret);
}
