// SPDX-License-Identifier: GPL-2.0-only
/*
 * The request layer's callbacks for the loop and the connections: see
 * proto.h.
 */
#include <errno.h>
#include <string.h>

#include "base/clock.h"
#include "conn/conn.h"
#include "conn/conn_out.h"
#include "proto/commit.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/handlers.h"
#include "proto/proto.h"
#include "proto/router.h"
#include "proto/sessions.h"
#include "ring/ratelog.h"
#include "store/store.h"

#define PRUNE_EVERY_MS (3600u * 1000)

/* --- the connection events --- */

/*
 * A certificate: the client must be live; then its queue is loaded, and
 * its frames may be as long as max_frame. Without one, register-only.
 */
static int on_open(struct kc_conn *c, const char *id)
{
	if (!id) {
		kc_conn_set_frame_limit(c, KC_UNAUTH_FRAME_MAX);
		return 0;
	}
	if (!kc_delivery_start(c, id)) {
		kc_conn_set_frame_limit(c, kc_pw(c)->p->cfg->max_frame);
		return 0;
	}
	kc_log_peer("client %s refused: not registered or revoked", id);
	return -EACCES;
}

static void on_tick(struct kc_conn *c, uint64_t now_ms)
{
	kc_conn_sessions_expire(&kc_peer(c)->sessions, &kc_pw(c)->sctx, now_ms);
}

/* Everything that ties the connection to others: sessions and presence. */
static void on_close(struct kc_conn *c)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_peer *peer = kc_peer(c);

	kc_conn_sessions_drop_all(&peer->sessions, &pw->sctx);
	if (peer->in_presence)
		kc_router_leave(pw->p->router, c->id, c);
	peer->in_presence = false;
	peer->authed = false;
}

static const struct kc_conn_events conn_events = {
	.on_open = on_open,
	.on_frame = kc_handle_frame,
	.on_writable = kc_delivery_more,
	.on_tick = on_tick,
	.on_close = on_close,
};

/* --- the worker's turn --- */

/*
 * Nothing is acknowledged unless committed: a failed group turns every
 * held ACK into TRY_LATER (commit.c). Each message's stage times are
 * complete here (commit.h, struct kc_msg_times).
 */
static void patch_acks(struct kc_proto_worker *pw, uint64_t acked_ns)
{
	struct kc_commit *b = &pw->batch;

	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_commit_msg *m = &b->msgs[i];
		struct kc_conn *c =
			kc_conn_lookup(&pw->w->conns, m->slot, m->gen);

		m->t.stored_ns = acked_ns;
		m->t.acked_ns = acked_ns;
		if (!c)
			continue;
		kc_conn_patch_u16(c, m->status_off, (uint16_t)m->status);
		kc_conn_release(c);
	}
}

/* Step 4: the group commit of this turn, its ACKs, then routing. */
static void group_commit(struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;
	struct kc_proto *p = pw->p;
	int ret;

	if (kc_commit_empty(&pw->batch))
		return;
	pthread_mutex_lock(&p->store_lock);
	ret = kc_commit_run(&pw->batch, p->store, kc_worker_wall_ms(w));
	if (ret)
		kc_log("group commit failed (%s): %zu SENDs answered TRY_LATER",
		       strerror(-ret), pw->batch.nmsgs);
	patch_acks(pw, kc_mono_ns());
	kc_router_route_commit(pw, &pw->batch);
	pthread_mutex_unlock(&p->store_lock);
	kc_commit_reset(&pw->batch);
}

static bool group_pending(const struct kc_worker *w)
{
	const struct kc_proto_worker *pw = w->upper;

	return !kc_commit_empty(&pw->batch);
}

/*
 * Worker 0 forgets old seen pairs and tokens once an hour (store.h: they
 * are kept KC_SEEN_KEEP_MS, PROTOCOL.md's 7 days, and no longer).
 */
static void maybe_prune(struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;
	int ret;

	if (w->index || kc_worker_mono_ms(w) < pw->next_prune_ms)
		return;
	pw->next_prune_ms = kc_worker_mono_ms(w) + PRUNE_EVERY_MS;
	pthread_mutex_lock(&pw->p->store_lock);
	ret = kc_store_prune(pw->p->store, kc_worker_wall_ms(w));
	pthread_mutex_unlock(&pw->p->store_lock);
	if (ret)
		kc_log("store prune: %s", strerror(-ret));
}

const struct kc_worker_ops kc_proto_ops = {
	.conn_priv_size = sizeof(struct kc_peer),
	.conn_events = &conn_events,
	.init = kc_proto_worker_init,
	.fini = kc_proto_worker_fini,
	.on_note = kc_router_notify,
	.after_turn = group_commit,
	.pending = group_pending,
	.on_tick = maybe_prune,
};

const char *kc_proto_tier_name(const struct kc_worker *w)
{
	const struct kc_proto_worker *pw = w->upper;

	return pw->crypto->ops->name;
}
