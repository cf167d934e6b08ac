/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One load run against a broker, the part every driver shares: per-pair
 * send windows, open-loop pacing, the measured interval, the drain, the
 * correctness ledger and the report. A driver supplies the broker: its
 * connections, a send function and the calls below from its callbacks.
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
 * Locking: each sender's lock covers its window and is held across the
 * driver's send call, so an ack can never be matched before the send
 * that it answers has been recorded. Driver callbacks for one pair's
 * acks come from one thread, and so do its deliveries (the ledger's
 * rule); the receiver side needs no lock.
 */
#ifndef KC_PEER_RUN_H
#define KC_PEER_RUN_H

#include <pthread.h>
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

struct peer_run;

struct peer_slot {
	uint64_t t_ns; /* send time, from the header */
	uint32_t key;  /* the driver's id for the send, e.g. an MQTT mid */
	bool acked;
};

struct peer_sender {
	pthread_mutex_t lock;
	struct peer_run *run;
	unsigned int pair;
	char subject[PEER_SUBJECT_LEN];
	void *conn; /* the driver's publisher for this pair */
	/* Under lock: seq base..next_seq-1 are in flight. */
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
	uint64_t delivered; /* distinct, whole run; read by the main thread */
};

/*
 * Sends one payload on s->conn, called with s->lock held. May set *key
 * (after the send) for peer_sender_acked_key(). Returns 0 or -errno-ish.
 */
typedef int (*peer_send_fn)(struct peer_sender *s, const void *buf, size_t len,
			    uint32_t *key);

struct peer_run {
	const struct peer_opts *opts;
	peer_send_fn send;
	/* The driver paces its senders itself (peer_sender_pump in its own
	 * threads); otherwise acks and the open-loop pacer pump them. */
	bool self_paced;
	unsigned int threads; /* the driver's threads, for the report */
	struct kc_ledger *ledger;
	struct peer_sender *senders;
	struct peer_receiver *receivers;
	/* Fixed by peer_run_start() before any send. */
	uint64_t t0, m_start, m_end;
	double period_ns; /* open loop: between two sends of one pair */
	bool started;
	pthread_t pacer;
	bool pacer_running;
	bool stopping; /* set before teardown: disconnects are ours */
	uint64_t errors[PEER_ERR_COUNT];
	double cpu_self[2], cpu_broker[2];
};

/* Subjects are made with snprintf(fmt, pair), e.g. "kc/bench/%u". */
int peer_run_init(struct peer_run *run, const struct peer_opts *o,
		  peer_send_fn send, const char *subject_fmt);
void peer_run_free(struct peer_run *run);

/* All connections are up: the clock starts and the first sends go out. */
int peer_run_start(struct peer_run *run);
/* Sleeps through warm-up and the interval, samples CPU, then drains. */
void peer_run_wait(struct peer_run *run);
/*
 * Prints the report (JSON or summary) once the driver's connections are
 * closed. has_ack: the broker acknowledges publishes. Returns the exit
 * status: 0, or 3 when the ledger found lost/duplicate/bad messages.
 */
int peer_run_report(struct peer_run *run, const char *tool, const char *target,
		    const char *durability, bool has_ack);

void peer_error(struct peer_run *run, enum peer_error e);

/* With s->lock held: sends what the window and the clock allow. */
unsigned int peer_sender_pump(struct peer_sender *s);
/* With s->lock held: no message of s will ever be due again. */
bool peer_sender_finished(const struct peer_sender *s);
/* With s->lock held: when the next message is due (0: now). */
uint64_t peer_sender_next_due(const struct peer_sender *s);

/* Acks, from the driver's callbacks; each takes s->lock. */
void peer_sender_acked_key(struct peer_sender *s, uint32_t key);
void peer_sender_acked_seq(struct peer_sender *s, uint64_t seq);
/*
 * The pair stops sending and e is counted (a refused publish: its seq
 * stays in flight, neither acked, so never "lost", nor resent).
 */
void peer_sender_fail(struct peer_sender *s, enum peer_error e);
/* Without a per-message ack (NATS core): 1..seq reached the broker. */
void peer_sender_confirmed(struct peer_sender *s, uint64_t seq);

/* CLOCK_MONOTONIC deadline in ns, as kc_mono_ns() reads it. */
void peer_sleep_until(uint64_t t_ns);

/* A delivery to r; malformed or foreign payloads are counted as bad. */
void peer_deliver(struct peer_receiver *r, const void *data, size_t len);
/* The seq in a payload, 0 if it is not one of ours (for ack handlers). */
uint64_t peer_payload_seq(const void *data, size_t len);

#endif
