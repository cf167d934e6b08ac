/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker thread: its own io_uring, SO_REUSEPORT listener, provided
 * buffer ring, connection table, crypto tier instance and inbox.
 *
 * Loop turn (docs/DESIGN.md "Loop turn"):
 *   1. submit and wait (at most one tick; not at all while a group is
 *      pending), reap every CQE;
 *   2. connections that got bytes: TLS, frames, handlers;
 *   3. notes from other workers;
 *   4. the group commit of this turn's SENDs and DELIVEREDs, ACK patching,
 *      routing (commit.c, router.c);
 *   5. flush: encrypt released output, keep one send in flight each.
 * Only the worker's own thread touches its ring and connections; other
 * threads reach it through kc_worker_post (inbox + MSG_RING).
 */
#ifndef KC_WORKER_H
#define KC_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "bufring.h"
#include "commit.h"
#include "conn.h"
#include "daemon.h"
#include "inbox.h"
#include "crypto/keyring.h"
#include "sessions.h"

struct kc_worker {
	struct kc_daemon *d;
	unsigned int index;
	pthread_t thread;
	int listen_fd;

	struct io_uring ring;
	bool ring_ready;
	int ring_fd; /* MSG_RING target for other threads */
	struct kc_bufring bufs;
	struct kc_conn_table conns;
	struct kc_crypto *crypto;
	struct kc_keyring keyring; /* this worker's handle on "kcourier" */
	struct kc_session_ctx sctx;
	struct kc_inbox inbox;
	struct kc_commit batch;
	/* SEND's recipient check, without store_lock; NULL: via d->store. */
	struct kc_store_reader *reader;

	uint8_t *scratch; /* SEND plaintext, max_frame bytes, wiped after use */
	size_t scratch_len;

	struct kc_conn *dirty, *flush; /* intrusive lists for steps 2 and 5 */

	uint64_t mono_ms; /* this turn's clock, for deadlines */
	uint64_t next_prune_ms;
	int64_t now_ms; /* this turn's wall clock, for the protocol */
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
int kc_worker_start(struct kc_worker *w, struct kc_daemon *d,
		    unsigned int index, int listen_fd);
/* Asks the worker to stop; `from` is a ring the caller owns. */
void kc_worker_request_stop(struct kc_worker *w, struct io_uring *from);
/* Waits for the thread and frees what it owned. */
void kc_worker_join(struct kc_worker *w);

/* An SQE, submitting first when the ring is full; NULL only on ring loss. */
struct io_uring_sqe *kc_worker_sqe(struct kc_worker *w);
/* Queues a note for a connection on worker `to`, waking it if needed. */
int kc_worker_post(struct kc_worker *from, struct kc_worker *to, uint32_t slot,
		   uint32_t gen, struct kc_payload *p);

void kc_worker_mark_dirty(struct kc_worker *w, struct kc_conn *c);
void kc_worker_mark_flush(struct kc_worker *w, struct kc_conn *c);

#endif
