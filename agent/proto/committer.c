// SPDX-License-Identifier: GPL-2.0-only
/*
 * The committer thread and what workers hand it: see committer.h.
 *
 * Its loop: wait on its ring (a wake-up from a worker, or the round's
 * write and sync completing), take what was handed in, start a round
 * when none is in flight, and serve the queue loads whose rounds are
 * out. A stop request is honoured only when nothing handed in is left
 * undone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "proto/committer_int.h"
#include "ring/counters.h"
#include "ring/ratelog.h"

#define RING_ENTRIES 256
#define WAIT_S 1

static void on_log_write(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_committer *cm = ctx;

	/* A short write leaves the sync cancelled: the round failed. */
	if (res < 0)
		cm->write_err = res;
	else if ((size_t)res != cm->lb.len)
		cm->write_err = -EIO;
}

static void on_log_sync(void *ctx, uint64_t ud, int res, uint32_t flags)
{
	struct kc_committer *cm = ctx;
	int err = cm->write_err ? cm->write_err : res;

	kc_round_finish(cm, err);
}

/* Moves what workers handed in to the committer's own lists. */
static bool take_incoming(struct kc_committer *cm,
			  struct kc_load_item **loads)
{
	bool stopping;

	pthread_mutex_lock(&cm->lock);
	if (cm->in_head) {
		*cm->wait_tail = cm->in_head;
		cm->wait_tail = cm->in_tail;
		cm->in_head = NULL;
		cm->in_tail = &cm->in_head;
	}
	*loads = cm->loads_head;
	cm->loads_head = NULL;
	cm->loads_tail = &cm->loads_head;
	stopping = cm->stopping;
	pthread_mutex_unlock(&cm->lock);
	return stopping;
}

/*
 * A load must not overtake a DELIVERED handed in before it, or it would
 * bring back a message the recipient has answered, on its next
 * connection: each load waits until the round in flight and the groups
 * waiting now (the next round) are out; with neither, it is served at
 * once.
 */
static void defer_loads(struct kc_committer *cm, struct kc_load_item *l)
{
	uint64_t after = cm->rounds_begun + (cm->wait_head ? 1 : 0);

	while (l) {
		struct kc_load_item *next = l->next;

		l->after_round = after;
		l->next = NULL;
		*cm->deferred_tail = l;
		cm->deferred_tail = &l->next;
		l = next;
	}
}

static void serve_due_loads(struct kc_committer *cm)
{
	struct kc_load_item *l;

	while ((l = cm->deferred) && l->after_round <= cm->rounds_out) {
		cm->deferred = l->next;
		if (!cm->deferred)
			cm->deferred_tail = &cm->deferred;
		kc_queue_load(cm, &l->r);
		free(l);
	}
}

static bool idle(const struct kc_committer *cm)
{
	return !cm->writing && !cm->wait_head && !cm->deferred;
}

/*
 * The ring is made on this thread: with IORING_SETUP_SINGLE_ISSUER only
 * its creator may submit. kc_committer_start waits for the outcome.
 */
static int ring_up(struct kc_committer *cm)
{
	int ret = kc_ring_init(&cm->ring, RING_ENTRIES);

	if (!ret) {
		kc_ring_on(&cm->ring, KC_OP_LOG_WRITE, on_log_write, cm);
		kc_ring_on(&cm->ring, KC_OP_LOG_SYNC, on_log_sync, cm);
	}
	pthread_mutex_lock(&cm->lock);
	cm->start_err = ret;
	cm->started = true;
	pthread_cond_signal(&cm->start_cond);
	pthread_mutex_unlock(&cm->lock);
	return ret;
}

#define PUBLISH_EVERY_NS (250 * 1000 * 1000ull)

/* Walks every client of the log: not after every round. */
static void publish_log(struct kc_committer *cm)
{
	struct kc_msglog_stats s;
	uint64_t now = kc_mono_ns();

	if (now < cm->next_publish_ns)
		return;
	cm->next_publish_ns = now + PUBLISH_EVERY_NS;
	kc_msglog_stats(cm->log, &s);
	atomic_store_explicit(&cm->pub.segments, s.segments,
			      memory_order_relaxed);
	atomic_store_explicit(&cm->pub.disk_bytes, s.disk_bytes,
			      memory_order_relaxed);
	atomic_store_explicit(&cm->pub.queued, s.queued, memory_order_relaxed);
	atomic_store_explicit(&cm->pub.queued_bytes, s.queued_bytes,
			      memory_order_relaxed);
}

void kc_committer_log_stats(struct kc_committer *cm,
			    struct kc_committer_log *s)
{
	s->segments = atomic_load_explicit(&cm->pub.segments,
					   memory_order_relaxed);
	s->disk_bytes = atomic_load_explicit(&cm->pub.disk_bytes,
					     memory_order_relaxed);
	s->queued = atomic_load_explicit(&cm->pub.queued,
					 memory_order_relaxed);
	s->queued_bytes = atomic_load_explicit(&cm->pub.queued_bytes,
					       memory_order_relaxed);
}

static void *committer_main(void *arg)
{
	struct kc_committer *cm = arg;
	struct kc_load_item *loads;
	bool stopping = false;

	pthread_setname_np(pthread_self(), "kc-committer");
	kc_counters_attach(); /* without: uncounted, as a worker */
	if (ring_up(cm))
		return NULL;
	while (!stopping || !idle(cm)) {
		kc_ring_turn(&cm->ring, WAIT_S);
		stopping = take_incoming(cm, &loads);
		defer_loads(cm, loads);
		if (!cm->writing && cm->wait_head)
			kc_round_start(cm);
		serve_due_loads(cm);
		publish_log(cm);
	}
	/* Wake-ups to workers that were queued last go out now. */
	io_uring_submit(&cm->ring.ring);
	return NULL;
}

int kc_committer_start(struct kc_proto *p, struct kc_loop *loop,
		       struct kc_msglog *log, struct kc_committer **out)
{
	struct kc_committer *cm = calloc(1, sizeof(*cm));
	int ret;

	if (!cm)
		return -ENOMEM;
	cm->p = p;
	cm->log = log;
	pthread_mutex_init(&cm->lock, NULL);
	cm->in_tail = &cm->in_head;
	cm->loads_tail = &cm->loads_head;
	cm->wait_tail = &cm->wait_head;
	cm->deferred_tail = &cm->deferred;
	pthread_cond_init(&cm->start_cond, NULL);
	kc_msglog_batch_init(&cm->lb);
	ret = -pthread_create(&cm->thread, NULL, committer_main, cm);
	if (!ret) {
		cm->thread_started = true;
		pthread_mutex_lock(&cm->lock);
		while (!cm->started)
			pthread_cond_wait(&cm->start_cond, &cm->lock);
		ret = cm->start_err;
		pthread_mutex_unlock(&cm->lock);
	}
	if (ret) {
		cm->log = NULL; /* the caller still owns it */
		kc_committer_stop(cm);
		return ret;
	}
	*out = cm;
	return 0;
}

void kc_committer_stop(struct kc_committer *cm)
{
	if (!cm)
		return;
	pthread_mutex_lock(&cm->lock);
	cm->stopping = true;
	pthread_mutex_unlock(&cm->lock);
	/* It sees the flag within WAIT_S, after the work handed in. */
	if (cm->thread_started)
		pthread_join(cm->thread, NULL);
	kc_ring_fini(&cm->ring);
	kc_msglog_batch_fini(&cm->lb);
	pthread_cond_destroy(&cm->start_cond);
	kc_msglog_close(cm->log);
	while (cm->deferred) {
		struct kc_load_item *next = cm->deferred->next;

		free(cm->deferred);
		cm->deferred = next;
	}
	free(cm->dues);
	free(cm->readbuf);
	pthread_mutex_destroy(&cm->lock);
	free(cm);
}

/* Wakes the committer's ring from a worker's ring (MSG_RING). */
static void wake(struct kc_committer *cm, struct kc_ring *from)
{
	struct io_uring_sqe *sqe = kc_ring_sqe(from);

	if (!sqe)
		return; /* it looks again within WAIT_S */
	kc_ring_prep_wake(sqe, cm->ring.fd);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void kc_committer_submit(struct kc_committer *cm, struct kc_commit *b,
			 struct kc_ring *from)
{
	bool first;

	b->next = NULL;
	pthread_mutex_lock(&cm->lock);
	first = !cm->in_head && !cm->loads_head;
	*cm->in_tail = b;
	cm->in_tail = &b->next;
	pthread_mutex_unlock(&cm->lock);
	if (first)
		wake(cm, from);
}

int kc_committer_load(struct kc_committer *cm, const struct kc_load_req *r,
		      struct kc_ring *from)
{
	struct kc_load_item *l = malloc(sizeof(*l));
	bool first;

	if (!l)
		return -ENOMEM;
	l->next = NULL;
	l->r = *r;
	pthread_mutex_lock(&cm->lock);
	first = !cm->in_head && !cm->loads_head;
	*cm->loads_tail = l;
	cm->loads_tail = &l->next;
	pthread_mutex_unlock(&cm->lock);
	if (first)
		wake(cm, from);
	return 0;
}

void kc_committer_stats(const struct kc_committer *cm,
			struct kc_committer_stats *s)
{
	*s = cm->stats;
}
