/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker's io_uring: SQEs, the wait, and completion dispatch by op.
 *
 * Every SQE carries user_data as udata.h encodes it. The layers above
 * install one handler per op (kc_ring_on) and the ring calls it with the
 * whole user_data of each completion, so the ring itself never names a
 * connection or a protocol. An op without a handler (KC_OP_NONE, and
 * KC_OP_WAKE, which only interrupts the wait) is dropped.
 *
 * The ring also keeps the clocks of the turn: read once when the wait
 * returns, so every deadline and time stamp of one turn agrees.
 */
#ifndef KC_RING_H
#define KC_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "ring/udata.h"

/* One completion: its user_data, result and flags as the kernel gave them. */
typedef void kc_ring_handler_fn(void *ctx, uint64_t udata, int res,
				uint32_t flags);

struct kc_ring_handler {
	kc_ring_handler_fn *fn;
	void *ctx;
};

struct kc_ring {
	struct io_uring ring;
	bool ready;
	int fd; /* MSG_RING target for other threads */
	struct kc_ring_handler on[KC_OP_COUNT];
	uint64_t mono_ms; /* this turn's clock, for deadlines */
	int64_t wall_ms;  /* this turn's wall clock, for the protocol */
	uint64_t turns;	  /* turns so far: per-turn budgets reset on it */
};

/* SINGLE_ISSUER|DEFER_TASKRUN where the kernel has them (6.1+). */
int kc_ring_init(struct kc_ring *r, unsigned int entries);
/* Lets go of every buffer and file the kernel held for this ring. */
void kc_ring_fini(struct kc_ring *r);

void kc_ring_on(struct kc_ring *r, enum kc_op op, kc_ring_handler_fn *fn,
		void *ctx);

/* An SQE, submitting first when the ring is full; NULL only on ring loss. */
struct io_uring_sqe *kc_ring_sqe(struct kc_ring *r);

/*
 * Submits, waits at most wait_s seconds for one completion (0: does not
 * wait), reads the clocks, then hands every completion to its handler.
 */
void kc_ring_turn(struct kc_ring *r, unsigned int wait_s);

/* Completions not yet handled (kTLS waits for none: conn/tls_ktls.h). */
static inline unsigned int kc_ring_cq_ready(struct kc_ring *r)
{
	return io_uring_cq_ready(&r->ring);
}

static inline bool kc_ring_defers_taskrun(const struct kc_ring *r)
{
	return r->ring.flags & IORING_SETUP_DEFER_TASKRUN;
}

/*
 * Cancels the request submitted with user_data ud; its own CQE goes
 * nowhere. 0, or -EAGAIN without an SQE.
 */
int kc_ring_cancel(struct kc_ring *r, uint64_t ud);

/* Fills sqe to wake the ring behind target_fd (a KC_OP_WAKE completion). */
void kc_ring_prep_wake(struct io_uring_sqe *sqe, int target_fd);

#endif
