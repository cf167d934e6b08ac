/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker thread: its own io_uring, SO_REUSEPORT listener, provided
 * buffer ring, connection table and inbox.
 *
 * Loop turn (docs/DESIGN.md "Loop turn"):
 *   1. submit and wait (at most one tick; not at all while the layer
 *      above has work pending), reap every CQE;
 *   2. connections that got bytes: TLS, frames, on_frame;
 *   3. notes from other workers, each to its connection (ops->on_note);
 *   4. ops->after_turn: groups back from the committer get their ACKs
 *      patched; this turn's SENDs and DELIVEREDs go to the committer as
 *      one group (proto/);
 *   5. flush: encrypt released output, keep one send in flight each.
 * Only the worker's own thread touches its ring and connections; other
 * threads reach it through kc_worker_post (inbox + MSG_RING).
 *
 * The loop knows nothing of requests: what it calls above itself is the
 * ops table that cmd_run.c installs in struct kc_loop before the first
 * worker starts, and the connection events in that table go into each
 * worker's connection table (conn/conn.h).
 */
#ifndef KC_WORKER_H
#define KC_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn/conn.h"
#include "ring/bufring.h"
#include "ring/inbox.h"
#include "ring/ring.h"

struct kc_worker;

/* The layer above the loop; every call is on the worker's own thread. */
struct kc_worker_ops {
	/* Its state of each connection (kc_conn_priv), and the events. */
	size_t conn_priv_size;
	const struct kc_conn_events *conn_events;
	/*
	 * Before the loop: sets w->upper, its per-worker state, which the
	 * connection events find as kc_conn_upper(). 0 or -errno.
	 */
	int (*init)(struct kc_worker *w);
	/* After the connections are shut, also after a failed init. */
	void (*fini)(struct kc_worker *w);
	/* Step 3: a note another worker posted for connection c. */
	void (*on_note)(struct kc_conn *c, const struct kc_payload *p);
	/* Step 4, once per turn. */
	void (*after_turn)(struct kc_worker *w);
	/* True while after_turn has work that must not wait for a tick. */
	bool (*pending)(const struct kc_worker *w);
	/* True while it has work out that will come back to this thread. */
	bool (*busy)(const struct kc_worker *w);
	/* Once per tick, before the connections' deadlines. */
	void (*on_tick)(struct kc_worker *w);
};

/* What every worker of one run shares; set before the first one starts. */
struct kc_loop {
	struct kc_conn_shared conns;
	const struct kc_worker_ops *ops;
	void *ops_ctx; /* the layer above's shared context, for ops->init */
	struct kc_worker **workers;
	unsigned int nworkers;
};

struct kc_worker {
	struct kc_loop *loop;
	unsigned int index;
	pthread_t thread;
	int listen_fd;

	struct kc_ring ring;
	struct kc_bufring bufs;
	struct kc_conn_table conns;
	struct kc_inbox inbox;
	void *upper; /* the layer above's per-worker state (ops->init) */

	bool accept_armed;
	atomic_bool stop;
	bool stopping;
	uint64_t stop_deadline_ms;

	/* Start-up handshake with the main thread. */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	bool started;
	int start_err;
};

/* Creates the thread; returns once its ring is up (0) or failed (-errno). */
int kc_worker_start(struct kc_worker *w, struct kc_loop *loop,
		    unsigned int index, int listen_fd);
/* Asks the worker to stop; `from` is a ring the caller owns. */
void kc_worker_request_stop(struct kc_worker *w, struct io_uring *from);
/* Waits for the thread; what it owned is freed, but for its inbox. */
void kc_worker_join(struct kc_worker *w);
/*
 * Frees a joined worker (calloc'ed by the caller) and its inbox: only
 * once nothing can post to it any more (the committer has stopped).
 */
void kc_worker_free(struct kc_worker *w);

/* The turn's clocks (ring.h): monotonic for deadlines, wall for protocol. */
static inline uint64_t kc_worker_mono_ms(const struct kc_worker *w)
{
	return w->ring.mono_ms;
}

static inline int64_t kc_worker_wall_ms(const struct kc_worker *w)
{
	return w->ring.wall_ms;
}

/* Queues a note for a connection on worker `to`, waking it if needed. */
int kc_worker_post(struct kc_worker *from, struct kc_worker *to, uint32_t slot,
		   uint32_t gen, struct kc_payload *p);
/* Hands every note in w's inbox to ops->on_note (step 3). */
void kc_worker_drain_inbox(struct kc_worker *w);

#endif
