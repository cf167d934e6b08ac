/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exactly-once, in-order accounting for a load run. A stream is one
 * sender's messages to one recipient, numbered 1, 2, 3, ... in the order
 * they were sent. The sender reports the highest number acknowledged (acks
 * arrive in order); the receiver reports every number it is handed. From
 * those two sides the ledger tells, for each delivery, whether it was the
 * next one, a duplicate, or out of order, and at the end how many
 * acknowledged messages never arrived (lost).
 *
 * A delivery above the next expected number opens a gap; the missing
 * numbers are kept as ranges, so a later arrival from inside a gap is told
 * apart from a duplicate. Only acknowledged numbers can be lost: a message
 * the agent never acknowledged owes nothing.
 *
 * Threads: for one stream, kc_ledger_acked() (the sender's thread) and
 * kc_ledger_delivered() (the receiver's) may run at the same time; each
 * side of a stream has one thread. kc_ledger_totals() only after both
 * sides stopped.
 */
#ifndef KC_LEDGER_H
#define KC_LEDGER_H

#include <stddef.h>
#include <stdint.h>

enum kc_ledger_verdict {
	KC_LEDGER_OK = 0,	 /* the next number of its stream */
	KC_LEDGER_DUPLICATE,	 /* handed over before */
	KC_LEDGER_GAP,		 /* above the next: numbers before it missing */
	KC_LEDGER_LATE,		 /* fills a gap: arrived out of order */
	KC_LEDGER_BAD_STREAM,	 /* stream or number out of range (0) */
};

struct kc_ledger_totals {
	uint64_t acked;	       /* sum over streams of the highest acked */
	uint64_t delivered;    /* distinct numbers handed over */
	uint64_t duplicate;    /* deliveries of a number seen before */
	uint64_t out_of_order; /* GAP and LATE verdicts */
	uint64_t lost;	       /* acked, never delivered */
	uint64_t bad;	       /* BAD_STREAM verdicts */
};

struct kc_ledger;

int kc_ledger_create(size_t n_streams, struct kc_ledger **out);
void kc_ledger_free(struct kc_ledger *l);

/* Messages 1..seq of the stream are acknowledged (seq only grows). */
void kc_ledger_acked(struct kc_ledger *l, size_t stream, uint64_t seq);
enum kc_ledger_verdict kc_ledger_delivered(struct kc_ledger *l,
					   size_t stream, uint64_t seq);
void kc_ledger_totals(const struct kc_ledger *l, struct kc_ledger_totals *t);

const char *kc_ledger_verdict_text(enum kc_ledger_verdict v);

#endif
