// SPDX-License-Identifier: GPL-2.0-only
/*
 * Worker threads and their loop: see worker.h for the turn's steps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn/conns.h"
#include "loop/worker.h"
#include "ring/counters.h"
#include "ring/ratelog.h"

#define RING_ENTRIES 4096
#define BUF_GROUP 1
#define RECV_BUFS 512
#define RECV_BUF_SIZE (16u * 1024)
#define TICK_MS 1000
/* Time connections get at shutdown to take their last frames. */
#define STOP_GRACE_MS 3000

int kc_worker_post(struct kc_worker *from, struct kc_worker *to, uint32_t slot,
		   uint32_t gen, struct kc_payload *p)
{
	return kc_inbox_post(&to->inbox, &from->ring, slot, gen, p);
}

void kc_worker_drain_inbox(struct kc_worker *w)
{
	struct kc_note *n = kc_inbox_take(&w->inbox);

	while (n) {
		struct kc_note *next = n->next;
		struct kc_conn *c = kc_conn_lookup(&w->conns, n->slot, n->gen);

		if (c)
			w->loop->ops->on_note(c, n->payload);
		kc_note_free(n);
		n = next;
	}
}

/* --- submissions that are not a connection's --- */

static void arm_accept(struct kc_worker *w)
{
	struct io_uring_sqe *sqe = kc_ring_sqe(&w->ring);

	if (!sqe)
		return;
	io_uring_prep_multishot_accept(sqe, w->listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_ACCEPT, 0, 0));
	w->accept_armed = true;
}

static void arm_tick(struct kc_worker *w)
{
	static struct __kernel_timespec tick = { .tv_sec = TICK_MS / 1000 };
	struct io_uring_sqe *sqe = kc_ring_sqe(&w->ring);

	/* The kernel copies the timespec when the SQE is submitted. */
	if (!sqe)
		return;
	io_uring_prep_timeout(sqe, &tick, 0, 0);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_TICK, 0, 0));
}

/* --- completions --- */

static void on_accept(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_worker *w = ctx;

	if (!(flags & IORING_CQE_F_MORE))
		w->accept_armed = false;
	if (res >= 0 && w->stopping)
		close(res);
	else if (res >= 0)
		kc_conn_accept(&w->conns, res);
	else if (res != -ECANCELED)
		kc_log_peer("accept: %s", strerror(-res));
	if (!w->accept_armed && !w->stopping)
		arm_accept(w);
}

static void on_tick(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_worker *w = ctx;

	w->loop->ops->on_tick(w);
	kc_conns_tick(&w->conns, kc_worker_mono_ms(w));
	if (!w->stopping || !kc_conns_idle(&w->conns))
		arm_tick(w);
}

/* --- stop --- */

static void cancel_accept(struct kc_worker *w)
{
	if (w->accept_armed)
		kc_ring_cancel(&w->ring, kc_udata(KC_OP_ACCEPT, 0, 0));
}

/* No new connections; the open ones take their last answers and close. */
static void begin_stop(struct kc_worker *w)
{
	w->stopping = true;
	w->stop_deadline_ms = kc_worker_mono_ms(w) + STOP_GRACE_MS;
	cancel_accept(w);
	kc_conns_stop(&w->conns);
}

/* What the layer above has out (groups at the committer) comes back first. */
static bool loop_done(const struct kc_worker *w)
{
	if (!w->stopping || w->loop->ops->busy(w))
		return false;
	return kc_conns_idle(&w->conns) ||
	       kc_worker_mono_ms(w) >= w->stop_deadline_ms;
}

static void turn(struct kc_worker *w)
{
	const struct kc_worker_ops *ops = w->loop->ops;
	bool busy = ops->pending(w) || kc_conns_pending(&w->conns);

	kc_ring_turn(&w->ring, busy ? 0 : TICK_MS / 1000);
	if (!w->stopping && atomic_load(&w->stop))
		begin_stop(w);
	kc_conns_process(&w->conns);
	kc_worker_drain_inbox(w);
	ops->after_turn(w);
	kc_conns_flush(&w->conns);
	kc_bufring_publish(&w->bufs);
}

static void worker_loop(struct kc_worker *w)
{
	arm_accept(w);
	arm_tick(w);
	while (!loop_done(w))
		turn(w);
}

/* --- setup and teardown --- */

/* The ring's handlers and the connections' setup come before any SQE. */
static int worker_init(struct kc_worker *w)
{
	const struct kc_worker_ops *ops = w->loop->ops;
	struct kc_conn_setup setup;
	int ret;

	ret = kc_ring_init(&w->ring, RING_ENTRIES);
	if (ret)
		return ret;
	w->inbox.ring_fd = w->ring.fd;
	kc_ring_on(&w->ring, KC_OP_ACCEPT, on_accept, w);
	kc_ring_on(&w->ring, KC_OP_TICK, on_tick, w);
	ret = kc_bufring_init(&w->bufs, &w->ring.ring, BUF_GROUP, RECV_BUFS,
			      RECV_BUF_SIZE);
	if (ret)
		return ret;
	ret = ops->init(w);
	if (ret)
		return ret;
	setup = (struct kc_conn_setup){
		.ring = &w->ring,
		.bufs = &w->bufs,
		.shared = &w->loop->conns,
		.events = ops->conn_events,
		.priv_size = ops->conn_priv_size,
		.upper = w->upper,
	};
	kc_conns_init(&w->conns, &setup);
	return 0;
}

/*
 * Connections still open at the end are shut; the ring goes first so the
 * kernel lets go of every buffer, then the slots are freed, and only then
 * the layer above's state, which their teardown still used.
 */
static void worker_fini(struct kc_worker *w)
{
	kc_conns_shut(&w->conns);
	kc_ring_fini(&w->ring);
	kc_conns_fini(&w->conns);
	kc_bufring_fini(&w->bufs, NULL);
	w->loop->ops->fini(w);
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	w->listen_fd = -1;
}

static void report_start(struct kc_worker *w, int err)
{
	pthread_mutex_lock(&w->start_lock);
	w->start_err = err;
	w->started = true;
	pthread_cond_signal(&w->start_cond);
	pthread_mutex_unlock(&w->start_lock);
}

static void *worker_main(void *arg)
{
	struct kc_worker *w = arg;
	char name[16];
	int ret;

	/* top -H and perf name the threads: kc-worker0, kc-worker1, ... */
	snprintf(name, sizeof(name), "kc-worker%u", w->index);
	pthread_setname_np(pthread_self(), name);
	/* Without memory for its counters it only goes uncounted. */
	kc_counters_attach();
	ret = worker_init(w);

	report_start(w, ret);
	if (!ret)
		worker_loop(w);
	worker_fini(w);
	return NULL;
}

int kc_worker_start(struct kc_worker *w, struct kc_loop *loop,
		    unsigned int index, int listen_fd)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->index = index;
	w->listen_fd = listen_fd;
	kc_inbox_init(&w->inbox);
	pthread_mutex_init(&w->start_lock, NULL);
	pthread_cond_init(&w->start_cond, NULL);
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		close(listen_fd);
		w->listen_fd = -1;
		return ret;
	}
	pthread_mutex_lock(&w->start_lock);
	while (!w->started)
		pthread_cond_wait(&w->start_cond, &w->start_lock);
	pthread_mutex_unlock(&w->start_lock);
	if (w->start_err)
		pthread_join(w->thread, NULL);
	return w->start_err;
}

void kc_worker_request_stop(struct kc_worker *w, struct io_uring *from)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	atomic_store(&w->stop, true);
	sqe = io_uring_get_sqe(from);
	if (!sqe)
		return; /* the worker sees the flag at its next tick */
	kc_ring_prep_wake(sqe, w->ring.fd);
	if (io_uring_submit_and_wait(from, 1) >= 0 &&
	    !io_uring_peek_cqe(from, &cqe))
		io_uring_cqe_seen(from, cqe);
}

void kc_worker_join(struct kc_worker *w)
{
	pthread_join(w->thread, NULL);
}

void kc_worker_free(struct kc_worker *w)
{
	if (!w)
		return;
	kc_inbox_fini(&w->inbox);
	pthread_mutex_destroy(&w->start_lock);
	pthread_cond_destroy(&w->start_cond);
	free(w);
}
