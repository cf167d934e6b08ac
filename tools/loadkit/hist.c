// SPDX-License-Identifier: GPL-2.0-only
/*
 * Log-linear histogram (hist.h).
 *
 * For v >= 2^SUB_BITS let e = floor(log2 v) and shift = e - SUB_BITS:
 * then v >> shift keeps the top SUB_BITS + 1 bits of v and lies in
 * [SUB_COUNT, 2 * SUB_COUNT). The bucket index is
 *
 *	shift * SUB_COUNT + (v >> shift)
 *
 * which for shift = 0 (every v < 2 * SUB_COUNT) is v itself, so small
 * values are exact, and each later power of two [2^e, 2^(e+1)) takes the
 * next SUB_COUNT indices, each bucket 2^shift wide. A bucket's width over
 * its lowest value is at most 2^shift / 2^e = 2^-SUB_BITS, which is the
 * promised relative error. The largest value, 2^MAX_BITS - 1, has
 * shift = MAX_BITS - 1 - SUB_BITS and lands on index
 * (MAX_BITS - SUB_BITS + 1) * SUB_COUNT - 1: the last of KC_HIST_BUCKETS.
 */
#include <math.h>
#include <string.h>

#include "hist.h"

#define TOP_INDEX (KC_HIST_BUCKETS - 1)

/* Below this every bucket holds exactly one value. */
#define EXACT_LIMIT (2 * KC_HIST_SUB_COUNT)

void kc_hist_init(struct kc_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int kc_hist_index(uint64_t value)
{
	unsigned int e, shift;

	if (value < EXACT_LIMIT)
		return (unsigned int)value;
	if (value > KC_HIST_MAX_VALUE)
		return TOP_INDEX;
	e = 63 - (unsigned int)__builtin_clzll(value);
	shift = e - KC_HIST_SUB_BITS;
	return shift * KC_HIST_SUB_COUNT + (unsigned int)(value >> shift);
}

/* Inverse of kc_hist_index(): index = shift * SUB_COUNT + sub. */
static unsigned int index_shift(unsigned int index)
{
	return index / KC_HIST_SUB_COUNT - 1;
}

uint64_t kc_hist_lowest(unsigned int index)
{
	unsigned int shift, sub;

	if (index > TOP_INDEX)
		index = TOP_INDEX;
	if (index < EXACT_LIMIT)
		return index;
	shift = index_shift(index);
	sub = index - shift * KC_HIST_SUB_COUNT;
	return (uint64_t)sub << shift;
}

uint64_t kc_hist_highest(unsigned int index)
{
	if (index > TOP_INDEX)
		index = TOP_INDEX;
	if (index < EXACT_LIMIT)
		return index;
	return kc_hist_lowest(index) + (UINT64_C(1) << index_shift(index)) - 1;
}

void kc_hist_record_n(struct kc_hist *h, uint64_t value, uint64_t n)
{
	if (!n)
		return;
	h->counts[kc_hist_index(value)] += n;
	h->total += n;
	h->sum += (double)value * (double)n;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void kc_hist_record(struct kc_hist *h, uint64_t value)
{
	kc_hist_record_n(h, value, 1);
}

void kc_hist_merge(struct kc_hist *dst, const struct kc_hist *src)
{
	unsigned int i;

	if (!src->total)
		return;
	for (i = 0; i < KC_HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/*
 * ceil(p/100 * total), clamped to [1, total]. p * total is formed before
 * the division, and a hair is taken off, so that a p such as 99.99, which
 * binary floating point holds only approximately, does not round the rank
 * up by one past the exact answer.
 */
static uint64_t percentile_rank(uint64_t total, double p)
{
	double r = ceil(p * (double)total / 100.0 - 1e-9);

	if (!(r >= 1.0))
		return 1;
	if (r >= (double)total)
		return total;
	return (uint64_t)r;
}

uint64_t kc_hist_percentile(const struct kc_hist *h, double p)
{
	uint64_t rank, seen = 0, high;
	unsigned int i;

	if (!h->total)
		return 0;
	rank = percentile_rank(h->total, p);
	/* The last record is the max, exact even beyond KC_HIST_MAX_VALUE. */
	if (rank == h->total)
		return h->max;
	for (i = 0; i < TOP_INDEX; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	high = kc_hist_highest(i);
	return high < h->max ? high : h->max;
}

double kc_hist_mean(const struct kc_hist *h)
{
	return h->total ? h->sum / (double)h->total : 0.0;
}
