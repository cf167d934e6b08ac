/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "auto" choice between the crypto tiers (crypto_auto.c): when afalg
 * or kmod is available, each tier opened the same batches of KC_PICK_BATCH
 * messages of KC_PICK_SIZE bytes and the faster one won; otherwise user,
 * with afalg's reason in why. Measured once per process, so every worker
 * gets the same answer. kc_crypto_open("auto") opens what this chose.
 */
#ifndef KC_CRYPTO_AUTO_H
#define KC_CRYPTO_AUTO_H

#include <stddef.h>

#define KC_PICK_BATCH 64
#define KC_PICK_SIZE 1024
#define KC_PICK_TIERS 3

struct kc_crypto_pick {
	const char *tier;
	struct {
		const char *name;
		double opens_per_s;
	} measured[KC_PICK_TIERS];
	unsigned int nmeasured;
	char why[200];
};

int kc_crypto_pick(struct kc_crypto_pick *out);
/* For logs: "afalg (user 23000 opens/s, afalg 41000 opens/s in ...)". */
void kc_crypto_pick_describe(const struct kc_crypto_pick *p, char *buf,
			     size_t cap);

#endif
