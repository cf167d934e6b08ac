// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection input: multishot recv into provided buffers, the TLS
 * handshake and record layer, frame assembly (PROTOCOL.md sections 3-4).
 *
 * What a peer can make the agent hold is bounded by the connection's
 * frame limit: `in` takes plaintext only up to one whole frame of that
 * limit (its len field included), so the frame at its head can always be
 * judged (cut, or refused on len alone); the TLS engine queues at most
 * that much ciphertext too (never less than one recv buffer). When a
 * completion would pass the engine's cap, what it holds is handled at
 * once, frames included, instead of buffering more.
 */
#include <errno.h>
#include <string.h>

#include "conn/conn.h"
#include "conn/conn_flow.h"
#include "conn/conn_in.h"
#include "conn/conn_ktls.h"
#include "conn/conn_out.h"
#include "ring/ratelog.h"

/* Plaintext is read out of the TLS engine this much at a time. */
#define READ_CHUNK (16u * 1024)

/*
 * Received bytes (ciphertext, or plaintext once kTLS has the record
 * layer) into the TLS engine for step 2; at once when they would pass
 * the engine's cap; into the stash when frames wait (conn_flow.h).
 */
static void feed(struct kc_conn *c, const uint8_t *p, size_t len)
{
	int ret;

	/* DRAINING and LINGER read only to see the peer's EOF. */
	if (!kc_conn_live(c))
		return;
	/* Behind a stash, bytes queue behind it: order is the stream's. */
	if (kc_bytebuf_size(&c->stash))
		ret = -ENOBUFS;
	else
		ret = kc_tls_feed(c->tls, p, len);
	/* Over the engine's cap: handle what it holds, then retry. */
	if (ret == -ENOBUFS && !kc_bytebuf_size(&c->stash)) {
		kc_conn_process(c);
		if (!kc_conn_live(c))
			return;
		ret = kc_tls_feed(c->tls, p, len);
	}
	/* Still full: frames wait for output or the next turn (conn_flow.h). */
	if (ret == -ENOBUFS)
		ret = kc_conn_flow_stash(c, p, len);
	if (ret) {
		kc_conn_fail(c, "too much unread input");
		return;
	}
	kc_conn_mark_dirty(c);
}

static void on_recv_end(struct kc_conn *c, int res)
{
	if (kc_conn_ktls_recv_end(c, res, feed))
		return;
	/*
	 * EOF or a reset: the peer is done; neither is worth a log line.
	 * What it sent before is in the TLS engine and still handled.
	 */
	if (res == 0 || res == -ECONNRESET)
		kc_conn_peer_done(c, true);
	else if (res != -ECANCELED)
		kc_conn_fail(c, strerror(-res));
}

void kc_conn_on_recv(struct kc_conn *c, int res, uint32_t flags)
{
	/* Feeding may handle frames, and a failure then may free c's slot. */
	struct kc_bufring *bufs = c->t->s.bufs;

	if (!(flags & IORING_CQE_F_MORE))
		c->recv_armed = false;
	if (flags & IORING_CQE_F_BUFFER) {
		uint16_t bid = kc_bufring_cqe_bid(flags);

		if (res > 0)
			feed(c, kc_bufring_data(bufs, bid), (size_t)res);
		kc_bufring_put(bufs, bid);
	}
	/*
	 * Out of buffers is flow control: the turn returns them, re-arm. A
	 * recv cancelled for a pause that is over already is armed again.
	 */
	if (res > 0 || res == -ENOBUFS || res == -EAGAIN || res == -EINTR ||
	    (res == -ECANCELED && kc_conn_live(c))) {
		kc_conn_rearm_recv(c);
	} else {
		on_recv_end(c, res);
	}
	kc_conn_maybe_free(c);
}

/* The id is the connection's while on_open judges it, and stays if taken. */
static int open_peer(struct kc_conn *c, const char *id)
{
	int ret;

	if (!id)
		return kc_conn_ev(c)->on_open(c, NULL); /* register-only */
	strcpy(c->id, id);
	ret = kc_conn_ev(c)->on_open(c, c->id);
	if (ret)
		c->id[0] = '\0';
	return ret;
}

static void handshake_done(struct kc_conn *c)
{
	char id[KC_TLS_ID_SIZE];
	int ret = kc_tls_peer(c->tls, id);

	c->state = KC_CONN_OPEN;
	if (ret == 0 || ret == -ENOENT) {
		if (!open_peer(c, ret ? NULL : id))
			return;
	} else {
		kc_log_peer("client certificate refused: %s",
			    kc_tls_reason(c->tls));
	}
	kc_conn_error(c, KC_UNAUTHORIZED, "client certificate not accepted");
	kc_conn_finish(c);
}

static void handshake(struct kc_conn *c)
{
	int ret = kc_tls_handshake_step(c->tls);

	/* Flights and alerts wait in the engine whatever the result. */
	kc_conn_mark_flush(c);
	if (ret == -EAGAIN)
		return;
	if (ret) {
		kc_log_peer("TLS handshake failed: %s", kc_tls_reason(c->tls));
		c->state = KC_CONN_OPEN; /* so finish() drains the alert */
		kc_conn_finish(c);
		return;
	}
	handshake_done(c);
}

/* What fits into `in` now, at most one READ_CHUNK. */
static size_t in_room(const struct kc_conn *c)
{
	size_t have = kc_bytebuf_size(&c->in), room;

	if (have >= kc_conn_in_cap(c))
		return 0;
	room = kc_conn_in_cap(c) - have;
	return room < READ_CHUNK ? room : READ_CHUNK;
}

/* Returns true when it stopped because `in` is full: frames first. */
static bool read_plaintext(struct kc_conn *c)
{
	for (;;) {
		size_t room = in_room(c);
		uint8_t *dst;
		ssize_t n;

		if (!room)
			return true;
		dst = kc_bytebuf_reserve(&c->in, room);
		if (!dst) {
			kc_conn_fail(c, "out of memory");
			return false;
		}
		n = kc_tls_read(c->tls, dst, room);
		if (n > 0) {
			kc_bytebuf_commit(&c->in, (size_t)n);
			continue;
		}
		if (n == 0)
			c->peer_done = true; /* close_notify */
		else if (n != -EAGAIN)
			kc_conn_fail(c, kc_tls_reason(c->tls));
		return false;
	}
}

/* Returns true when `in` filled up: the engine may hold more. */
static bool pump_tls(struct kc_conn *c)
{
	bool full = false;

	if (c->state == KC_CONN_HANDSHAKE)
		handshake(c);
	if (c->state == KC_CONN_OPEN)
		full = read_plaintext(c);
	kc_conn_mark_flush(c);
	return full;
}

/* A negated protocol status back as the status itself. */
static enum kc_status status_of(long negated)
{
	return (enum kc_status)(-negated);
}

static const char *frame_error_text(long err)
{
	return err == -KC_TOO_LARGE ? "frame above the connection's limit"
				    : "frame length 0";
}

/*
 * Every whole frame in `in` to on_frame, while the connection is open and
 * flow control lets it (conn_flow.h). Returns true when flow control
 * stopped it with frames perhaps left: the connection comes back later.
 * A frame is what keeps a connection from being idle: a peer trickling
 * bytes that never make one is cut at idle_timeout.
 */
static bool cut_frames(struct kc_conn *c)
{
	while (c->state == KC_CONN_OPEN) {
		long n = kc_frame_peek(kc_bytebuf_data(&c->in),
				       kc_bytebuf_size(&c->in), c->frame_limit);

		if (n == 0)
			break;
		if (n > 0 && !kc_conn_flow_may_take(c))
			return true;
		if (n < 0) {
			/* Framing is lost: answer, then close (section 3). */
			kc_conn_error(c, status_of(n), frame_error_text(n));
			kc_conn_finish(c);
			break;
		}
		c->got_frame = true;
		c->last_rx_ms = kc_conn_now_ms(c);
		kc_conn_ev(c)->on_frame(c, kc_bytebuf_data(&c->in), (size_t)n);
		kc_bytebuf_consume(&c->in, (size_t)n);
	}
	return false;
}

void kc_conn_process(struct kc_conn *c)
{
	bool full, held = false;

	if (!kc_conn_live(c))
		return;
	kc_conn_flow_unstash(c);
	/* A full `in` always holds a frame to cut or refuse: progress. */
	do {
		full = pump_tls(c);
		held = cut_frames(c);
	} while (full && !held && c->state == KC_CONN_OPEN);
	/* A stash the engine could not take yet: again next turn. */
	if (kc_bytebuf_size(&c->stash) && !c->out_blocked)
		c->more_input = true;
	held = held || kc_bytebuf_size(&c->stash);
	kc_conn_flow_account(c);
	/* Every whole frame before the peer's end is handled: now close. */
	if (c->peer_done && c->state == KC_CONN_HANDSHAKE)
		kc_conn_fail(c, NULL);
	else if (c->peer_done && !held)
		kc_conn_finish(c);
}
