// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a round sends out once it is over (committer.h): to each new
 * message's recipient a DELIVER, to each delivered message's sender a
 * RECEIPT (or, when the sender is offline, a pending receipt in the
 * store), and to each worker its groups back with their ACK statuses.
 * All of it leaves in commit order from this one thread.
 */
#include <errno.h>
#include <string.h>

#include "base/clock.h"
#include "proto/committer_int.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/router.h"
#include "ring/ratelog.h"
#include "store/store.h"

static void route_msg(struct kc_committer *cm, const struct kc_commit_msg *m)
{
	struct kc_frame f = { .type = KC_T_DELIVER };
	struct kc_payload *p;

	f.u.deliver.from = (struct kc_bytes){ (const uint8_t *)m->sender,
					      strlen(m->sender) };
	f.u.deliver.msg_id = m->msg_id;
	f.u.deliver.stored_at_ms = (uint64_t)cm->round_wall_ms;
	f.u.deliver.inner = (struct kc_bytes){ m->inner, m->inner_len };
	p = kc_note_payload(&f, m->seq, KC_NOTE_LIVE);
	if (!p)
		return; /* stays queued: loaded on the next connect */
	p->stamp_ns = m->t.stored_ns;
	kc_router_post(cm->p->router, &cm->ring, m->recipient, p, true);
	kc_payload_put(p);
}

/* Posted to one connection, or false when the sender has none. */
static bool route_receipt(struct kc_committer *cm,
			  const struct kc_store_receipt_in *d)
{
	struct kc_frame f = { .type = KC_T_RECEIPT };
	struct kc_payload *p;
	bool sent;

	f.u.receipt.msg_id = d->msg_id;
	f.u.receipt.recipient = (struct kc_bytes){
		(const uint8_t *)d->recipient, strlen(d->recipient)
	};
	p = kc_note_payload(&f, 0, KC_NOTE_FRAME);
	if (!p)
		return false;
	sent = kc_router_post(cm->p->router, &cm->ring, d->sender, p, false);
	kc_payload_put(p);
	return sent;
}

/*
 * Receipts are best effort (PROTOCOL.md section 4): one posted to a
 * connection counts as sent; the others wait in the store for the
 * sender's next connection.
 */
static void route_receipts(struct kc_committer *cm)
{
	struct kc_proto *p = cm->p;
	size_t kept = 0;
	int ret;

	for (size_t i = 0; i < cm->ndues; i++)
		if (!route_receipt(cm, &cm->dues[i]))
			cm->dues[kept++] = cm->dues[i];
	if (!kept)
		return;
	pthread_mutex_lock(&p->store_lock);
	ret = kc_store_receipts_add(p->store, cm->dues, kept);
	pthread_mutex_unlock(&p->store_lock);
	if (ret)
		kc_log_peer("%zu receipts for offline senders lost: %s", kept,
			    strerror(-ret));
}

static void finish_group(struct kc_committer *cm, struct kc_commit *b,
			 bool durable, uint64_t now_ns)
{
	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_commit_msg *m = &b->msgs[i];

		/* Nothing is acknowledged unless the round is durable. */
		if (!durable) {
			m->status = KC_TRY_LATER;
			m->fresh = false;
		}
		m->t.stored_ns = now_ns;
		if (m->fresh)
			route_msg(cm, m);
	}
}

void kc_round_send_out(struct kc_committer *cm, bool durable)
{
	uint64_t now_ns = kc_mono_ns();
	struct kc_commit *b, *next;

	for (b = cm->round_head; b; b = b->next)
		finish_group(cm, b, durable, now_ns);
	if (durable)
		route_receipts(cm);
	cm->ndues = 0;
	for (b = cm->round_head; b; b = next) {
		next = b->next;
		kc_proto_worker_give_back(b, &cm->ring);
	}
	cm->round_head = NULL;
	cm->rounds_out++;
	if (durable && kc_msglog_reclaim(cm->log) > 0)
		cm->stats.reclaims++;
}
