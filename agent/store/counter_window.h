/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sender's message counters (docs/PROTOCOL.md section 4, "Message
 * counters"): the highest accepted counter `hi` and which of the 4,096
 * counters in (hi - 4096, hi] were accepted. O(1) state per sender
 * however long the agent runs; the log rebuilds it at start from its
 * checkpoint and the records after it.
 */
#ifndef KC_COUNTER_WINDOW_H
#define KC_COUNTER_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define KC_WINDOW_BITS 4096u

struct kc_counter_window {
	uint64_t hi; /* 0: nothing accepted yet */
	uint64_t bits[KC_WINDOW_BITS / 64]; /* bit (c % 4096) for c in window */
};

enum kc_window_verdict {
	KC_WINDOW_NEW,	  /* not accepted yet: store it */
	KC_WINDOW_DUP,	  /* accepted before: OK, not stored again */
	KC_WINDOW_REPLAY, /* at or below hi - 4096: cannot tell, REPLAY */
};

enum kc_window_verdict kc_window_judge(const struct kc_counter_window *w,
				       uint64_t counter);
/* Marks counter accepted (counter > 0 and not REPLAY). */
void kc_window_accept(struct kc_counter_window *w, uint64_t counter);

#endif
