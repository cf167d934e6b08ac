/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A log-linear latency histogram in the manner of HdrHistogram: every power
 * of two is cut into 2^KC_HIST_SUB_BITS equal sub-buckets, so any recorded
 * value is known to within a relative error of 2^-KC_HIST_SUB_BITS (under
 * 0.8 %) at a fixed, small memory cost and O(1) per record. Values below
 * 2^KC_HIST_SUB_BITS are kept exactly.
 *
 * Units are the caller's (nanoseconds throughout the load tools). Values
 * above KC_HIST_MAX_VALUE are counted in the top bucket; min and max stay
 * exact.
 *
 * Not thread-safe: one histogram per thread, merged at the end.
 */
#ifndef KC_HIST_H
#define KC_HIST_H

#include <stdint.h>

#define KC_HIST_SUB_BITS 7
#define KC_HIST_SUB_COUNT (1u << KC_HIST_SUB_BITS)
/* Largest value told apart: 2^42 ns is about 73 minutes. */
#define KC_HIST_MAX_BITS 42
#define KC_HIST_MAX_VALUE ((UINT64_C(1) << KC_HIST_MAX_BITS) - 1)
#define KC_HIST_BUCKETS \
	((KC_HIST_MAX_BITS - KC_HIST_SUB_BITS + 1) * KC_HIST_SUB_COUNT)

struct kc_hist {
	uint64_t counts[KC_HIST_BUCKETS];
	uint64_t total;
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	double sum;	   /* for the mean */
};

void kc_hist_init(struct kc_hist *h);
void kc_hist_record(struct kc_hist *h, uint64_t value);
void kc_hist_record_n(struct kc_hist *h, uint64_t value, uint64_t n);
/* dst += src. */
void kc_hist_merge(struct kc_hist *dst, const struct kc_hist *src);

/*
 * The value at percentile p (0 < p <= 100): the largest value of the
 * bucket holding the ceil(p/100 * total)-th smallest record, never above
 * max. 0 for an empty histogram.
 */
uint64_t kc_hist_percentile(const struct kc_hist *h, double p);
double kc_hist_mean(const struct kc_hist *h);

/* Bucket arithmetic, exposed for the tests. */
unsigned int kc_hist_index(uint64_t value);
uint64_t kc_hist_lowest(unsigned int index);  /* smallest value in bucket */
uint64_t kc_hist_highest(unsigned int index); /* largest value in bucket */

#endif
