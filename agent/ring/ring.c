// SPDX-License-Identifier: GPL-2.0-only
/*
 * The worker's io_uring: see ring.h.
 */
#include <errno.h>
#include <string.h>

#include "base/clock.h"
#include "ring/ring.h"

int kc_ring_init(struct kc_ring *r, unsigned int entries)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(entries, &r->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(entries, &r->ring, &p);
	}
	if (ret)
		return ret;
	r->ready = true;
	r->fd = r->ring.ring_fd;
	return 0;
}

void kc_ring_fini(struct kc_ring *r)
{
	if (r->ready)
		io_uring_queue_exit(&r->ring);
	r->ready = false;
}

void kc_ring_on(struct kc_ring *r, enum kc_op op, kc_ring_handler_fn *fn,
		void *ctx)
{
	r->on[op] = (struct kc_ring_handler){ fn, ctx };
}

struct io_uring_sqe *kc_ring_sqe(struct kc_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

static void dispatch(struct kc_ring *r, const struct io_uring_cqe *cqe)
{
	enum kc_op op = kc_udata_op(cqe->user_data);
	const struct kc_ring_handler *h;

	if (op >= KC_OP_COUNT)
		return;
	h = &r->on[op];
	if (h->fn)
		h->fn(h->ctx, cqe->user_data, cqe->res, cqe->flags);
}

static void reap(struct kc_ring *r)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		dispatch(r, cqe);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
}

void kc_ring_turn(struct kc_ring *r, unsigned int wait_s)
{
	struct __kernel_timespec ts = { .tv_sec = wait_s };
	struct io_uring_cqe *cqe;

	io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts, NULL);
	r->mono_ms = kc_mono_ms();
	r->wall_ms = kc_wall_ms();
	r->turns++;
	reap(r);
}

int kc_ring_cancel(struct kc_ring *r, uint64_t ud)
{
	struct io_uring_sqe *sqe = kc_ring_sqe(r);

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
	return 0;
}

void kc_ring_prep_wake(struct io_uring_sqe *sqe, int target_fd)
{
	io_uring_prep_msg_ring(sqe, target_fd, 0, kc_udata(KC_OP_WAKE, 0, 0),
			       0);
}
