// SPDX-License-Identifier: GPL-2.0-only
/*
 * The load tools' shared kit (tools/loadkit).
 *
 * hist.*: bucket arithmetic checked against the promised bounds around
 * every power of two up to 2^42 and beyond, percentiles of 1..100000
 * against the exact order statistics, merge against recording everything
 * into one histogram.
 * ledger.*: each verdict on hand-made sequences, loss only of acknowledged
 * numbers, 10^12-wide gaps, a random shuffle with drops and repeats
 * against a bitmap model, and both sides on their own threads.
 * report.*: the JSON parsed back with jansson (computed rates, keys left
 * out when their data is absent), error counters, the printed forms.
 * proc.*: CPU time from /proc grows with work; a missing PID is an error.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "kselftest_harness.h"

#include "hist.h"
#include "ledger.h"
#include "report.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* xorshift64*: a fixed, seeded stream so a failure can be replayed. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* A value spread over all magnitudes up to 2^(bits) - 1. */
static uint64_t random_magnitude(uint64_t *state, unsigned int bits)
{
	unsigned int shift = (unsigned int)(next_random(state) % (64 + 1));

	if (shift >= 64)
		return 0;
	return (next_random(state) >> shift) & ((UINT64_C(1) << bits) - 1);
}

static bool close_to(double want, double got, double eps)
{
	return fabs(want - got) <= eps;
}

/* ---- hist ---- */

FIXTURE(hist)
{
	struct kc_hist *a, *b, *all;
};

FIXTURE_SETUP(hist)
{
	self->a = malloc(sizeof(*self->a));
	self->b = malloc(sizeof(*self->b));
	self->all = malloc(sizeof(*self->all));
	ASSERT_TRUE(self->a && self->b && self->all);
	kc_hist_init(self->a);
	kc_hist_init(self->b);
	kc_hist_init(self->all);
}

FIXTURE_TEARDOWN(hist)
{
	free(self->a);
	free(self->b);
	free(self->all);
}

/* The promise of hist.h for one value below the top bucket. */
static bool bucket_holds(uint64_t v)
{
	unsigned int i = kc_hist_index(v);
	uint64_t lo = kc_hist_lowest(i), hi = kc_hist_highest(i);

	if (i >= KC_HIST_BUCKETS || lo > v || v > hi)
		return false;
	/* Relative width under 2^-SUB_BITS: (hi - lo + 1) / lo <= 1/128. */
	return lo < KC_HIST_SUB_COUNT ? lo == hi
				      : (hi - lo + 1) * KC_HIST_SUB_COUNT <= lo;
}

TEST_F(hist, exact_below_sub_count)
{
	uint64_t v;

	for (v = 0; v < KC_HIST_SUB_COUNT; v++) {
		EXPECT_EQ(v, kc_hist_index(v));
		EXPECT_EQ(v, kc_hist_lowest(kc_hist_index(v)));
		EXPECT_EQ(v, kc_hist_highest(kc_hist_index(v)));
	}
	kc_hist_record(self->a, 100);
	kc_hist_record(self->a, 7);
	kc_hist_record(self->a, 3);
	kc_hist_record(self->a, 127);
	EXPECT_EQ(3, kc_hist_percentile(self->a, 1));
	EXPECT_EQ(3, kc_hist_percentile(self->a, 25));
	EXPECT_EQ(7, kc_hist_percentile(self->a, 50));
	EXPECT_EQ(100, kc_hist_percentile(self->a, 75));
	EXPECT_EQ(127, kc_hist_percentile(self->a, 100));
	EXPECT_EQ(3, self->a->min);
	EXPECT_EQ(127, self->a->max);
}

TEST_F(hist, bounds_around_powers_of_two)
{
	static const int64_t offsets[] = { -2, -1, 0, 1, 2 };
	uint64_t p, v;
	unsigned int k, j;

	for (k = 0; k < KC_HIST_MAX_BITS; k++) {
		p = UINT64_C(1) << k;
		for (j = 0; j < ARRAY_LEN(offsets); j++) {
			if (offsets[j] < 0 && p < (uint64_t)-offsets[j])
				continue;
			v = p + (uint64_t)offsets[j];
			if (v > KC_HIST_MAX_VALUE)
				continue;
			EXPECT_TRUE(bucket_holds(v))
			TH_LOG("value %llu", (unsigned long long)v);
		}
		/* Half-way and just below the next power. */
		EXPECT_TRUE(bucket_holds(p + p / 2));
		EXPECT_TRUE(bucket_holds(2 * p - 1));
	}
	EXPECT_TRUE(bucket_holds(KC_HIST_MAX_VALUE));
	EXPECT_EQ(KC_HIST_BUCKETS - 1, kc_hist_index(KC_HIST_MAX_VALUE));
}

TEST_F(hist, bounds_random_values)
{
	uint64_t state = 0x5eed1234abcdULL, v;
	unsigned int n;

	for (n = 0; n < 200000; n++) {
		v = random_magnitude(&state, KC_HIST_MAX_BITS);
		ASSERT_TRUE(bucket_holds(v))
		TH_LOG("value %llu", (unsigned long long)v);
	}
}

/* Buckets tile 0..MAX_VALUE with no hole and no overlap. */
TEST_F(hist, buckets_are_contiguous)
{
	unsigned int i;

	EXPECT_EQ(0, kc_hist_lowest(0));
	for (i = 0; i + 1 < KC_HIST_BUCKETS; i++) {
		ASSERT_EQ(kc_hist_highest(i) + 1, kc_hist_lowest(i + 1))
		TH_LOG("bucket %u", i);
		ASSERT_EQ(i, kc_hist_index(kc_hist_lowest(i)));
		ASSERT_EQ(i, kc_hist_index(kc_hist_highest(i)));
	}
	EXPECT_EQ(KC_HIST_MAX_VALUE, kc_hist_highest(KC_HIST_BUCKETS - 1));
}

TEST_F(hist, above_max_goes_to_top_bucket)
{
	EXPECT_EQ(KC_HIST_BUCKETS - 1, kc_hist_index(KC_HIST_MAX_VALUE + 1));
	EXPECT_EQ(KC_HIST_BUCKETS - 1, kc_hist_index(UINT64_C(1) << 50));
	EXPECT_EQ(KC_HIST_BUCKETS - 1, kc_hist_index(UINT64_MAX));

	kc_hist_record(self->a, 5);
	kc_hist_record(self->a, UINT64_C(1) << 50);
	kc_hist_record(self->a, UINT64_MAX);
	EXPECT_EQ(2, self->a->counts[KC_HIST_BUCKETS - 1]);
	EXPECT_EQ(UINT64_MAX, self->a->max);
	EXPECT_EQ(5, self->a->min);
	/* The top record is the exact max, the one below it is capped. */
	EXPECT_EQ(UINT64_MAX, kc_hist_percentile(self->a, 100));
	EXPECT_EQ(KC_HIST_MAX_VALUE, kc_hist_percentile(self->a, 60));
	EXPECT_EQ(5, kc_hist_percentile(self->a, 30));
}

TEST_F(hist, percentiles_of_one_to_100000)
{
	static const struct {
		double p;
		uint64_t num, den; /* p / 100 as a fraction */
	} cases[] = {
		{ 50, 1, 2 },	     { 90, 9, 10 },	     { 99, 99, 100 },
		{ 99.9, 999, 1000 }, { 99.99, 9999, 10000 }, { 100, 1, 1 },
	};
	const uint64_t n = 100000;
	uint64_t v, exact, got;
	unsigned int i;

	for (v = 1; v <= n; v++)
		kc_hist_record(self->a, v);
	EXPECT_EQ(n, self->a->total);
	EXPECT_EQ(1, self->a->min);
	EXPECT_EQ(n, self->a->max);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		/* The ceil(p/100 * n)-th smallest of 1..n is that rank. */
		exact = (n * cases[i].num + cases[i].den - 1) / cases[i].den;
		got = kc_hist_percentile(self->a, cases[i].p);
		EXPECT_LE(exact, got) TH_LOG("p%g", cases[i].p);
		EXPECT_TRUE((got - exact) * KC_HIST_SUB_COUNT <= exact)
		TH_LOG("p%g: exact %llu got %llu", cases[i].p,
		       (unsigned long long)exact, (unsigned long long)got);
	}
	EXPECT_EQ(n, kc_hist_percentile(self->a, 100));
	EXPECT_TRUE(close_to((n + 1) / 2.0, kc_hist_mean(self->a), 1e-9));
}

TEST_F(hist, single_value)
{
	const uint64_t v = 123456789;

	kc_hist_record(self->a, v);
	EXPECT_EQ(v, kc_hist_percentile(self->a, 0.001));
	EXPECT_EQ(v, kc_hist_percentile(self->a, 50));
	EXPECT_EQ(v, kc_hist_percentile(self->a, 99.99));
	EXPECT_EQ(v, kc_hist_percentile(self->a, 100));
	EXPECT_EQ(v, self->a->min);
	EXPECT_EQ(v, self->a->max);
	EXPECT_TRUE(close_to(v, kc_hist_mean(self->a), 1e-6));
}

TEST_F(hist, empty)
{
	EXPECT_EQ(0, self->a->total);
	EXPECT_EQ(UINT64_MAX, self->a->min);
	EXPECT_EQ(0, self->a->max);
	EXPECT_EQ(0, kc_hist_percentile(self->a, 50));
	EXPECT_EQ(0, kc_hist_percentile(self->a, 100));
	EXPECT_TRUE(kc_hist_mean(self->a) == 0.0);
	kc_hist_record_n(self->a, 42, 0);
	EXPECT_EQ(0, self->a->total);
	EXPECT_EQ(UINT64_MAX, self->a->min);
}

TEST_F(hist, merge_equals_recording_into_one)
{
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
	uint64_t state = 77, v;
	unsigned int n, i;

	for (n = 0; n < 50000; n++) {
		v = random_magnitude(&state, 44);
		kc_hist_record(n % 3 ? self->a : self->b, v);
		kc_hist_record(self->all, v);
	}
	kc_hist_merge(self->a, self->b);
	EXPECT_EQ(0, memcmp(self->all->counts, self->a->counts,
			    sizeof(self->a->counts)));
	EXPECT_EQ(self->all->total, self->a->total);
	EXPECT_EQ(self->all->min, self->a->min);
	EXPECT_EQ(self->all->max, self->a->max);
	EXPECT_TRUE(close_to(kc_hist_mean(self->all), kc_hist_mean(self->a),
			     kc_hist_mean(self->all) * 1e-9));
	for (i = 0; i < ARRAY_LEN(ps); i++)
		EXPECT_EQ(kc_hist_percentile(self->all, ps[i]),
			  kc_hist_percentile(self->a, ps[i]));
}

TEST_F(hist, merge_with_empty)
{
	kc_hist_record(self->a, 1000);
	kc_hist_record(self->a, 9);
	kc_hist_merge(self->a, self->b);
	EXPECT_EQ(2, self->a->total);
	EXPECT_EQ(9, self->a->min);
	kc_hist_merge(self->b, self->a);
	EXPECT_EQ(2, self->b->total);
	EXPECT_EQ(9, self->b->min);
	EXPECT_EQ(1000, self->b->max);
	EXPECT_EQ(1000, kc_hist_percentile(self->b, 100));
}

TEST_F(hist, mean_and_record_n)
{
	kc_hist_record(self->a, 10);
	kc_hist_record(self->a, 20);
	kc_hist_record(self->a, 30);
	EXPECT_TRUE(close_to(20.0, kc_hist_mean(self->a), 1e-12));

	kc_hist_record_n(self->b, 1000, 3);
	kc_hist_record(self->b, 2000);
	EXPECT_EQ(4, self->b->total);
	EXPECT_TRUE(close_to(1250.0, kc_hist_mean(self->b), 1e-12));

	kc_hist_record(self->all, 1000);
	kc_hist_record(self->all, 1000);
	kc_hist_record(self->all, 1000);
	kc_hist_record(self->all, 2000);
	EXPECT_EQ(0, memcmp(self->all->counts, self->b->counts,
			    sizeof(self->b->counts)));
}

/* ---- ledger ---- */

FIXTURE(ledger)
{
	struct kc_ledger *l;
	struct kc_ledger_totals t;
};

FIXTURE_SETUP(ledger)
{
	ASSERT_EQ(0, kc_ledger_create(3, &self->l));
}

FIXTURE_TEARDOWN(ledger)
{
	kc_ledger_free(self->l);
}

TEST_F(ledger, in_order_is_clean)
{
	uint64_t seq;
	size_t s;

	for (s = 0; s < 3; s++) {
		for (seq = 1; seq <= 1000; seq++)
			ASSERT_EQ(KC_LEDGER_OK,
				  kc_ledger_delivered(self->l, s, seq));
		kc_ledger_acked(self->l, s, 1000);
	}
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(3000, self->t.acked);
	EXPECT_EQ(3000, self->t.delivered);
	EXPECT_EQ(0, self->t.duplicate);
	EXPECT_EQ(0, self->t.out_of_order);
	EXPECT_EQ(0, self->t.lost);
	EXPECT_EQ(0, self->t.bad);
}

TEST_F(ledger, duplicate)
{
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 1, 1));
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 1, 2));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 1, 2));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 1, 1));
	/* Streams are independent: 1 on stream 0 is new. */
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 0, 1));
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(3, self->t.delivered);
	EXPECT_EQ(2, self->t.duplicate);
	EXPECT_EQ(0, self->t.out_of_order);
}

TEST_F(ledger, acked_never_delivered_is_lost)
{
	uint64_t seq;

	for (seq = 1; seq <= 3; seq++)
		kc_ledger_delivered(self->l, 0, seq);
	kc_ledger_acked(self->l, 0, 5);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(5, self->t.acked);
	EXPECT_EQ(2, self->t.lost);

	/* A number skipped inside the delivered range is lost too. */
	kc_ledger_delivered(self->l, 2, 1);
	EXPECT_EQ(KC_LEDGER_GAP, kc_ledger_delivered(self->l, 2, 3));
	kc_ledger_acked(self->l, 2, 3);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(3, self->t.lost);
	EXPECT_EQ(1, self->t.out_of_order);
}

TEST_F(ledger, gap_then_late_arrival)
{
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 0, 1));
	EXPECT_EQ(KC_LEDGER_GAP, kc_ledger_delivered(self->l, 0, 4));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 2));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 3));
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 0, 5));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 0, 3));
	kc_ledger_acked(self->l, 0, 5);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(5, self->t.delivered);
	EXPECT_EQ(3, self->t.out_of_order);
	EXPECT_EQ(1, self->t.duplicate);
	EXPECT_EQ(0, self->t.lost);
}

/* Filling the middle of a gap splits it; both halves stay tracked. */
TEST_F(ledger, late_arrival_splits_gap)
{
	kc_ledger_delivered(self->l, 0, 1);
	EXPECT_EQ(KC_LEDGER_GAP, kc_ledger_delivered(self->l, 0, 10));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 5));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 0, 5));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 4));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 6));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 0, 10));
	kc_ledger_acked(self->l, 0, 10);
	kc_ledger_totals(self->l, &self->t);
	/* 2, 3, 7, 8 and 9 never came. */
	EXPECT_EQ(5, self->t.lost);
	EXPECT_EQ(5, self->t.delivered);
}

TEST_F(ledger, unacked_is_not_lost)
{
	kc_ledger_delivered(self->l, 0, 1);
	kc_ledger_delivered(self->l, 0, 2);
	kc_ledger_acked(self->l, 0, 1);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(0, self->t.lost);
	EXPECT_EQ(2, self->t.delivered);

	/* 2..4 missing but only 2 acknowledged. */
	kc_ledger_delivered(self->l, 1, 1);
	kc_ledger_delivered(self->l, 1, 5);
	kc_ledger_acked(self->l, 1, 2);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(1, self->t.lost);
}

TEST_F(ledger, acked_only_grows)
{
	kc_ledger_acked(self->l, 0, 10);
	kc_ledger_acked(self->l, 0, 4);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(10, self->t.acked);
	EXPECT_EQ(10, self->t.lost);
}

TEST_F(ledger, huge_jump)
{
	const uint64_t big = 1000000000000ULL;

	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 0, 1));
	EXPECT_EQ(KC_LEDGER_GAP, kc_ledger_delivered(self->l, 0, big));
	kc_ledger_acked(self->l, 0, big);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(big - 2, self->t.lost);

	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, big / 2));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, 2));
	EXPECT_EQ(KC_LEDGER_LATE, kc_ledger_delivered(self->l, 0, big - 1));
	EXPECT_EQ(KC_LEDGER_DUPLICATE,
		  kc_ledger_delivered(self->l, 0, big / 2));
	EXPECT_EQ(KC_LEDGER_DUPLICATE, kc_ledger_delivered(self->l, 0, big));
	EXPECT_EQ(KC_LEDGER_OK, kc_ledger_delivered(self->l, 0, big + 1));
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(big - 5, self->t.lost);
	EXPECT_EQ(6, self->t.delivered);
	EXPECT_EQ(2, self->t.duplicate);
	EXPECT_EQ(4, self->t.out_of_order);
}

TEST_F(ledger, bad_stream_and_seq_zero)
{
	struct kc_ledger *none = NULL;

	EXPECT_EQ(KC_LEDGER_BAD_STREAM, kc_ledger_delivered(self->l, 0, 0));
	EXPECT_EQ(KC_LEDGER_BAD_STREAM, kc_ledger_delivered(self->l, 3, 1));
	EXPECT_EQ(KC_LEDGER_BAD_STREAM,
		  kc_ledger_delivered(self->l, SIZE_MAX, 1));
	kc_ledger_acked(self->l, 3, 100);
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(3, self->t.bad);
	EXPECT_EQ(0, self->t.acked);
	EXPECT_EQ(0, self->t.delivered);
	EXPECT_EQ(-EINVAL, kc_ledger_create(0, &none));
	EXPECT_EQ(NULL, none);
	kc_ledger_free(NULL);
}

TEST_F(ledger, verdict_texts_differ)
{
	static const enum kc_ledger_verdict v[] = {
		KC_LEDGER_OK,	KC_LEDGER_DUPLICATE,  KC_LEDGER_GAP,
		KC_LEDGER_LATE, KC_LEDGER_BAD_STREAM,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_LEN(v); i++) {
		ASSERT_NE(NULL, kc_ledger_verdict_text(v[i]));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(kc_ledger_verdict_text(v[i]),
				     kc_ledger_verdict_text(v[j]));
	}
}

/* The verdict a set of seen numbers and the highest one imply. */
static enum kc_ledger_verdict model_verdict(const bool *seen, uint64_t highest,
					    uint64_t seq)
{
	if (seen[seq])
		return KC_LEDGER_DUPLICATE;
	if (seq == highest + 1)
		return KC_LEDGER_OK;
	return seq > highest ? KC_LEDGER_GAP : KC_LEDGER_LATE;
}

/*
 * 1..N shuffled, a tenth dropped, a tenth sent twice: every verdict and
 * the loss for several ack points match a bitmap of what was seen.
 */
TEST_F(ledger, shuffle_against_model)
{
	enum { N = 20000 };
	uint64_t state = 4242, *order, tmp, highest = 0, lost;
	bool *seen = calloc(N + 1, sizeof(*seen));
	size_t n = 0, i, j;

	order = calloc(2 * N, sizeof(*order));
	ASSERT_TRUE(seen && order);
	for (i = 1; i <= N; i++) {
		if (next_random(&state) % 10 == 0)
			continue;
		order[n++] = i;
		if (next_random(&state) % 10 == 0)
			order[n++] = i;
	}
	for (i = n - 1; i > 0; i--) {
		j = next_random(&state) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(model_verdict(seen, highest, order[i]),
			  kc_ledger_delivered(self->l, 2, order[i]))
		TH_LOG("delivery %zu: %llu", i, (unsigned long long)order[i]);
		seen[order[i]] = true;
		if (order[i] > highest)
			highest = order[i];
	}
	for (i = 0, lost = 0; i <= N; i += 1000) {
		for (j = i ? i - 999 : 1; j <= i; j++)
			lost += !seen[j];
		kc_ledger_acked(self->l, 2, i);
		kc_ledger_totals(self->l, &self->t);
		ASSERT_EQ(lost, self->t.lost) TH_LOG("acked %zu", i);
	}
	free(order);
	free(seen);
}

struct side {
	struct kc_ledger *l;
	size_t stream;
	uint64_t n;
	uint64_t not_ok;
};

static void *ack_side(void *arg)
{
	struct side *s = arg;
	uint64_t seq;

	for (seq = 1; seq <= s->n; seq++)
		kc_ledger_acked(s->l, s->stream, seq);
	return NULL;
}

static void *deliver_side(void *arg)
{
	struct side *s = arg;
	uint64_t seq;

	for (seq = 1; seq <= s->n; seq++)
		if (kc_ledger_delivered(s->l, s->stream, seq) != KC_LEDGER_OK)
			s->not_ok++;
	return NULL;
}

/* One sender and one receiver thread per stream, all at once. */
TEST_F(ledger, both_sides_on_threads)
{
	struct side sides[3];
	pthread_t acker[3], deliverer[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		sides[i] = (struct side){ self->l, i, 100000 + i, 0 };
		ASSERT_EQ(0,
			  pthread_create(&acker[i], NULL, ack_side, &sides[i]));
		ASSERT_EQ(0, pthread_create(&deliverer[i], NULL, deliver_side,
					    &sides[i]));
	}
	for (i = 0; i < 3; i++) {
		pthread_join(acker[i], NULL);
		pthread_join(deliverer[i], NULL);
		EXPECT_EQ(0, sides[i].not_ok);
	}
	kc_ledger_totals(self->l, &self->t);
	EXPECT_EQ(300003, self->t.acked);
	EXPECT_EQ(300003, self->t.delivered);
	EXPECT_EQ(0, self->t.lost);
}

/* ---- report ---- */

FIXTURE(report)
{
	struct kc_report r;
	struct kc_hist *ack, *connect;
	json_t *j;
};

FIXTURE_SETUP(report)
{
	uint64_t v;

	self->j = NULL;
	self->ack = malloc(sizeof(*self->ack));
	self->connect = malloc(sizeof(*self->connect));
	ASSERT_TRUE(self->ack && self->connect);
	kc_hist_init(self->ack);
	kc_hist_init(self->connect);
	for (v = 1; v <= 1000; v++)
		kc_hist_record(self->ack, v * 1000); /* 1 us .. 1 ms */
	kc_hist_record(self->connect, 2500000);

	kc_report_init(&self->r, "kcourier-load", "kcourier");
	self->r.durability = "fsync'd to the store before the ack";
	self->r.shape = (struct kc_report_shape){
		.pairs = 4,
		.fanin = 2,
		.threads = 2,
		.window = 64,
		.size = 100,
		.duration_s = 10,
		.warmup_s = 2,
	};
	self->r.elapsed_s = 2.0;
	self->r.sent = 1000;
	self->r.acked = 900;
	self->r.delivered = 800;
	self->r.ack_latency = self->ack;
}

FIXTURE_TEARDOWN(report)
{
	json_decref(self->j);
	free(self->ack);
	free(self->connect);
}

/* The report as scripts see it: dumped and parsed back. */
static json_t *round_trip(const struct kc_report *r)
{
	json_t *built = kc_report_json(r), *back;
	char *text;

	if (!built)
		return NULL;
	text = json_dumps(built, JSON_COMPACT);
	json_decref(built);
	if (!text)
		return NULL;
	back = json_loads(text, 0, NULL);
	free(text);
	return back;
}

static double number_at(json_t *j, const char *obj, const char *key)
{
	if (obj)
		j = json_object_get(j, obj);
	return json_number_value(json_object_get(j, key));
}

TEST_F(report, json_values)
{
	json_t *ack;

	kc_report_error_add(&self->r, "connect", 3);
	kc_report_error_add(&self->r, "timeout", 1);
	kc_report_error_add(&self->r, "connect", 2);
	self->r.tool_cpu_s = 0.5;
	self->j = round_trip(&self->r);
	ASSERT_NE(NULL, self->j);

	EXPECT_STREQ("kcourier-load",
		     json_string_value(json_object_get(self->j, "tool")));
	EXPECT_STREQ("kcourier",
		     json_string_value(json_object_get(self->j, "target")));
	EXPECT_NE(NULL, json_object_get(self->j, "durability"));
	EXPECT_EQ(4, number_at(self->j, "shape", "pairs"));
	EXPECT_EQ(64, number_at(self->j, "shape", "window"));
	EXPECT_TRUE(json_is_false(json_object_get(
		json_object_get(self->j, "shape"), "connect_storm")));
	EXPECT_TRUE(json_is_integer(json_object_get(self->j, "acked")));
	EXPECT_EQ(900, number_at(self->j, NULL, "acked"));
	EXPECT_TRUE(close_to(900 / 2.0, number_at(self->j, NULL, "msgs_per_s"),
			     1e-9));
	EXPECT_TRUE(close_to(
		800 / 2.0, number_at(self->j, NULL, "delivered_per_s"), 1e-9));
	EXPECT_TRUE(close_to(800 * 100 / 2.0 / 1e6,
			     number_at(self->j, NULL, "payload_mb_per_s"),
			     1e-12));

	ack = json_object_get(json_object_get(self->j, "latency_us"), "ack");
	ASSERT_NE(NULL, ack);
	EXPECT_EQ(1000, number_at(ack, NULL, "count"));
	EXPECT_TRUE(close_to(kc_hist_percentile(self->ack, 99) / 1e3,
			     number_at(ack, NULL, "p99"), 0.051));
	EXPECT_TRUE(close_to(kc_hist_percentile(self->ack, 99.99) / 1e3,
			     number_at(ack, NULL, "p9999"), 0.051));
	EXPECT_TRUE(close_to(1000.0, number_at(ack, NULL, "max"), 0.051));
	EXPECT_TRUE(close_to(500.5, number_at(ack, NULL, "mean"), 0.051));
	EXPECT_NE(NULL, json_object_get(ack, "p50"));
	EXPECT_NE(NULL, json_object_get(ack, "p90"));
	EXPECT_NE(NULL, json_object_get(ack, "p999"));

	EXPECT_EQ(5, number_at(self->j, "errors", "connect"));
	EXPECT_EQ(1, number_at(self->j, "errors", "timeout"));
	EXPECT_EQ(2, json_object_size(json_object_get(self->j, "errors")));
	EXPECT_EQ(6, number_at(self->j, NULL, "errors_total"));

	EXPECT_TRUE(close_to(0.5, number_at(self->j, "cpu", "tool_s"), 1e-12));
	EXPECT_TRUE(close_to(0.5e6 / 900,
			     number_at(self->j, "cpu", "tool_us_per_msg"),
			     1e-9));
}

TEST_F(report, json_leaves_out_absent_data)
{
	json_t *lat;

	self->j = round_trip(&self->r);
	ASSERT_NE(NULL, self->j);
	lat = json_object_get(self->j, "latency_us");
	EXPECT_NE(NULL, json_object_get(lat, "ack"));
	EXPECT_EQ(NULL, json_object_get(lat, "deliver"));
	EXPECT_EQ(NULL, json_object_get(self->j, "connections"));
	EXPECT_EQ(NULL, json_object_get(self->j, "connections_per_s"));
	EXPECT_EQ(NULL, json_object_get(self->j, "connect_latency_us"));
	/* Both CPU figures unknown: no "cpu" at all. */
	EXPECT_EQ(NULL, json_object_get(self->j, "cpu"));
	EXPECT_EQ(0, json_object_size(json_object_get(self->j, "errors")));
	EXPECT_EQ(0, number_at(self->j, NULL, "errors_total"));
	json_decref(self->j);

	self->r.ack_latency = NULL;
	self->r.durability = NULL;
	self->r.agent_cpu_s = 1.5;
	self->j = round_trip(&self->r);
	ASSERT_NE(NULL, self->j);
	EXPECT_EQ(NULL, json_object_get(self->j, "latency_us"));
	EXPECT_EQ(NULL, json_object_get(self->j, "durability"));
	EXPECT_EQ(NULL,
		  json_object_get(json_object_get(self->j, "cpu"), "tool_s"));
	EXPECT_TRUE(close_to(1.5e6 / 900,
			     number_at(self->j, "cpu", "agent_us_per_msg"),
			     1e-9));
	json_decref(self->j);

	/* No measured interval: no rates to divide out. */
	self->r.elapsed_s = 0;
	self->j = round_trip(&self->r);
	ASSERT_NE(NULL, self->j);
	EXPECT_EQ(NULL, json_object_get(self->j, "msgs_per_s"));
	EXPECT_EQ(NULL, json_object_get(self->j, "payload_mb_per_s"));
	EXPECT_EQ(900, number_at(self->j, NULL, "acked"));
}

/* A peer that never acks is measured by its deliveries. */
TEST_F(report, json_without_acks_counts_deliveries)
{
	struct kc_hist *empty = malloc(sizeof(*empty));

	ASSERT_NE(NULL, empty);
	kc_hist_init(empty);
	self->r.acked = 0;
	self->r.elapsed_s = 4.0;
	self->r.tool_cpu_s = 0.2;
	self->r.ack_latency = NULL;
	self->r.deliver_latency = empty;
	self->j = round_trip(&self->r);
	free(empty);
	ASSERT_NE(NULL, self->j);
	EXPECT_TRUE(close_to(800 / 4.0, number_at(self->j, NULL, "msgs_per_s"),
			     1e-9));
	EXPECT_TRUE(close_to(0.2e6 / 800,
			     number_at(self->j, "cpu", "tool_us_per_msg"),
			     1e-9));
	/* An empty histogram gives its count and no made-up percentiles. */
	EXPECT_EQ(0, number_at(json_object_get(self->j, "latency_us"),
			       "deliver", "count"));
	EXPECT_EQ(NULL,
		  json_object_get(json_object_get(json_object_get(self->j,
								  "latency_us"),
						  "deliver"),
				  "p50"));
}

TEST_F(report, json_connect_storm)
{
	self->r.shape.connect_storm = true;
	self->r.connections = 300;
	self->r.connect_latency = self->connect;
	self->j = round_trip(&self->r);
	ASSERT_NE(NULL, self->j);
	EXPECT_TRUE(json_is_true(json_object_get(
		json_object_get(self->j, "shape"), "connect_storm")));
	EXPECT_EQ(300, number_at(self->j, NULL, "connections"));
	EXPECT_TRUE(close_to(
		150.0, number_at(self->j, NULL, "connections_per_s"), 1e-9));
	EXPECT_TRUE(close_to(
		2500.0, number_at(self->j, "connect_latency_us", "max"), 0.05));
}

TEST_F(report, error_counters)
{
	char long_name[100];
	unsigned int i;

	kc_report_error_add(&self->r, "tls", 1);
	kc_report_error_add(&self->r, "nack:REPLAY", 4);
	kc_report_error_add(&self->r, "tls", 10);
	kc_report_error_add(&self->r, "lost", 0);
	ASSERT_EQ(3, self->r.n_errors);
	EXPECT_STREQ("tls", self->r.errors[0].name);
	EXPECT_EQ(11, self->r.errors[0].count);
	EXPECT_STREQ("nack:REPLAY", self->r.errors[1].name);
	EXPECT_EQ(4, self->r.errors[1].count);
	EXPECT_STREQ("lost", self->r.errors[2].name);
	EXPECT_EQ(0, self->r.errors[2].count);
	EXPECT_EQ(15, kc_report_error_total(&self->r));

	/* An over-long name is cut, and the cut name is one counter. */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	kc_report_error_add(&self->r, long_name, 1);
	kc_report_error_add(&self->r, long_name, 1);
	ASSERT_EQ(4, self->r.n_errors);
	EXPECT_EQ(KC_REPORT_ERROR_NAME - 1, strlen(self->r.errors[3].name));
	EXPECT_EQ(2, self->r.errors[3].count);

	/* Past the table, errors still count, under "other". */
	for (i = 0; i < 2 * KC_REPORT_MAX_ERRORS; i++) {
		snprintf(long_name, sizeof(long_name), "e%u", i);
		kc_report_error_add(&self->r, long_name, 1);
	}
	EXPECT_EQ(KC_REPORT_MAX_ERRORS, self->r.n_errors);
	EXPECT_STREQ("other", self->r.errors[KC_REPORT_MAX_ERRORS - 1].name);
	EXPECT_EQ(17 + 2 * KC_REPORT_MAX_ERRORS,
		  kc_report_error_total(&self->r));
}

/* kc_report_print() into a memory stream; the caller frees the text. */
static char *printed(const struct kc_report *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	kc_report_print(f, r);
	fclose(f);
	return text;
}

TEST_F(report, print_for_people)
{
	char *text;

	text = printed(&self->r);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "kcourier-load -> kcourier"));
	EXPECT_NE(NULL, strstr(text, "450 msgs/s acked"));
	EXPECT_NE(NULL, strstr(text, "p99.99"));
	EXPECT_NE(NULL, strstr(text, "1.00ms")); /* ack max */
	EXPECT_EQ(NULL, strstr(text, "deliver "));
	EXPECT_NE(NULL, strstr(text, "errors       none"));
	EXPECT_EQ(NULL, strstr(text, "cpu"));
	free(text);

	kc_report_error_add(&self->r, "timeout", 1234);
	self->r.tool_cpu_s = 0.9;
	text = printed(&self->r);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "timeout 1,234 (total 1,234)"));
	EXPECT_NE(NULL, strstr(text, "tool 0.90 s (1000.0 us/msg)"));
	EXPECT_EQ(NULL, strstr(text, "agent"));
	free(text);

	self->r.agent_cpu_s = 1.8;
	kc_report_error_add(&self->r, "connect", 2);
	text = printed(&self->r);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "timeout 1,234, connect 2 (total 1,236)"));
	EXPECT_NE(NULL, strstr(text, "(1000.0 us/msg), agent 1.80 s (2000.0"));
	free(text);
}

TEST(report_progress_line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ASSERT_NE(NULL, f);
	kc_report_progress(f, 3.0, 2.0, 24690, 2000, 1999998, 7);
	fclose(f);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, strncmp(text,
			     "  3s  sent 12,345/s acked 1,000/s "
			     "delivered 999,999/s errors 7",
			     strlen("  3s  sent 12,345/s acked 1,000/s "
				    "delivered 999,999/s errors 7")));
	ASSERT_LT(0, len);
	EXPECT_EQ('\r', text[len - 1]);
	EXPECT_EQ(NULL, strchr(text, '\n'));
	free(text);
}

/* ---- proc ---- */

/* Spins until this process's CPU time, as f reports it, moves. */
static bool burn_until_grows(double (*f)(void), double start)
{
	volatile uint64_t counter = 0;
	unsigned int rounds;

	/* Bounded by work, not by time: ~10^10 increments at most. */
	for (rounds = 0; rounds < 10000; rounds++) {
		while (++counter % 1000000)
			;
		if (f() > start)
			return true;
	}
	return false;
}

static double own_proc_cpu(void)
{
	return kc_proc_cpu_seconds(getpid());
}

TEST(proc_cpu_grows)
{
	double start = kc_proc_cpu_seconds(getpid());
	double self_start = kc_self_cpu_seconds();

	ASSERT_LE(0, start);
	ASSERT_LE(0, self_start);
	EXPECT_TRUE(burn_until_grows(own_proc_cpu, start));
	EXPECT_TRUE(burn_until_grows(kc_self_cpu_seconds, self_start));
}

static double self_cpu_less_quarter(void)
{
	return kc_self_cpu_seconds() - 0.25;
}

/*
 * /proc's utime + stime and getrusage() read the same accounting, so
 * after a quarter second of work both must agree to a few clock ticks; a
 * misparsed field (a fault count, cutime) would not.
 */
TEST(proc_cpu_matches_rusage)
{
	double start = kc_self_cpu_seconds(), from_proc, from_rusage;

	ASSERT_LE(0, start);
	ASSERT_TRUE(burn_until_grows(self_cpu_less_quarter, start));
	from_proc = kc_proc_cpu_seconds(getpid());
	from_rusage = kc_self_cpu_seconds();
	EXPECT_TRUE(close_to(from_rusage, from_proc, 0.1))
	TH_LOG("proc %.3f s, rusage %.3f s", from_proc, from_rusage);
}

/* comm is free text: ") (" inside it must not shift the fields. */
TEST(proc_cpu_with_odd_comm)
{
	double start;

	ASSERT_EQ(0, prctl(PR_SET_NAME, "a) 1 2 (b", 0, 0, 0));
	start = kc_proc_cpu_seconds(getpid());
	ASSERT_LE(0, start);
	EXPECT_TRUE(burn_until_grows(own_proc_cpu, start));
}

TEST(proc_cpu_missing_pid)
{
	pid_t child = fork();

	ASSERT_LE(0, child);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	/* Reaped: its /proc entry is gone (reuse this soon is unlikely). */
	EXPECT_GT(0, kc_proc_cpu_seconds(child));
	EXPECT_GT(0, kc_proc_cpu_seconds(INT_MAX));
	EXPECT_GT(0, kc_proc_cpu_seconds(0));
	EXPECT_GT(0, kc_proc_cpu_seconds(-1));
}

TEST(now_ns_is_monotonic)
{
	uint64_t a = kc_mono_ns(), b = kc_mono_ns();

	EXPECT_LT(0, a);
	EXPECT_LE(a, b);
}

TEST_HARNESS_MAIN
