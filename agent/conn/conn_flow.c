// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow control of a connection: see conn_flow.h.
 */
#include <errno.h>

#include "conn/conn_flow.h"
#include "conn/conn_out.h"

/* Under memory pressure, connections above this much unsent output wait. */
#define PRESSURE_BACKLOG (64u * 1024)
/*
 * What may arrive after the recv was told to stop: completions already
 * in flight. Above this the peer is cut (it is not reading, and we are
 * not either: nothing more of it is needed).
 */
#define STASH_CAP (8u << 20)
/* The stash goes into the engine this much at a time. */
#define UNSTASH_CHUNK (16u * 1024)

static const struct kc_agent_config *cfg_of(const struct kc_conn *c)
{
	return c->t->s.shared->cfg;
}

static bool output_full(const struct kc_conn *c)
{
	const struct kc_agent_config *cfg = cfg_of(c);
	size_t backlog = kc_conn_backlog(c);
	size_t budget = (size_t)cfg->output_memory_mb << 20;

	if (backlog > cfg->output_pause_bytes)
		return true;
	return backlog > PRESSURE_BACKLOG &&
	       atomic_load(&c->t->s.shared->out_bytes) > budget;
}

bool kc_conn_flow_may_take(struct kc_conn *c)
{
	uint64_t turn = c->t->s.ring->turns;

	if (c->turn_no != turn) {
		c->turn_no = turn;
		c->turn_frames = 0;
	}
	if (c->turn_frames >= cfg_of(c)->frames_per_turn) {
		c->more_input = true;
		return false;
	}
	if (output_full(c)) {
		c->out_blocked = true;
		return false;
	}
	c->turn_frames++;
	return true;
}

int kc_conn_flow_stash(struct kc_conn *c, const uint8_t *p, size_t len)
{
	if (kc_bytebuf_size(&c->stash) + len > STASH_CAP ||
	    kc_bytebuf_append(&c->stash, p, len))
		return -ENOBUFS;
	if (!c->in_paused) {
		c->in_paused = true;
		kc_conn_stop_recv(c);
	}
	return 0;
}

void kc_conn_flow_unstash(struct kc_conn *c)
{
	while (kc_bytebuf_size(&c->stash)) {
		size_t n = kc_bytebuf_size(&c->stash);

		n = n < UNSTASH_CHUNK ? n : UNSTASH_CHUNK;
		if (kc_tls_feed(c->tls, kc_bytebuf_data(&c->stash), n))
			return; /* the engine is full: frames first */
		kc_bytebuf_consume(&c->stash, n);
	}
	if (c->in_paused) {
		c->in_paused = false;
		kc_conn_rearm_recv(c);
	}
}

void kc_conn_flow_resume(struct kc_conn *c)
{
	if (!kc_conn_live(c) || output_full(c))
		return;
	if (c->out_blocked || kc_bytebuf_size(&c->stash)) {
		c->out_blocked = false;
		kc_conn_mark_dirty(c);
	}
}

void kc_conn_flow_account(struct kc_conn *c)
{
	size_t now = kc_conn_live(c) || c->state == KC_CONN_DRAINING
			     ? kc_conn_backlog(c)
			     : 0;

	if (now > c->counted)
		atomic_fetch_add(&c->t->s.shared->out_bytes, now - c->counted);
	else if (now < c->counted)
		atomic_fetch_sub(&c->t->s.shared->out_bytes, c->counted - now);
	c->counted = now;
}
