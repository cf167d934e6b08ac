// SPDX-License-Identifier: GPL-2.0-only
/*
 * A worker's connections as a whole: see conns.h.
 */
#include "conn/addr_limits.h"
#include "conn/conn_flow.h"
#include "conn/conn_in.h"
#include "conn/conn_out.h"
#include "conn/conns.h"

static struct kc_conn *conn_of(struct kc_conn_table *t, uint64_t ud)
{
	return kc_conn_lookup(t, kc_udata_slot(ud), kc_udata_gen(ud));
}

/* A recv for a slot that moved on still holds a buffer: give it back. */
static void on_stale(struct kc_conn_table *t, uint32_t flags)
{
	if (flags & IORING_CQE_F_BUFFER)
		kc_bufring_put(t->s.bufs, kc_bufring_cqe_bid(flags));
}

static void on_recv_cqe(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_conn_table *t = ctx;
	struct kc_conn *c = conn_of(t, ud);

	if (c)
		kc_conn_on_recv(c, res, flags);
	else
		on_stale(t, flags);
}

static void on_send_cqe(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_conn_table *t = ctx;
	struct kc_conn *c = conn_of(t, ud);

	if (c)
		kc_conn_on_send(c, res);
	else
		on_stale(t, flags);
}

void kc_conns_init(struct kc_conn_table *t, const struct kc_conn_setup *setup)
{
	kc_conn_table_init(t, setup);
	kc_ring_on(setup->ring, KC_OP_RECV, on_recv_cqe, t);
	kc_ring_on(setup->ring, KC_OP_SEND, on_send_cqe, t);
}

/*
 * Connections whose frame budget ran out stay dirty for the next turn
 * (conn_flow.h), after every other one had its turn.
 */
void kc_conns_process(struct kc_conn_table *t)
{
	struct kc_conn *later = NULL;

	while (t->dirty) {
		struct kc_conn *c = t->dirty, *next;

		t->dirty = NULL;
		for (; c; c = next) {
			next = c->next_dirty;
			c->more_input = false;
			kc_conn_process(c);
			if (c->more_input && kc_conn_live(c)) {
				c->next_dirty = later;
				later = c;
				continue;
			}
			c->on_dirty = false;
			kc_conn_maybe_free(c);
		}
	}
	t->dirty = later;
}

void kc_conns_flush(struct kc_conn_table *t)
{
	while (t->flush) {
		struct kc_conn *c = t->flush, *next;

		t->flush = NULL;
		for (; c; c = next) {
			next = c->next_flush;
			kc_conn_flush(c);
			/* What left may let its requests go on (conn_flow.h). */
			kc_conn_flow_resume(c);
			kc_conn_flow_account(c);
			c->on_flush = false;
			kc_conn_maybe_free(c);
		}
	}
}

void kc_conns_tick(struct kc_conn_table *t, uint64_t now_ms)
{
	if (t->s.shared->addrs)
		kc_addr_limits_prune(t->s.shared->addrs, now_ms);
	for (uint32_t i = 0; i < t->used; i++) {
		struct kc_conn *c = t->v[i];

		if (c->state != KC_CONN_FREE)
			kc_conn_tick(c, now_ms);
	}
}

void kc_conns_stop(struct kc_conn_table *t)
{
	for (uint32_t i = 0; i < t->used; i++) {
		struct kc_conn *c = t->v[i];

		if (c->state == KC_CONN_HANDSHAKE)
			kc_conn_fail(c, NULL);
		else
			kc_conn_finish(c);
	}
}

bool kc_conns_pending(const struct kc_conn_table *t)
{
	return t->dirty != NULL;
}

bool kc_conns_idle(const struct kc_conn_table *t)
{
	return t->used == t->nfree;
}

void kc_conns_shut(struct kc_conn_table *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		kc_conn_fail(t->v[i], NULL);
}

void kc_conns_fini(struct kc_conn_table *t)
{
	for (uint32_t i = 0; i < t->used; i++) {
		struct kc_conn *c = t->v[i];

		c->recv_armed = c->send_inflight = false;
		c->on_dirty = c->on_flush = false;
		kc_conn_maybe_free(c);
	}
	kc_conn_table_fini(t);
}
