// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exactly-once ledger (ledger.h).
 *
 * Each stream keeps the highest number delivered and, below it, the
 * numbers still missing as a sorted array of disjoint ranges. Every
 * number at or below the highest is then either delivered or inside
 * exactly one range, so a delivery is classified by one binary search,
 * and a jump from 1 to 10^12 costs one range, not 10^12 entries.
 *
 * Gaps are expected to be few and short-lived (reordering across
 * connections, or real loss), so a plain array with memmove is enough.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ledger.h"

#define CACHE_LINE 64

struct gap {
	uint64_t lo, hi; /* inclusive, lo <= hi */
};

struct stream {
	/*
	 * The sender's thread writes acked, the receiver's thread everything
	 * else: separate cache lines keep the two from bouncing one line.
	 */
	_Alignas(CACHE_LINE) _Atomic uint64_t acked;
	_Alignas(CACHE_LINE) uint64_t highest;
	uint64_t delivered, duplicate, out_of_order;
	struct gap *gaps;
	size_t n_gaps, cap_gaps;
};

struct kc_ledger {
	struct stream *streams;
	size_t n_streams;
	/* Any receiver thread may hand over a bad stream number. */
	_Atomic uint64_t bad;
};

int kc_ledger_create(size_t n_streams, struct kc_ledger **out)
{
	struct kc_ledger *l;
	size_t i;

	if (!n_streams || n_streams > SIZE_MAX / sizeof(struct stream))
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	/* sizeof(struct stream) is a multiple of its alignment, as C11 asks. */
	l->streams =
		aligned_alloc(CACHE_LINE, n_streams * sizeof(struct stream));
	if (!l->streams) {
		free(l);
		return -ENOMEM;
	}
	memset(l->streams, 0, n_streams * sizeof(struct stream));
	for (i = 0; i < n_streams; i++)
		atomic_init(&l->streams[i].acked, 0);
	l->n_streams = n_streams;
	atomic_init(&l->bad, 0);
	*out = l;
	return 0;
}

void kc_ledger_free(struct kc_ledger *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n_streams; i++)
		free(l->streams[i].gaps);
	free(l->streams);
	free(l);
}

void kc_ledger_acked(struct kc_ledger *l, size_t stream, uint64_t seq)
{
	struct stream *s;

	if (stream >= l->n_streams)
		return;
	s = &l->streams[stream];
	/*
	 * Only this stream's sender thread stores here, so a load and a
	 * store suffice to keep the value monotonic; relaxed order is
	 * enough because totals are read only after the threads joined.
	 */
	if (seq > atomic_load_explicit(&s->acked, memory_order_relaxed))
		atomic_store_explicit(&s->acked, seq, memory_order_relaxed);
}

static int reserve_gap(struct stream *s)
{
	struct gap *g;
	size_t cap;

	if (s->n_gaps < s->cap_gaps)
		return 0;
	cap = s->cap_gaps ? 2 * s->cap_gaps : 8;
	g = reallocarray(s->gaps, cap, sizeof(*g));
	if (!g)
		return -ENOMEM;
	s->gaps = g;
	s->cap_gaps = cap;
	return 0;
}

/* Index of the range holding seq, or -1. */
static ssize_t find_gap(const struct stream *s, uint64_t seq)
{
	size_t lo = 0, hi = s->n_gaps, mid;

	/* Invariant: ranges before lo start at or below seq, from hi above. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->gaps[mid].lo <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || s->gaps[lo - 1].hi < seq)
		return -1;
	return (ssize_t)(lo - 1);
}

static void remove_gap(struct stream *s, size_t i)
{
	memmove(&s->gaps[i], &s->gaps[i + 1],
		(s->n_gaps - i - 1) * sizeof(s->gaps[0]));
	s->n_gaps--;
}

/*
 * Takes seq out of range i. Splitting a range needs one more slot; if
 * that cannot be had, the range stays whole and seq may later be counted
 * lost although delivered: over-reporting loss is the safer failure.
 */
static void fill_gap(struct stream *s, size_t i, uint64_t seq)
{
	struct gap *g = &s->gaps[i];

	if (g->lo == g->hi) {
		remove_gap(s, i);
	} else if (seq == g->lo) {
		g->lo++;
	} else if (seq == g->hi) {
		g->hi--;
	} else if (reserve_gap(s) == 0) {
		g = &s->gaps[i];
		memmove(&s->gaps[i + 2], &s->gaps[i + 1],
			(s->n_gaps - i - 1) * sizeof(s->gaps[0]));
		s->gaps[i + 1].lo = seq + 1;
		s->gaps[i + 1].hi = g->hi;
		g->hi = seq - 1;
		s->n_gaps++;
	}
}

/*
 * seq jumped past highest + 1. The new range goes last, keeping the array
 * sorted. Without memory for it the skipped numbers go untracked (neither
 * missing nor lost); at the sizes a load run reaches this does not happen.
 */
static void open_gap(struct stream *s, uint64_t seq)
{
	if (reserve_gap(s))
		return;
	s->gaps[s->n_gaps].lo = s->highest + 1;
	s->gaps[s->n_gaps].hi = seq - 1;
	s->n_gaps++;
}

static enum kc_ledger_verdict deliver_below(struct stream *s, uint64_t seq)
{
	ssize_t i = find_gap(s, seq);

	if (i < 0) {
		s->duplicate++;
		return KC_LEDGER_DUPLICATE;
	}
	fill_gap(s, (size_t)i, seq);
	s->delivered++;
	s->out_of_order++;
	return KC_LEDGER_LATE;
}

enum kc_ledger_verdict kc_ledger_delivered(struct kc_ledger *l, size_t stream,
					   uint64_t seq)
{
	struct stream *s;

	if (stream >= l->n_streams || seq == 0) {
		atomic_fetch_add_explicit(&l->bad, 1, memory_order_relaxed);
		return KC_LEDGER_BAD_STREAM;
	}
	s = &l->streams[stream];
	if (seq <= s->highest)
		return deliver_below(s, seq);
	s->delivered++;
	if (seq == s->highest + 1) {
		s->highest = seq;
		return KC_LEDGER_OK;
	}
	open_gap(s, seq);
	s->highest = seq;
	s->out_of_order++;
	return KC_LEDGER_GAP;
}

/*
 * Acknowledged numbers never delivered: the missing ranges' parts at or
 * below acked, plus everything acked above the highest delivery. Ranges
 * all lie below highest, so the two parts do not overlap.
 */
static uint64_t stream_lost(const struct stream *s, uint64_t acked)
{
	uint64_t lost = 0, hi;
	size_t i;

	for (i = 0; i < s->n_gaps && s->gaps[i].lo <= acked; i++) {
		hi = s->gaps[i].hi < acked ? s->gaps[i].hi : acked;
		lost += hi - s->gaps[i].lo + 1;
	}
	if (acked > s->highest)
		lost += acked - s->highest;
	return lost;
}

void kc_ledger_totals(const struct kc_ledger *l, struct kc_ledger_totals *t)
{
	const struct stream *s;
	uint64_t acked;
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < l->n_streams; i++) {
		s = &l->streams[i];
		acked = atomic_load_explicit(&s->acked, memory_order_relaxed);
		t->acked += acked;
		t->delivered += s->delivered;
		t->duplicate += s->duplicate;
		t->out_of_order += s->out_of_order;
		t->lost += stream_lost(s, acked);
	}
	t->bad = atomic_load_explicit(&l->bad, memory_order_relaxed);
}

const char *kc_ledger_verdict_text(enum kc_ledger_verdict v)
{
	switch (v) {
	case KC_LEDGER_OK:
		return "ok";
	case KC_LEDGER_DUPLICATE:
		return "duplicate";
	case KC_LEDGER_GAP:
		return "gap";
	case KC_LEDGER_LATE:
		return "late";
	case KC_LEDGER_BAD_STREAM:
		return "bad stream";
	}
	return "unknown";
}
