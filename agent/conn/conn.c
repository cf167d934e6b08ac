// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection slots and lifecycle: see conn.h for the states.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/addr_limits.h"
#include "conn/conn.h"
#include "ring/counters.h"
#include "ring/ratelog.h"

/* Time a closing connection gets to deliver its last frames. */
#define LINGER_MS 3000

void kc_conn_table_init(struct kc_conn_table *t,
			const struct kc_conn_setup *setup)
{
	memset(t, 0, sizeof(*t));
	t->s = *setup;
	t->max = setup->shared->cfg->max_connections;
}

static size_t conn_bytes(const struct kc_conn_table *t)
{
	return sizeof(struct kc_conn) + t->s.priv_size;
}

void kc_conn_table_fini(struct kc_conn_table *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		free(t->v[i]);
	free(t->v);
	free(t->free_slots);
	memset(t, 0, sizeof(*t));
}

struct kc_conn *kc_conn_lookup(struct kc_conn_table *t, uint32_t slot,
			       uint32_t gen)
{
	struct kc_conn *c;

	if (slot >= t->used)
		return NULL;
	c = t->v[slot];
	if (c->state == KC_CONN_FREE || c->gen != gen)
		return NULL;
	return c;
}

static int table_grow(struct kc_conn_table *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	struct kc_conn **v;
	uint32_t *fs;

	v = reallocarray(t->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	fs = reallocarray(t->free_slots, cap, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	t->free_slots = fs;
	t->cap = cap;
	return 0;
}

/* A free slot with its generation bumped, or NULL when the table is full. */
static struct kc_conn *slot_alloc(struct kc_conn_table *t)
{
	struct kc_conn *c;

	if (t->nfree) {
		c = t->v[t->free_slots[--t->nfree]];
		c->gen = (c->gen + 1) & KC_GEN_MASK;
		return c;
	}
	if (t->used >= t->max)
		return NULL;
	if (t->used == t->cap && table_grow(t))
		return NULL;
	c = calloc(1, conn_bytes(t));
	if (!c)
		return NULL;
	c->slot = t->used;
	t->v[t->used++] = c;
	return c;
}

static void slot_free(struct kc_conn_table *t, struct kc_conn *c)
{
	uint32_t slot = c->slot, gen = c->gen;

	memset(c, 0, conn_bytes(t));
	c->slot = slot;
	c->gen = gen;
	c->state = KC_CONN_FREE;
	t->free_slots[t->nfree++] = slot;
}

/*
 * Ciphertext the engine may queue: what `in` may hold, and at least one
 * recv buffer or kTLS record, so a completion fits into a drained engine.
 */
static size_t engine_cap(const struct kc_conn *c)
{
	size_t chunk = c->t->s.bufs->buf_size;

	if (chunk < KC_TLS_RECORD_MAX)
		chunk = KC_TLS_RECORD_MAX;
	return kc_conn_in_cap(c) > chunk ? kc_conn_in_cap(c) : chunk;
}

void kc_conn_set_frame_limit(struct kc_conn *c, uint32_t limit)
{
	c->frame_limit = limit;
	kc_tls_set_in_max(c->tls, engine_cap(c));
}

static void conn_setup(struct kc_conn *c, struct kc_conn_table *t, int fd)
{
	int one = 1;

	c->state = KC_CONN_HANDSHAKE;
	c->fd = fd;
	c->t = t;
	c->accepted_ms = kc_conn_now_ms(c);
	c->last_rx_ms = c->accepted_ms;
	/* Only the handshake until on_open sets a limit: one record's worth. */
	kc_conn_set_frame_limit(c, 0);
	/* Frames are small and answered at once: do not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Counts the connection against max_connections (all workers together). */
static bool admit(struct kc_conn_shared *sh)
{
	if (atomic_fetch_add(&sh->nconns, 1) < sh->cfg->max_connections)
		return true;
	atomic_fetch_sub(&sh->nconns, 1);
	return false;
}

/* Its source address's caps (addr_limits.h): closed before any TLS. */
static int admit_addr(struct kc_conn_table *t, int fd,
		      struct kc_addr_entry **slot)
{
	struct kc_conn_shared *sh = t->s.shared;
	int ret;

	*slot = NULL;
	if (!sh->addrs)
		return 0;
	ret = kc_addr_admit(sh->addrs, fd, t->s.ring->mono_ms, slot);
	if (ret == -EMFILE)
		kc_log_peer("connection refused: max_conns_per_addr (%u) reached",
			    sh->cfg->max_conns_per_addr);
	else if (ret == -EAGAIN)
		kc_log_peer("connection refused: handshakes_per_addr (%u/s) passed",
			    sh->cfg->handshakes_per_addr);
	return ret;
}

static void release_addr(struct kc_conn_table *t, struct kc_addr_entry *slot)
{
	if (slot)
		kc_addr_release(t->s.shared->addrs, slot);
}

int kc_conn_accept(struct kc_conn_table *t, int fd)
{
	struct kc_conn_shared *sh = t->s.shared;
	struct kc_addr_entry *addr;
	struct kc_conn *c;
	int ret;

	if (!admit(sh)) {
		kc_count(KC_CTR_REFUSED_CONNS, 1);
		kc_log_peer("connection refused: max_connections (%u) reached",
			    sh->cfg->max_connections);
		close(fd);
		return -EBUSY;
	}
	if (admit_addr(t, fd, &addr)) {
		kc_count(KC_CTR_REFUSED_CONNS, 1);
		close(fd);
		atomic_fetch_sub(&sh->nconns, 1);
		return -EBUSY;
	}
	c = slot_alloc(t);
	if (!c) {
		ret = -ENOMEM;
		goto err_close;
	}
	ret = kc_tls_conn_new(sh->tls, &c->tls);
	if (ret) {
		slot_free(t, c);
		goto err_close;
	}
	conn_setup(c, t, fd);
	c->addr_slot = addr;
	kc_conn_arm_recv(c);
	kc_count(KC_CTR_CONN_ACCEPTED, 1);
	return 0;
err_close:
	close(fd);
	release_addr(t, addr);
	atomic_fetch_sub(&sh->nconns, 1);
	kc_log_peer("connection dropped: %s", strerror(-ret));
	return ret;
}

void kc_conn_mark_dirty(struct kc_conn *c)
{
	struct kc_conn_table *t = c->t;

	if (c->on_dirty)
		return;
	c->on_dirty = true;
	c->next_dirty = t->dirty;
	t->dirty = c;
}

void kc_conn_mark_flush(struct kc_conn *c)
{
	struct kc_conn_table *t = c->t;

	if (c->on_flush)
		return;
	c->on_flush = true;
	c->next_flush = t->flush;
	t->flush = c;
}

void kc_conn_arm_recv(struct kc_conn *c)
{
	struct io_uring_sqe *sqe = kc_ring_sqe(c->t->s.ring);

	if (!sqe) {
		kc_conn_fail(c, "no submission queue entry");
		return;
	}
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = c->t->s.bufs->bgid;
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_RECV, c->gen, c->slot));
	c->recv_armed = true;
}

void kc_conn_rearm_recv(struct kc_conn *c)
{
	if (!c->recv_armed && !c->rx_eof && !c->in_paused &&
	    c->state != KC_CONN_CLOSING && c->state != KC_CONN_FREE)
		kc_conn_arm_recv(c);
}

void kc_conn_stop_recv(struct kc_conn *c)
{
	if (c->recv_armed)
		kc_ring_cancel(c->t->s.ring,
			       kc_udata(KC_OP_RECV, c->gen, c->slot));
}

/*
 * shutdown() wakes the multishot recv (it completes with 0); the cancel
 * covers a recv the kernel has not armed on the socket yet.
 */
static void cancel_recv(struct kc_conn *c)
{
	uint64_t ud = kc_udata(KC_OP_RECV, c->gen, c->slot);

	if (!c->recv_armed || c->cancel_sent)
		return;
	if (!kc_ring_cancel(c->t->s.ring, ud))
		c->cancel_sent = true;
}

void kc_conn_fail(struct kc_conn *c, const char *why)
{
	if (c->state == KC_CONN_CLOSING || c->state == KC_CONN_FREE)
		return;
	if (why)
		kc_log_peer("connection %s%sclosed: %s", c->id,
			    c->id[0] ? " " : "", why);
	kc_conn_ev(c)->on_close(c);
	c->state = KC_CONN_CLOSING;
	shutdown(c->fd, SHUT_RDWR);
	cancel_recv(c);
	kc_conn_maybe_free(c);
}

void kc_conn_finish(struct kc_conn *c)
{
	if (!kc_conn_live(c))
		return;
	kc_conn_ev(c)->on_close(c);
	c->state = KC_CONN_DRAINING;
	c->linger_until_ms = kc_conn_now_ms(c) + LINGER_MS;
	kc_conn_mark_flush(c);
}

void kc_conn_peer_done(struct kc_conn *c, bool eof)
{
	if (eof)
		c->rx_eof = true;
	if (c->state == KC_CONN_LINGER && c->rx_eof) {
		kc_conn_fail(c, NULL); /* our side is out too: done */
		return;
	}
	if (c->state == KC_CONN_HANDSHAKE && eof) {
		kc_conn_fail(c, NULL);
		return;
	}
	c->peer_done = true;
	kc_conn_mark_dirty(c);
}

static void check_deadline(struct kc_conn *c, uint64_t now, uint64_t at,
			   const char *why)
{
	if (now >= at)
		kc_conn_fail(c, why);
}

void kc_conn_tick(struct kc_conn *c, uint64_t now_ms)
{
	const struct kc_agent_config *cfg = c->t->s.shared->cfg;
	uint64_t hs_end = c->accepted_ms + cfg->handshake_timeout * 1000ull;

	switch (c->state) {
	case KC_CONN_HANDSHAKE:
		check_deadline(c, now_ms, hs_end, "handshake timeout");
		break;
	case KC_CONN_OPEN:
		kc_conn_ev(c)->on_tick(c, now_ms);
		if (!c->got_frame)
			check_deadline(c, now_ms, hs_end, "no first frame");
		else
			check_deadline(c, now_ms,
				       c->last_rx_ms +
					       cfg->idle_timeout * 1000ull,
				       "idle timeout");
		break;
	case KC_CONN_DRAINING:
	case KC_CONN_LINGER:
		check_deadline(c, now_ms, c->linger_until_ms, NULL);
		break;
	default:
		break;
	}
}

void kc_conn_maybe_free(struct kc_conn *c)
{
	if (c->state != KC_CONN_CLOSING || c->recv_armed || c->send_inflight ||
	    c->on_dirty || c->on_flush)
		return;
	close(c->fd);
	/* Its unsent output no longer counts (conn_flow.h). */
	atomic_fetch_sub(&c->t->s.shared->out_bytes, c->counted);
	c->counted = 0;
	kc_bytebuf_free(&c->stash);
	kc_tls_conn_free(c->tls);
	kc_bytebuf_free(&c->in);
	kc_bytebuf_free(&c->out);
	free(c->holds);
	kc_bytebuf_free(&c->wire);
	release_addr(c->t, c->addr_slot);
	c->addr_slot = NULL;
	atomic_fetch_sub(&c->t->s.shared->nconns, 1);
	kc_count(KC_CTR_CONN_CLOSED, 1);
	slot_free(c->t, c);
}
