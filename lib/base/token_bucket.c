// SPDX-License-Identifier: GPL-2.0-only
/*
 * Token bucket: see token_bucket.h.
 */
#include "base/token_bucket.h"

static uint64_t cap_milli(const struct kc_bucket_rate *r)
{
	return (uint64_t)(r->burst ? r->burst : 1) * 1000;
}

/* Tokens as they are at now_ms, without changing the bucket. */
static uint64_t level(const struct kc_bucket *b, const struct kc_bucket_rate *r,
		      uint64_t now_ms)
{
	uint64_t cap = cap_milli(r), have;

	if (!b->primed)
		return cap;
	/* A clock that did not move (or went back) refills nothing. */
	have = b->milli;
	if (now_ms > b->last_ms)
		have += (now_ms - b->last_ms) * r->rate;
	return have < cap ? have : cap;
}

bool kc_bucket_take(struct kc_bucket *b, const struct kc_bucket_rate *r,
		    uint64_t now_ms)
{
	uint64_t have;

	if (!r->rate)
		return true;
	have = level(b, r, now_ms);
	b->primed = true;
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
	b->milli = have;
	if (have < 1000)
		return false;
	b->milli = have - 1000;
	return true;
}

bool kc_bucket_full(const struct kc_bucket *b, const struct kc_bucket_rate *r,
		    uint64_t now_ms)
{
	return !r->rate || level(b, r, now_ms) >= cap_milli(r);
}
