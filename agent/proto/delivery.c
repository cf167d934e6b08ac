// SPDX-License-Identifier: GPL-2.0-only
/*
 * Delivery on the connection's worker: see delivery.h.
 */
#include <errno.h>
#include <string.h>

#include "base/clock.h"
#include "conn/conn.h"
#include "conn/conn_out.h"
#include "proto/committer.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/router.h"
#include "ring/counters.h"
#include "ring/inbox.h"
#include "ring/probes.h"
#include "ring/ratelog.h"
#include "store/store.h"

static int ask_for_load(struct kc_conn *c, bool first)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_peer *peer = kc_peer(c);
	struct kc_load_req r = {
		.inbox = &pw->w->inbox,
		.slot = c->slot,
		.gen = c->gen,
		.after = peer->delivered_upto,
		.first = first,
	};
	int ret;

	strcpy(r.id, c->id);
	ret = kc_committer_load(pw->p->committer, &r, &pw->w->ring);
	peer->load_pending = ret == 0;
	return ret;
}

static int join(struct kc_conn *c, const char *id)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_proto *p = pw->p;
	int ret;

	/* Exact, not the reader's cache: a revocation counts at once here. */
	pthread_mutex_lock(&p->store_lock);
	ret = kc_store_client_live(p->store, id);
	pthread_mutex_unlock(&p->store_lock);
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
	struct kc_peer *peer = kc_peer(c);
	int ret = join(c, id);

	if (ret)
		return ret;
	peer->catching_up = true;
	peer->delivered_upto = 0;
	if (ask_for_load(c, true))
		kc_log_peer("connection %s: cannot ask for its queue yet", id);
	return 0;
}

void kc_delivery_more(struct kc_conn *c)
{
	struct kc_peer *peer = kc_peer(c);

	if (peer->catching_up && !peer->load_pending && peer->authed)
		ask_for_load(c, false);
}

static void append_deliver(struct kc_conn *c, const struct kc_payload *p)
{
	struct kc_peer *peer = kc_peer(c);

	if (p->seq <= peer->delivered_upto)
		return; /* sent already */
	peer->delivered_upto = p->seq;
	kc_conn_append(c, p->frame, p->len);
	kc_count(KC_CTR_DELIVERS, 1);
	/* stamp_ns is 0 for a message loaded from the log. */
	if (KC_PROBE_ON(msg_deliver) && kc_probe_pick(p->seq))
		KC_PROBE4(msg_deliver, p->seq, p->stamp_ns, kc_mono_ns(),
			  p->len);
}

static void on_live(struct kc_conn *c, const struct kc_payload *p)
{
	struct kc_peer *peer = kc_peer(c);

	if (peer->catching_up)
		return; /* the load under way or the next one brings it */
	/* A slow reader: the queue holds it until the reader catches up. */
	if (kc_conn_backlog(c) > KC_CONN_BACKLOG_HIGH) {
		peer->catching_up = true;
		kc_conn_mark_flush(c);
		return;
	}
	append_deliver(c, p);
}

static void on_load_end(struct kc_conn *c, bool more)
{
	struct kc_peer *peer = kc_peer(c);

	peer->load_pending = false;
	if (!more) {
		peer->catching_up = false;
		return;
	}
	if (kc_conn_backlog(c) <= KC_CONN_BACKLOG_HIGH)
		ask_for_load(c, false);
}

void kc_delivery_note(struct kc_conn *c, const struct kc_payload *p)
{
	if (c->state != KC_CONN_OPEN || !kc_peer(c)->authed)
		return;
	switch (p->tag) {
	case KC_NOTE_LIVE:
		on_live(c, p);
		break;
	case KC_NOTE_LOADED:
		append_deliver(c, p);
		break;
	case KC_NOTE_LOAD_END:
		on_load_end(c, p->seq != 0);
		break;
	case KC_NOTE_REVOKED:
		kc_log_peer("connection %s: client revoked, closing", c->id);
		kc_conn_error(c, KC_UNAUTHORIZED, "client revoked");
		kc_conn_finish(c);
		break;
	default:
		kc_conn_append(c, p->frame, p->len);
	}
}
