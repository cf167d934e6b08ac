// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store's queue: messages, deduplication by (sender, msg_id)
 * in `seen`, DELIVERED (PROTOCOL.md section 4, SEND and Delivery), and
 * its ops table.
 */
#include <errno.h>
#include <string.h>

#include "sqlite_int.h"

/* 1 if (sender, msg_id) is in `seen`, 0 if not, or -errno. */
static int seen_before(struct kc_sqlite *q, const struct kc_store_put *p)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_SEEN_GET);
	int ret;

	ret = kc_sqlite_bind_text(s, 1, p->sender);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, p->msg_id, KC_MSGID_LEN);
	return ret ? ret : kc_sqlite_any_row(q, ST_SEEN_GET);
}

/* 0 stored, 1 stored before, -ENOENT an unknown client, or -errno. */
static int insert_message(struct kc_sqlite *q, const struct kc_store_put *p,
			  int64_t now_ms)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_MSG_ADD);
	int ret, rc;

	ret = kc_sqlite_bind_text(s, 1, p->sender);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, p->msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = kc_sqlite_bind_text(s, 3, p->recipient);
	if (!ret)
		ret = kc_sqlite_bind_int(s, 4, now_ms);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 5, p->inner, p->inner_len);
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
	return kc_sqlite_err(rc);
}

static int remember(struct kc_sqlite *q, const struct kc_store_put *p,
		    int64_t now_ms)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_SEEN_ADD);
	int ret;

	ret = kc_sqlite_bind_text(s, 1, p->sender);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, p->msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = kc_sqlite_bind_int(s, 3, now_ms);
	if (!ret)
		ret = kc_sqlite_exec(q, ST_SEEN_ADD);
	return ret;
}

static int put_one(struct kc_sqlite *q, struct kc_store_put *p, int64_t now_ms)
{
	int ret;

	ret = seen_before(q, p);
	/*
	 * The message goes in before its `seen` row: a refused insert then
	 * leaves nothing behind, and a failure after it loses the group.
	 */
	if (!ret)
		ret = insert_message(q, p, now_ms);
	if (ret == 1 || ret == -ENOENT) {
		p->result = ret == 1 ? KC_STORE_SEEN : KC_STORE_NO_CLIENT;
		return 0;
	}
	if (ret)
		return ret;
	p->result = KC_STORE_STORED;
	p->seq = sqlite3_last_insert_rowid(q->db);
	return remember(q, p, now_ms);
}

static int put(struct kc_store *st, struct kc_store_put *puts, size_t n,
	       int64_t now_ms)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = put_one(q, &puts[i], now_ms);
	return ret;
}

struct queued {
	int64_t seq;
	char *sender;
};

static int read_queued(sqlite3_stmt *s, void *arg)
{
	struct queued *m = arg;
	const char *sender;

	if (kc_sqlite_column_id(s, 1, &sender))
		return -EIO;
	m->seq = sqlite3_column_int64(s, 0);
	memcpy(m->sender, sender, strlen(sender) + 1);
	return 1;
}

/* The oldest message msg_id queued for recipient: out of the queue. */
static int take_one(struct kc_sqlite *q, struct kc_store_take *t)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_MSG_FIND);
	struct queued m = { 0, t->sender };
	int ret;

	t->taken = false;
	ret = kc_sqlite_bind_text(s, 1, t->recipient);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, t->msg_id, KC_MSGID_LEN);
	if (!ret)
		ret = kc_sqlite_rows(q, ST_MSG_FIND, read_queued, &m);
	if (ret <= 0)
		return ret;
	ret = kc_sqlite_exec_int(q, ST_MSG_DEL, m.seq);
	t->taken = !ret;
	return ret;
}

static int take(struct kc_store *st, struct kc_store_take *takes, size_t n)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = take_one(q, &takes[i]);
	return ret;
}

struct msg_walk {
	kc_stored_msg_fn fn;
	void *arg;
};

static int visit_msg(sqlite3_stmt *s, void *arg)
{
	struct msg_walk *w = arg;
	struct kc_stored_msg m = {
		.seq = sqlite3_column_int64(s, 0),
		.stored_at_ms = sqlite3_column_int64(s, 3),
	};

	m.inner = sqlite3_column_blob(s, 4);
	m.inner_len = (size_t)sqlite3_column_bytes(s, 4);
	if (kc_sqlite_column_id(s, 1, &m.sender) ||
	    kc_sqlite_column_msg_id(s, 2, &m.msg_id))
		return -EIO;
	return w->fn(&m, w->arg);
}

static int walk(struct kc_store *st, const char *recipient, int64_t after_seq,
		unsigned int limit, kc_stored_msg_fn fn, void *arg)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_MSG_QUEUE);
	struct msg_walk w = { fn, arg };
	int ret;

	ret = kc_sqlite_bind_text(s, 1, recipient);
	if (!ret)
		ret = kc_sqlite_bind_int(s, 2, after_seq);
	/* LIMIT -1 is SQLite for "no limit". */
	if (!ret)
		ret = kc_sqlite_bind_int(s, 3, limit ? (int64_t)limit : -1);
	return ret ? ret : kc_sqlite_rows(q, ST_MSG_QUEUE, visit_msg, &w);
}

static int prune_seen(struct kc_store *st, int64_t before_ms)
{
	return kc_sqlite_exec_int(kc_sqlite_of(st), ST_PRUNE_SEEN, before_ms);
}

const struct kc_store_queue_ops kc_sqlite_queue_ops = {
	.walk = walk,
	.put = put,
	.take = take,
	.prune = prune_seen,
};
