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
#include "proto/committer.h"
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/handlers.h"
#include "proto/proto.h"
#include "proto/router.h"
#include "proto/sessions.h"
#include "ring/counters.h"
#include "ring/probes.h"
#include "ring/ratelog.h"
#include "store/store.h"

#define PRUNE_EVERY_MS (3600u * 1000)
/* How old a worker's view of which clients are live may get. */
#define READER_SYNC_MS 100

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

/* One message's stage times, for one in kc_probe_every() (probes.h). */
static void probe_msg_done(struct kc_proto_worker *pw,
			   const struct kc_commit *b,
			   const struct kc_commit_msg *m)
{
	if (!kc_probe_pick(++pw->probe_n))
		return;
	KC_PROBE8(msg_done, m->t.received_ns, m->t.opened_ns, b->submitted_ns,
		  m->t.stored_ns, m->t.acked_ns, m->inner_len, m->status,
		  m->msg_id);
}

/*
 * A group came back: every ACK gets its status (commit.h), then each
 * connection that held output for the group lets that hold go. A
 * connection that closed meanwhile is not found and skipped.
 */
static void finish_group(struct kc_proto_worker *pw, struct kc_commit *b)
{
	struct kc_conn_table *t = &pw->w->conns;
	uint64_t now_ns = kc_mono_ns();

	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_commit_msg *m = &b->msgs[i];
		struct kc_conn *c = kc_conn_lookup(t, m->slot, m->gen);

		m->t.acked_ns = now_ns;
		if (c)
			kc_conn_patch_u16(c, m->status_pos, m->status);
		kc_count_status(m->status);
		if (KC_PROBE_ON(msg_done))
			probe_msg_done(pw, b, m);
	}
	for (size_t i = 0; i < b->nholds; i++) {
		struct kc_conn *c = kc_conn_lookup(t, b->holds[i].slot,
						   b->holds[i].gen);

		if (c)
			kc_conn_release(c);
	}
}

static struct kc_commit *take_done(struct kc_proto_worker *pw)
{
	struct kc_commit *b;

	pthread_mutex_lock(&pw->done_lock);
	b = pw->done;
	pw->done = NULL;
	pthread_mutex_unlock(&pw->done_lock);
	return b;
}

/* The committer pushes groups on a stack: finish the oldest first. */
static void take_back_groups(struct kc_proto_worker *pw)
{
	struct kc_commit *b = take_done(pw), *old = NULL, *next;

	for (; b; b = next) {
		next = b->next;
		b->next = old;
		old = b;
	}
	for (b = old; b; b = next) {
		next = b->next;
		finish_group(pw, b);
		kc_commit_reset(b);
		b->next = pw->spare;
		pw->spare = b;
		pw->out--;
	}
}

/* Step 4: what came back, then this turn's group goes to the committer. */
static void after_turn(struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;
	struct kc_commit *next;

	take_back_groups(pw);
	/*
	 * Recipient checks see every change to the directory at most
	 * READER_SYNC_MS old: asking SQLite every turn cost more than the
	 * checks it saves when turns are short.
	 */
	if (pw->reader && kc_worker_mono_ms(w) >= pw->next_sync_ms) {
		kc_store_reader_sync(pw->reader);
		pw->next_sync_ms = kc_worker_mono_ms(w) + READER_SYNC_MS;
	}
	if (kc_commit_empty(pw->batch))
		return;
	next = pw->spare ? pw->spare : kc_commit_new(pw);
	if (!next)
		return; /* out of memory: it goes with the next turn */
	pw->spare = next->next;
	next->next = NULL;
	pw->batch->submitted_ns = kc_mono_ns();
	kc_committer_submit(pw->p->committer, pw->batch, &w->ring);
	pw->out++;
	pw->batch = next;
	pw->batch->gen = ++pw->groups;
}

static bool groups_back(const struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;
	bool back;

	pthread_mutex_lock(&pw->done_lock);
	back = pw->done != NULL;
	pthread_mutex_unlock(&pw->done_lock);
	return back;
}

static bool groups_out(const struct kc_worker *w)
{
	const struct kc_proto_worker *pw = w->upper;

	return pw->out > 0 || !kc_commit_empty(pw->batch);
}

/*
 * Worker 0 forgets expired tokens once an hour (store.h: an expired token
 * answers EXPIRED for KC_TOKEN_KEEP_MS, then it is forgotten).
 */
static void maybe_prune(struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;
	int ret;

	if (!w->index)
		kc_probe_auto_tick(kc_worker_mono_ms(w));
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
	.on_note = kc_delivery_note,
	.after_turn = after_turn,
	.pending = groups_back,
	.busy = groups_out,
	.on_tick = maybe_prune,
};

const char *kc_proto_tier_name(const struct kc_worker *w)
{
	const struct kc_proto_worker *pw = w->upper;

	return pw->crypto->ops->name;
}
