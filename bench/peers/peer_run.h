/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One load run against a broker, the part every driver shares: per-pair
 * send windows, open-loop pacing, the measured interval, the drain, the
 * correctness ledger (the report is peer_report.h). A driver supplies the
 * broker: its connections, a send function and the calls below from its
 * callbacks.
 *
 * Payload: a header and filler (peer_payload.h). The subscriber of pair
 * i takes latency from the header and hands (pair, seq) to the ledger.
 *
 * Counting: a message belongs to the measured interval when its send
 * time falls in [warm-up end, warm-up end + duration). Its ack and its
 * delivery are counted, and their latencies recorded, whenever they
 * arrive (also during the drain), so every counted message is followed
 * to its end. The ledger checks every message of the run, warm-up too.
 *
 * Threads: none of its own. Everything here runs on the driver's event
 * loop thread (peer_loop.h): the loop calls peer_run_step() once a turn
 * and waits no longer than the deadline it returns; acks and deliveries
 * come from the same thread's callbacks, so nothing needs a lock.
 */
#ifndef KC_PEER_RUN_H
#define KC_PEER_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "ledger.h"
#include "report.h"

#include "peer_cli.h"
#include "peer_payload.h"

#define PEER_SUBJECT_LEN 48

/* Failures the drivers count; the ledger's own counts are added at the end. */
enum peer_error {
	PEER_ERR_PUBLISH,      /* the client library refused a send */
	PEER_ERR_NACK,	       /* the broker answered a publish with an error */
	PEER_ERR_STRAY_ACK,    /* an ack for nothing in flight */
	PEER_ERR_BAD,	       /* a delivery that is not one of our messages */
	PEER_ERR_DISCONNECT,   /* a connection dropped during the run */
	PEER_ERR_ASYNC,	       /* the library reported an async error */
	PEER_ERR_CONSUMER_ACK, /* the subscriber could not ack a delivery */
	PEER_ERR_COUNT,
};

/* The phases of a run, in order; peer_run_step() moves through them. */
enum peer_phase {
	PEER_PHASE_SETUP,   /* connections opening; nothing is sent */
	PEER_PHASE_WARMUP,  /* sending; nothing is counted */
	PEER_PHASE_MEASURE, /* sending and counting */
	PEER_PHASE_DRAIN,   /* no new sends; waiting for what is owed */
	PEER_PHASE_DONE,
};

struct peer_run;

struct peer_slot {
	uint64_t t_ns; /* send time, from the header */
	uint32_t key;  /* the driver's id for the send, e.g. an MQTT mid */
	bool acked;
};

struct peer_sender {
	struct peer_run *run;
	unsigned int pair;
	char subject[PEER_SUBJECT_LEN];
	void *conn; /* the driver's publisher for this pair */
	/* seq base..next_seq-1 are in flight. */
	uint64_t next_seq, base;
	struct peer_slot *ring; /* window slots, indexed by seq % window */
	unsigned char *buf;
	bool failed;
	struct kc_hist ack_hist;
	uint64_t sent_measured, acked_measured;
};

struct peer_receiver {
	struct peer_run *run;
	unsigned int pair;
	char subject[PEER_SUBJECT_LEN];
	void *conn;
	struct kc_hist deliver_hist;
	uint64_t delivered_measured;
	uint64_t delivered; /* distinct, whole run */
};

/*
 * Sends one payload on s->conn; s->next_seq is its seq during the call.
 * May set *key (after the send) for peer_sender_acked_key(). Returns 0 or
 * -errno-ish.
 */
typedef int (*peer_send_fn)(struct peer_sender *s, const void *buf, size_t len,
			    uint32_t *key);

struct peer_run {
	const struct peer_opts *opts;
	peer_send_fn send;
	unsigned int threads; /* threads driving connections, for the report */
	struct kc_ledger *ledger;
	struct peer_sender *senders;
	struct peer_receiver *receivers;
	enum peer_phase phase;
	/* Fixed by peer_run_start() before any send. */
	uint64_t t0, m_start, m_end, drain_end;
	double period_ns; /* open loop: between two sends of one pair */
	/* Progress lines (a terminal only): when, and the totals last shown. */
	uint64_t next_progress, last_progress, last_counts[3];
	/* Set before teardown, perhaps from a library's thread: disconnects
	 * from then on are ours. */
	bool stopping;
	uint64_t errors[PEER_ERR_COUNT]; /* atomic: libraries' threads count */
	double cpu_self[2], cpu_broker[2];
};

/* Subjects are made with snprintf(fmt, pair), e.g. "kc/bench/%u". */
int peer_run_init(struct peer_run *run, const struct peer_opts *o,
		  peer_send_fn send, const char *subject_fmt);
void peer_run_free(struct peer_run *run);

/* All connections are up: the clock starts; the first step sends. */
void peer_run_start(struct peer_run *run);
/*
 * Once a loop turn: CPU samples at the interval's edges, the sends that
 * are due, the end of the drain. Returns when to step again at the
 * latest (CLOCK_MONOTONIC ns).
 */
uint64_t peer_run_step(struct peer_run *run);
static inline bool peer_run_done(const struct peer_run *run)
{
	return run->phase == PEER_PHASE_DONE;
}
/* Safe from any thread. */
void peer_error(struct peer_run *run, enum peer_error e);

/* Sends what the window and the clock allow now. */
unsigned int peer_sender_pump(struct peer_sender *s);

/* Acks, from the driver's callbacks; each sends what the window frees. */
void peer_sender_acked_key(struct peer_sender *s, uint32_t key);
void peer_sender_acked_seq(struct peer_sender *s, uint64_t seq);
/*
 * The pair stops sending and e is counted (a refused publish: its seq
 * stays in flight, neither acked, so never "lost", nor resent).
 */
void peer_sender_fail(struct peer_sender *s, enum peer_error e);
/*
 * Without a per-message ack (NATS core): the broker has read 1..seq.
 * Frees the window like an ack, without an ack latency.
 */
void peer_sender_confirmed(struct peer_sender *s, uint64_t seq);
/* The highest seq sent so far (0: none). */
static inline uint64_t peer_sender_last_sent(const struct peer_sender *s)
{
	return s->next_seq - 1;
}

/*
 * A delivery to r; malformed or foreign payloads are counted as bad.
 * Returns the message's seq, or 0 when it was not one of r's.
 */
uint64_t peer_deliver(struct peer_receiver *r, const void *data, size_t len);
/* The seq in a payload, 0 if it is not one of ours (for ack handlers). */
uint64_t peer_payload_seq(const void *data, size_t len);

#endif
