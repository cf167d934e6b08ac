// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter windows: see counter_window.h. The bitmap is a ring indexed by
 * counter mod 4096; moving hi up clears the bits of the counters that
 * enter the window, so a bit is set only for an accepted counter in
 * (hi - 4096, hi].
 */
#include <string.h>

#include "store/counter_window.h"

static bool bit(const struct kc_counter_window *w, uint64_t c)
{
	uint64_t i = c % KC_WINDOW_BITS;

	return w->bits[i / 64] >> (i % 64) & 1;
}

static void set_bit(struct kc_counter_window *w, uint64_t c)
{
	uint64_t i = c % KC_WINDOW_BITS;

	w->bits[i / 64] |= 1ull << (i % 64);
}

static void clear_bit(struct kc_counter_window *w, uint64_t c)
{
	uint64_t i = c % KC_WINDOW_BITS;

	w->bits[i / 64] &= ~(1ull << (i % 64));
}

enum kc_window_verdict kc_window_judge(const struct kc_counter_window *w,
				       uint64_t counter)
{
	if (counter > w->hi)
		return KC_WINDOW_NEW;
	if (w->hi >= KC_WINDOW_BITS && counter <= w->hi - KC_WINDOW_BITS)
		return KC_WINDOW_REPLAY;
	return bit(w, counter) ? KC_WINDOW_DUP : KC_WINDOW_NEW;
}

/* Counters hi + 1 .. to enter the window: their slots start empty. */
static void advance(struct kc_counter_window *w, uint64_t to)
{
	if (to - w->hi >= KC_WINDOW_BITS) {
		memset(w->bits, 0, sizeof(w->bits));
	} else {
		for (uint64_t c = w->hi + 1; c <= to; c++)
			clear_bit(w, c);
	}
	w->hi = to;
}

void kc_window_accept(struct kc_counter_window *w, uint64_t counter)
{
	if (counter > w->hi)
		advance(w, counter);
	set_bit(w, counter);
}
