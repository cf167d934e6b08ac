/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Traffic with a ledger, for the tests that cut a disk from under the
 * agent (test_powercut, test_flakey): three senders (alice, carol, erin)
 * send numbered messages, a window at a time, to two receivers: bob, who
 * reads and answers DELIVERED while the load runs, and dave, who reads
 * only when a test checks. Message n of sender i goes to bob when n is
 * even, to dave when it is odd; its msg_id names (i, n), its counter is
 * n + 1 and its bytes are a function of (i, n), so a delivery of anything
 * else is seen as never sent or as garbage.
 *
 * Every event a client sees (REGISTERED, an ACK with OK) calls the
 * traffic's `note` hook and is kept with the number that hook returns:
 * test_powercut makes each one a dm-log-writes mark, so a replay up to
 * mark N knows exactly which ACKs had been seen. Bob's DELIVERED is kept
 * with the number of the next event: written before that point.
 *
 * A check (tr_check) is made against a freshly started agent on whatever
 * the disk held: every client registered before the point connects, a
 * used token is refused, the senders resend ACKed messages (which must
 * be suppressed), a sentinel to each receiver closes the queue, and the
 * receivers' deliveries are tallied and judged.
 */
#ifndef KC_TEST_TRAFFIC_H
#define KC_TEST_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_client.h"

#define TR_SENDERS 3
#define TR_RECEIVERS 2
#define TR_IDENTS (TR_SENDERS + TR_RECEIVERS)
#define TR_MAX_MSGS 6000 /* per sender */
#define TR_WINDOW 8
#define TR_BOB TR_SENDERS /* ident index of bob; dave follows */

struct tr_client {
	struct test_ident ident;
	struct kc_client *c;
	struct test_session s;
	uint64_t seq;
	unsigned int next, acked; /* numbers: next to send, first unacked */
};

/*
 * Point numbers (1, 2, ...) of each event; 0 for "did not happen". An
 * event "before point N" has a number <= N.
 */
struct tr_ledger {
	uint32_t reg[TR_IDENTS];
	char token[TR_IDENTS][65];
	uint32_t ack[TR_SENDERS][TR_MAX_MSGS];
	uint32_t delivered[TR_SENDERS][TR_MAX_MSGS]; /* bob's DELIVERED */
	unsigned int sent[TR_SENDERS]; /* numbers 0 .. sent - 1 went out */
	unsigned int acked; /* ACKs over all senders */
	uint32_t points;    /* the last number note returned */
};

#define TR_INNER 48

struct traffic {
	struct agent_proc *a;
	struct tr_client cl[TR_IDENTS];
	struct test_ident zed; /* registers with used tokens: must fail */
	struct tr_ledger *lg;
	/* Called after each event; returns its point number, 0 on error. */
	uint32_t (*note)(struct traffic *t, const char *what);
	void *note_arg;
};

/* What a check found. */
struct tr_verdict {
	unsigned int required;	 /* ACKed before the point */
	unsigned int lost;	 /* required and not delivered */
	unsigned int dup;	 /* delivered more than once */
	unsigned int never_sent; /* a msg_id of ours never sent */
	unsigned int garbage;	 /* unknown msg_id, wrong bytes or sender */
	unsigned int resend_stored; /* a resend answered other than OK/REPLAY */
	unsigned int refused;	 /* a registered client that cannot connect */
	unsigned int token_reused; /* a used token that registered again */
	unsigned int errors;	 /* transport or agent failures */
};

/* Keys for the five clients; the note hook is the caller's to set. */
int tr_init(struct traffic *t, struct agent_proc *a);
void tr_free(struct traffic *t);
/* Enrolls every client (a token each), noting each REGISTERED. */
int tr_register_all(struct traffic *t);
/* Connects the senders and bob, each sender with an agent session. */
int tr_connect(struct traffic *t);
/* Closes every client connection. */
void tr_disconnect(struct traffic *t);
/*
 * One round: a window from each sender, then bob reads what is there and
 * answers DELIVERED. 0, -EAGAIN when the agent answered other than OK
 * (the numbers go again), -errno when a connection failed.
 */
int tr_round(struct traffic *t);
/*
 * A point of the caller's own, after everything so far (a disk going bad,
 * say): its number, 0 on error.
 */
uint32_t tr_point(struct traffic *t, const char *what);
/* (Re)connects client id; a sender also opens an agent session. */
int tr_open(struct traffic *t, int id);
/* Message n of sender i, as sent; garbled changes its bytes. */
int tr_send(struct traffic *t, int i, unsigned int n, bool garbled);
void tr_msg_id(uint8_t id[KC_MSGID_LEN], int i, unsigned int n);
void tr_inner(uint8_t out[TR_INNER], int i, unsigned int n);
const char *tr_name(int id);
/* Checks the running agent against the ledger as of point. */
void tr_check(struct traffic *t, uint32_t point, struct tr_verdict *v);
/* The verdict's failures added up. */
unsigned int tr_failures(const struct tr_verdict *v);

#endif
