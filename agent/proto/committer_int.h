/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the committer: the state its files share (committer.c: the
 * thread and the queues; commit_round.c: judging and writing a round;
 * commit_route.c: what a durable round sends out; queue_load.c: queue
 * loads). Everything below the lock is the committer thread's alone.
 */
#ifndef KC_COMMITTER_INT_H
#define KC_COMMITTER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "proto/commit.h"
#include "proto/committer.h"
#include "ring/ring.h"
#include "store/msglog.h"
#include "store/store.h"

struct kc_load_item {
	struct kc_load_item *next;
	struct kc_load_req r;
	uint64_t after_round; /* served once rounds_out reaches it */
};

struct kc_committer {
	struct kc_proto *p;
	struct kc_msglog *log;
	struct kc_ring ring;
	pthread_t thread;
	bool thread_started;
	pthread_cond_t start_cond; /* started and start_err, under lock */
	bool started;
	int start_err;

	pthread_mutex_t lock; /* the queues handed in, and stopping */
	struct kc_commit *in_head, **in_tail;
	struct kc_load_item *loads_head, **loads_tail;
	bool stopping;

	/*
	 * Loads taken in, each waiting for the rounds of the groups handed
	 * in before it, so that it never brings back a message whose
	 * DELIVERED the agent already has: rounds started, rounds sent out.
	 */
	struct kc_load_item *deferred, **deferred_tail;
	uint64_t rounds_begun, rounds_out;
	/* Groups taken in, waiting for the next round. */
	struct kc_commit *wait_head, **wait_tail;
	/* The round in flight: its groups, records and receipts. */
	struct kc_commit *round_head;
	struct kc_log_batch lb;
	bool writing;
	int write_err;
	uint64_t write_ns; /* the round's write went out (0: none) */
	size_t round_msgs; /* messages the round stores */
	int64_t round_wall_ms;
	struct kc_store_receipt_in *dues; /* receipts the round owes */
	size_t ndues, dues_cap;
	uint8_t *readbuf; /* a record read back for a queue load */
	size_t readbuf_cap;
	struct kc_committer_stats stats;
	/* The log's size as last published for other threads (metrics). */
	struct {
		_Atomic uint64_t segments, disk_bytes, queued, queued_bytes;
	} pub;
	uint64_t next_publish_ns;
};

/* commit_round.c: judges the groups taken and starts their write. */
void kc_round_start(struct kc_committer *cm);
/* The write and sync of the round in flight completed (err: -errno). */
void kc_round_finish(struct kc_committer *cm, int err);

/* commit_route.c: results out, groups back to their workers. */
void kc_round_send_out(struct kc_committer *cm, bool durable);

/* queue_load.c */
void kc_queue_load(struct kc_committer *cm, const struct kc_load_req *r);

#endif
