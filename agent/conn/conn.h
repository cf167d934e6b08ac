/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One client connection on a worker: TLS engine, frame assembly, the
 * output queue with its hold (docs/DESIGN.md "Layers": the conn layer).
 *
 * A connection knows bytes, TLS and frames, not what a frame asks for.
 * It tells the layer above what happens through the callbacks of struct
 * kc_conn_events, which the worker installs in each connection table
 * (as a socket calls sk->sk_data_ready): a finished handshake, each whole
 * frame, a backlog low enough to queue more, a tick, and the teardown.
 * That layer keeps its own state of each connection in the slot's
 * private area (kc_conn_priv, sized by the installer).
 *
 * Lifecycle:
 *   HANDSHAKE  accepted, TLS handshake running
 *   OPEN       handshake done; `authed` (client certificate for a live id)
 *              or register-only (no certificate: one REGISTER allowed)
 *   DRAINING   no more input is handled; the output still queued (an
 *              ERROR, say) is sent, then the write side is shut
 * When the peer ends its side (close_notify, EOF, or a reset), every
 * whole frame it sent before that is still handled (peer_done), and only
 * then does the connection move to DRAINING: a DELIVERED written just
 * before a client's close_notify is not lost.
 *   LINGER     write side shut; waits for the peer's EOF (or a deadline)
 *              so the last frames are not lost to a reset
 *   CLOSING    socket shut down; waits for the recv and any send still in
 *              the kernel, then closes the fd and frees the slot
 * Slots carry a generation, bumped on reuse, that is part of every SQE's
 * user_data and of every cross-worker note, so anything addressed to an
 * earlier connection in the same slot is dropped.
 *
 * Ordering rule (docs/DESIGN.md "Loop turn"): answers leave in request order.
 * When SENDs wait for a group commit, a hold marks where their part of
 * `out` starts; nothing from the oldest hold on is encrypted or sent until
 * its commit has patched the ACK statuses and released it. Several commits
 * may be in flight at once: holds form a FIFO, released oldest first, and
 * positions count from the start of the connection's output stream (they
 * stay valid while the bytes before them leave).
 */
#ifndef KC_CONN_H
#define KC_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentconf/agentconf.h"
#include "conn/bytebuf.h"
#include "conn/tls.h"
#include "ring/bufring.h"
#include "ring/ring.h"
#include "wire/wire.h"

struct kc_conn;

enum kc_conn_state {
	KC_CONN_FREE = 0,
	KC_CONN_HANDSHAKE,
	KC_CONN_OPEN,
	KC_CONN_DRAINING,
	KC_CONN_LINGER,
	KC_CONN_CLOSING,
};

/* A frame's u32 len, in front of the len bytes it counts. */
#define KC_FRAME_LEN_FIELD 4

/*
 * What the layer above hears, each on the connection's own worker:
 *   on_open      handshake done; id is the client certificate's id, or
 *                NULL without a certificate (register-only). Not 0: the
 *                peer is refused (ERROR UNAUTHORIZED, then close). On 0
 *                it sets the frame limit (kc_conn_set_frame_limit):
 *                until then no frame fits.
 *   on_frame     one whole frame as delimited by kc_frame_peek.
 *   on_writable  an OPEN connection's backlog is low at a flush: room to
 *                queue more (a stored queue's next chunk, say).
 *   on_tick      once per tick while OPEN, before its deadlines.
 *   on_close     the connection stops being live (fail or finish; it
 *                may come twice): let go of what ties it to others.
 */
struct kc_conn_events {
	int (*on_open)(struct kc_conn *c, const char *id);
	void (*on_frame)(struct kc_conn *c, const uint8_t *frame, size_t len);
	void (*on_writable)(struct kc_conn *c);
	void (*on_tick)(struct kc_conn *c, uint64_t now_ms);
	void (*on_close)(struct kc_conn *c);
};

struct kc_addr_limits;
struct kc_addr_entry;

/* What the connections of every worker share; the atomics change. */
struct kc_conn_shared {
	/* max_connections, timeouts, the flow limits of conn_flow.h */
	const struct kc_agent_config *cfg;
	struct kc_tls_server *tls;
	atomic_uint nconns;
	/* Unsent output of every connection (output_memory_mb). */
	atomic_size_t out_bytes;
	/* Per source address caps (addr_limits.h); NULL: none. */
	struct kc_addr_limits *addrs;
};

struct kc_conn_table;

struct kc_conn {
	uint32_t slot, gen;
	enum kc_conn_state state;
	int fd;
	struct kc_conn_table *t;
	struct kc_tls_conn *tls;
	uint8_t ktls; /* enum kc_ktls_mode: who has the record layer */

	bool got_frame; /* first frame seen: handshake deadline over */
	/* The longest frame len taken (kc_conn_set_frame_limit). */
	uint32_t frame_limit;
	/* The certificate's client id once on_open took it; "" otherwise. */
	char id[KC_TLS_ID_SIZE];

	struct kc_bytebuf in;  /* plaintext not yet cut into frames */
	struct kc_bytebuf out; /* plaintext frames not yet encrypted */
	uint64_t out_sent;     /* bytes of the stream consumed from out */
	uint64_t *holds;       /* stream positions of the holds, oldest first */
	unsigned int nholds, holds_cap;
	struct kc_bytebuf wire; /* ciphertext of the send in flight */

	bool recv_armed;    /* a multishot recv is in the kernel */
	bool recv_starved;  /* it ended on -ENOBUFS: re-arm after the turn */
	bool send_inflight; /* wire is in the kernel: do not touch it */
	bool cancel_sent;
	bool bye_sent; /* close_notify queued (DRAINING) */
	bool peer_done; /* peer sent close_notify or EOF: no more input */
	bool rx_eof;	/* the socket's read side ended: no recv to wait for */

	uint64_t accepted_ms, last_rx_ms, linger_until_ms;

	/* Flow control (conn_flow.h). */
	bool in_paused;		 /* recv stopped until output drains */
	bool out_blocked;	 /* frames wait for output to drain */
	bool more_input;	 /* the turn's frame budget ran out */
	struct kc_bytebuf stash; /* received after the pause began */
	uint64_t turn_no;	 /* the ring turn turn_frames counts in */
	uint32_t turn_frames;
	size_t counted; /* this connection's part of shared->out_bytes */
	/* Its source address's entry in shared->addrs (addr_limits.h). */
	struct kc_addr_entry *addr_slot;

	bool on_dirty, on_flush;
	struct kc_conn *next_dirty, *next_flush;

	/* The layer above's state of this connection, zeroed with the slot. */
	_Alignas(max_align_t) unsigned char priv[];
};

/* What a worker gives its connection table. */
struct kc_conn_setup {
	struct kc_ring *ring;
	struct kc_bufring *bufs;
	struct kc_conn_shared *shared;
	const struct kc_conn_events *events;
	size_t priv_size; /* bytes of kc_conn_priv per connection */
	void *upper;	  /* the layer above's per-worker state */
};

/* Per-worker slot table, and the lists of the turn's steps 2 and 5. */
struct kc_conn_table {
	struct kc_conn **v;
	uint32_t cap, used, max;
	uint32_t *free_slots;
	uint32_t nfree;
	struct kc_conn_setup s;
	struct kc_conn *dirty, *flush;
};

void kc_conn_table_init(struct kc_conn_table *t,
			const struct kc_conn_setup *setup);
/* Frees every slot; the connections must be closed already. */
void kc_conn_table_fini(struct kc_conn_table *t);
/* The live connection in slot with generation gen, or NULL. */
struct kc_conn *kc_conn_lookup(struct kc_conn_table *t, uint32_t slot,
			       uint32_t gen);

static inline void *kc_conn_priv(struct kc_conn *c)
{
	return c->priv;
}

/* The per-worker state the layer above installed (kc_conn_setup.upper). */
static inline void *kc_conn_upper(const struct kc_conn *c)
{
	return c->t->s.upper;
}

static inline const struct kc_conn_events *kc_conn_ev(const struct kc_conn *c)
{
	return c->t->s.events;
}

/* This turn's monotonic clock (ring.h). */
static inline uint64_t kc_conn_now_ms(const struct kc_conn *c)
{
	return c->t->s.ring->mono_ms;
}

/* Takes over an accepted socket; closes fd itself on failure. */
int kc_conn_accept(struct kc_conn_table *t, int fd);
/* Peer errors, TLS failures, timeouts: shut the socket now. */
void kc_conn_fail(struct kc_conn *c, const char *why);
/* Send what is queued (an ERROR, say), then close. */
void kc_conn_finish(struct kc_conn *c);
/*
 * The peer will send no more (close_notify, EOF or reset; eof: the
 * socket's read side is over too). Frames already received are still
 * handled in the turn's processing step, which then finishes.
 */
void kc_conn_peer_done(struct kc_conn *c, bool eof);
/* Deadlines, and on_tick while OPEN, once per tick. */
void kc_conn_tick(struct kc_conn *c, uint64_t now_ms);
/*
 * The longest frame len c takes, set by the layer above (on_open): until
 * then no frame fits. It also bounds what c buffers of the peer's input:
 * one whole frame of plaintext (kc_conn_in_cap), and about as much
 * ciphertext in the TLS engine (conn_in.c).
 */
void kc_conn_set_frame_limit(struct kc_conn *c, uint32_t limit);
static inline size_t kc_conn_in_cap(const struct kc_conn *c)
{
	return (size_t)c->frame_limit + KC_FRAME_LEN_FIELD;
}
/* Frees the slot once the kernel holds nothing of the connection. */
void kc_conn_maybe_free(struct kc_conn *c);
static inline bool kc_conn_live(const struct kc_conn *c)
{
	return c->state == KC_CONN_HANDSHAKE || c->state == KC_CONN_OPEN;
}

/* The multishot recv into the worker's provided buffers. */
void kc_conn_arm_recv(struct kc_conn *c);
/* Arms it unless it is armed, or input is over or paused. */
void kc_conn_rearm_recv(struct kc_conn *c);
/* Stops it, for the flow control of conn_flow.h. */
void kc_conn_stop_recv(struct kc_conn *c);
/* Queues c for the turn's input step (2) or flush step (5). */
void kc_conn_mark_dirty(struct kc_conn *c);
void kc_conn_mark_flush(struct kc_conn *c);

#endif
