/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sender's message counters (PROTOCOL.md section 4, "Message counters"):
 * every new message gets a counter above all its sender used before, from
 * 1, across connections, sessions and restarts. The agent judges
 * duplicates by counter alone, so a counter given to two messages loses
 * the second one while the agent answers OK.
 *
 * The home keeps a high-water mark in KC_HOME_COUNTER: every counter up to
 * it may have been used, none above it has. Before handing out a counter
 * above the mark, the store moves the mark to the end of that counter's
 * block of KC_COUNTER_BLOCK, and writes and fsyncs it, so a crash loses at
 * most the unused rest of a block. A new process starts above the mark:
 * whatever the last one left of its block is skipped (gaps are allowed).
 *
 * There is no lock in here. Two processes with one home would read one
 * mark and hand out the same counters, so every user holds the home's
 * out-state lock (kc_home_lock(h, KC_HOME_STATE_OUT), the lock that
 * already makes senders take turns) from kc_counter_open to
 * kc_counter_close.
 *
 * Returns 0 or -errno; -EBADMSG for a file that does not hold a mark,
 * -EOVERFLOW once 2^64 - 1 counters are spent.
 */
#ifndef KC_COUNTER_H
#define KC_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

#include "client/home.h"

/* Counters reserved by one write of the mark. */
#define KC_COUNTER_BLOCK 1000
/*
 * A counter may go out only while it is less than this above the counter
 * of the sender's oldest unacknowledged message: the agent remembers this
 * many counters below its highest, and would take an older resend for a
 * replay it cannot judge.
 */
#define KC_COUNTER_SPAN 4096

struct kc_counter {
	int fd;	       /* KC_HOME_COUNTER, open for the mark's updates */
	uint64_t next; /* the next counter to hand out */
	uint64_t mark; /* as on disk: no counter above it was used */
};

/* A store not open yet: what kc_counter_close may be given. */
#define KC_COUNTER_CLOSED ((struct kc_counter){ .fd = -1 })

/*
 * Reads the mark, or creates the file (and syncs the directory, so the
 * file itself survives a crash). On failure c is KC_COUNTER_CLOSED.
 */
int kc_counter_open(struct kc_counter *c, const struct kc_home *h);
/* The next counter, once the mark on disk covers it. */
int kc_counter_take(struct kc_counter *c, uint64_t *counter);
/* Leaves c KC_COUNTER_CLOSED; safe on one that is already. */
void kc_counter_close(struct kc_counter *c);

/*
 * True when `counter` may go out while `oldest` is the counter of the
 * oldest message still waiting for its ACK (0: none is waiting).
 */
static inline bool kc_counter_in_span(uint64_t oldest, uint64_t counter)
{
	return !oldest || counter - oldest < KC_COUNTER_SPAN;
}

#endif
