// SPDX-License-Identifier: GPL-2.0-only
/*
 * Queue loads on the committer (committer.h, delivery.h): the next part
 * of a client's queue after a position, read back from the log and
 * posted to the asking connection as DELIVERs, then an end note saying
 * whether more is queued. The first load of a connection also brings the
 * receipts waiting for the client.
 *
 * Since routing happens on this thread too, everything committed before
 * the load is either in it or was routed before it (the connection drops
 * those while it loads), and everything after is routed after its end
 * note: each message reaches the connection once, in queue order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/committer_int.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/router.h"
#include "ring/inbox.h"
#include "ring/ratelog.h"
#include "store/store.h"

/* A load stops after this many messages or bytes (the rest: next load). */
#define LOAD_MSGS 64
#define LOAD_BYTES (256u * 1024)

static int post(struct kc_committer *cm, const struct kc_load_req *r,
		struct kc_payload *p)
{
	int ret = kc_inbox_post(r->inbox, &cm->ring, r->slot, r->gen, p);

	kc_payload_put(p);
	return ret;
}

static int room_for(struct kc_committer *cm, size_t len)
{
	uint8_t *p;

	if (len <= cm->readbuf_cap)
		return 0;
	p = realloc(cm->readbuf, len);
	if (!p)
		return -ENOMEM;
	cm->readbuf = p;
	cm->readbuf_cap = len;
	return 0;
}

static int load_one(struct kc_committer *cm, const struct kc_load_req *r,
		    const struct kc_log_entry *e)
{
	struct kc_frame f = { .type = KC_T_DELIVER };
	struct kc_payload *p;
	struct kc_rec_msg m;
	int ret;

	ret = room_for(cm, e->rec_len);
	if (!ret)
		ret = kc_msglog_read(cm->log, e, cm->readbuf, cm->readbuf_cap,
				     &m);
	if (ret == -EBADMSG) {
		/* Damaged on disk since start: never delivered as garbage. */
		kc_log_peer("message log: record %llu for %s does not check; skipped",
			    (unsigned long long)e->lsn, r->id);
		return 0;
	}
	if (ret)
		return ret;
	f.u.deliver.from = m.sender;
	f.u.deliver.msg_id = m.msg_id;
	f.u.deliver.stored_at_ms = (uint64_t)m.stored_at_ms;
	f.u.deliver.inner = m.inner;
	p = kc_note_payload(&f, e->lsn, KC_NOTE_LOADED);
	return p ? post(cm, r, p) : -ENOMEM;
}

/* The first queued message after r->after: usually the queue's head. */
static const struct kc_log_entry *first_after(struct kc_committer *cm,
					      const struct kc_load_req *r)
{
	const struct kc_log_entry *e = kc_msglog_queue_head(cm->log, r->id);

	while (e && e->lsn <= r->after)
		e = e->qnext;
	return e;
}

static bool load_messages(struct kc_committer *cm, const struct kc_load_req *r)
{
	const struct kc_log_entry *e = first_after(cm, r);
	unsigned int n = 0;
	size_t bytes = 0;

	for (; e && n < LOAD_MSGS && bytes < LOAD_BYTES; e = e->qnext, n++) {
		if (load_one(cm, r, e))
			return true; /* out of memory: the next load retries */
		bytes += e->rec_len;
	}
	return e != NULL;
}

struct receipt_post {
	struct kc_committer *cm;
	const struct kc_load_req *r;
	int64_t *ids;
	size_t n, cap;
};

static int post_receipt(const struct kc_stored_receipt *sr, void *arg)
{
	struct receipt_post *rp = arg;
	struct kc_frame f = { .type = KC_T_RECEIPT };
	struct kc_payload *p;

	f.u.receipt.msg_id = sr->msg_id;
	f.u.receipt.recipient = (struct kc_bytes){
		(const uint8_t *)sr->recipient, strlen(sr->recipient)
	};
	p = kc_note_payload(&f, 0, KC_NOTE_FRAME);
	if (!p || post(rp->cm, rp->r, p))
		return -ENOMEM;
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? 2 * rp->cap : 16;
		int64_t *v = reallocarray(rp->ids, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		rp->ids = v;
		rp->cap = cap;
	}
	rp->ids[rp->n++] = sr->id;
	return 0;
}

/* Posted is as good as sent (best effort): they are forgotten at once. */
static void load_receipts(struct kc_committer *cm, const struct kc_load_req *r)
{
	struct receipt_post rp = { cm, r, NULL, 0, 0 };
	struct kc_proto *p = cm->p;

	pthread_mutex_lock(&p->store_lock);
	kc_store_receipts_walk(p->store, r->id, post_receipt, &rp);
	if (rp.n)
		kc_store_receipts_forget(p->store, rp.ids, rp.n);
	pthread_mutex_unlock(&p->store_lock);
	free(rp.ids);
}

void kc_queue_load(struct kc_committer *cm, const struct kc_load_req *r)
{
	struct kc_payload *end;
	bool more;

	if (r->first)
		load_receipts(cm, r);
	more = load_messages(cm, r);
	end = kc_note_payload(NULL, more, KC_NOTE_LOAD_END);
	if (end)
		post(cm, r, end);
	else
		kc_log_peer("queue load for %s: out of memory", r->id);
}
