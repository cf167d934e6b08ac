/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A message run: the senders and receivers, the worker threads that drive
 * them, and the clock that splits the run into warm-up, the measured
 * interval and the drain.
 *
 *   t_start .. t_measure   warm-up: sent and checked, not counted
 *   t_measure .. t_stop    measured: completions in here are counted;
 *                          latency is recorded for every message whose
 *                          (intended) send time falls in here, whenever
 *                          it completes
 *   t_stop ..              drain: no new messages; waits for the ACKs and
 *                          deliveries still owed, up to --drain seconds
 *
 * Each worker thread owns some senders and receivers outright and polls
 * their sockets; the main thread only reads the atomic counters (progress,
 * end of drain) until the workers are joined.
 */
#ifndef KC_LOAD_RUN_H
#define KC_LOAD_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "identity.h"
#include "ledger.h"
#include "load.h"
#include "report.h"

enum run_phase { PHASE_SENDING, PHASE_DRAINING, PHASE_DONE };

struct load_sender;
struct load_receiver;

/* Seen by the main thread while the workers run. */
struct load_counters {
	_Atomic uint64_t sent, acked, delivered, errors;
	/* DELIVERED frames sent, and RECEIPTs back: equal once the agent
	 * has committed every DELIVERED, so the next run gets no leftovers. */
	_Atomic uint64_t answered, receipts;
	_Atomic int64_t inflight; /* messages sent, not yet acknowledged */
};

struct load_worker {
	struct load_run *run;
	struct load_sender **senders;
	struct load_receiver **receivers;
	unsigned int n_senders, n_receivers;
	struct load_counters live;
	/* The measured interval; read by the main thread after join. */
	uint64_t sent, acked, delivered;
	struct kc_hist ack_latency, deliver_latency;
	struct kc_report errors; /* only its error counters are used */
	pthread_t thread;
};

struct load_run {
	const struct load_opts *o;
	struct kc_ledger *ledger;
	uint64_t t_start, t_measure, t_stop;
	_Atomic int phase;
	uint64_t interval_ns; /* per sender, open loop; 0: closed loop */
};

static inline bool run_in_window(const struct load_run *r, uint64_t t)
{
	return t >= r->t_measure && t < r->t_stop;
}

/* Counts one error of kind name (e.g. "tls", "nack:REPLAY"). */
void worker_error(struct load_worker *w, const char *name);

/* Senders (sender.c). Every function reports its own errors. */
int sender_create(const struct load_opts *o, const struct load_identity *me,
		  const struct load_identity *to, unsigned int stream,
		  struct load_sender **out);
void sender_free(struct load_sender *s);
/* Sends what the window and the schedule allow now. */
void sender_pump(struct load_sender *s, struct load_worker *w, uint64_t now);
/* Takes the ACKs and RECEIPTs that arrived. */
void sender_read(struct load_sender *s, struct load_worker *w);
/* Declares the sender dead when its oldest ACK is overdue. */
void sender_check_timeout(struct load_sender *s, struct load_worker *w,
			  uint64_t now);
/* ns until the schedule allows the next send; 0: now or closed loop. */
uint64_t sender_next_due(const struct load_sender *s);
struct kc_client *sender_conn(const struct load_sender *s);

/* Receivers (receiver.c). */
int receiver_create(const struct load_opts *o, const struct load_identity *me,
		    const struct load_identity *senders, unsigned int first,
		    unsigned int count, struct load_receiver **out);
void receiver_free(struct load_receiver *r);
void receiver_read(struct load_receiver *r, struct load_worker *w);
struct kc_client *receiver_conn(const struct load_receiver *r);

/* Workers (worker.c). */
void *worker_main(void *arg);

#endif
