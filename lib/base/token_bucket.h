/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A token bucket: `rate` tokens a second, at most `burst` saved up. The
 * agent's limits (docs/OPERATIONS.md "Limits and hardening") each keep
 * one per sender, client, connection or source address. Tokens are kept
 * in thousandths so a millisecond clock refills them smoothly.
 *
 * Not locked: its owner serialises the calls.
 */
#ifndef KC_TOKEN_BUCKET_H
#define KC_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct kc_bucket_rate {
	uint32_t rate;	/* tokens a second; 0: no limit */
	uint32_t burst; /* most tokens saved up (at least 1) */
};

struct kc_bucket {
	uint64_t milli; /* tokens, in thousandths */
	uint64_t last_ms;
	bool primed; /* filled to burst at its first use */
};

/*
 * Takes one token at now_ms (a monotonic clock): true when there was one.
 * A zeroed bucket starts full.
 */
bool kc_bucket_take(struct kc_bucket *b, const struct kc_bucket_rate *r,
		    uint64_t now_ms);
/* Whether the bucket is back to full: its owner may forget it. */
bool kc_bucket_full(const struct kc_bucket *b, const struct kc_bucket_rate *r,
		    uint64_t now_ms);

#endif
