// SPDX-License-Identifier: GPL-2.0-only
/*
 * Queue and receipt loading for authenticated connections: see
 * delivery.h. Everything here runs under the store lock, which also
 * orders it against routing (router.h).
 */
#include <errno.h>
#include <string.h>

#include "conn/conn.h"
#include "conn/conn_out.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/router.h"
#include "ring/ratelog.h"
#include "store/store.h"

#define QUEUE_CHUNK 64

struct chunk {
	struct kc_conn *c;
	unsigned int n;
	bool full; /* stopped on the backlog limit */
};

static int put_deliver(const struct kc_stored_msg *m, void *arg)
{
	struct chunk *ch = arg;
	struct kc_frame f = { .type = KC_T_DELIVER };

	f.u.deliver.from = (struct kc_bytes){ (const uint8_t *)m->sender,
					      strlen(m->sender) };
	f.u.deliver.msg_id = m->msg_id;
	f.u.deliver.stored_at_ms = (uint64_t)m->stored_at_ms;
	f.u.deliver.inner = (struct kc_bytes){ m->inner, m->inner_len };
	if (kc_conn_reply(ch->c, &f))
		return -ENOMEM;
	kc_peer(ch->c)->delivered_upto = m->seq;
	ch->n++;
	/* Large messages: stop early, the rest follows as the peer reads. */
	if (kc_conn_backlog(ch->c) > KC_CONN_BACKLOG_HIGH) {
		ch->full = true;
		return 1;
	}
	return 0;
}

/* Under the store lock. */
static void load_chunk(struct kc_conn *c)
{
	struct kc_peer *peer = kc_peer(c);
	struct chunk ch = { c, 0, false };
	int ret;

	ret = kc_store_queue_walk(kc_pw(c)->p->store, c->id,
				  peer->delivered_upto, QUEUE_CHUNK,
				  put_deliver, &ch);
	if (ret < 0 && ret != -ENOMEM)
		kc_log("queue of %s: %s", c->id, strerror(-ret));
	/* A full chunk may have more behind it; an error retries later. */
	peer->catching_up = ret || ch.full || ch.n == QUEUE_CHUNK;
}

static int put_receipt(const struct kc_stored_receipt *r, void *arg)
{
	struct kc_conn *c = arg;
	struct kc_frame f = { .type = KC_T_RECEIPT };

	f.u.receipt.msg_id = r->msg_id;
	f.u.receipt.recipient =
		(struct kc_bytes){ (const uint8_t *)r->recipient,
				   strlen(r->recipient) };
	if (kc_conn_reply(c, &f))
		return -ENOMEM;
	/* Written is as good as sent (best effort): forget it next group. */
	kc_commit_add_receipt_done(&kc_pw(c)->batch, r->id);
	return 0;
}

static int join(struct kc_conn *c, const char *id)
{
	struct kc_proto *p = kc_pw(c)->p;
	int ret;

	ret = kc_store_client_live(p->store, id);
	if (ret)
		return ret == -ENOENT ? -EACCES : ret;
	ret = kc_router_join(p->router, id, c);
	if (ret)
		return ret;
	kc_peer(c)->authed = true;
	kc_peer(c)->in_presence = true;
	return 0;
}

int kc_delivery_start(struct kc_conn *c, const char *id)
{
	struct kc_proto *p = kc_pw(c)->p;
	int ret;

	pthread_mutex_lock(&p->store_lock);
	ret = join(c, id);
	if (!ret) {
		load_chunk(c);
		kc_store_receipts_walk(p->store, c->id, put_receipt, c);
	}
	pthread_mutex_unlock(&p->store_lock);
	return ret;
}

void kc_delivery_more(struct kc_conn *c)
{
	pthread_mutex_t *lock = &kc_pw(c)->p->store_lock;

	if (!kc_peer(c)->catching_up)
		return;
	pthread_mutex_lock(lock);
	load_chunk(c);
	pthread_mutex_unlock(lock);
}
