// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tier selection for the crypto-ops interface (crypto_ops.h). Only the user
 * tier is built so far; "auto" falls back to it, as it would on a kernel
 * without kcourier.ko or AF_ALG keyring support.
 */
#include <errno.h>
#include <string.h>

#include "crypto_ops.h"

/* The kernel tiers, in the order "auto" prefers them, once they exist. */
static const char *const kernel_tiers[] = { "kmod", "afalg" };

int kc_crypto_open(const char *tier, struct kc_crypto **out)
{
	size_t i;

	*out = NULL;
	if (!tier)
		return -EINVAL;
	if (!strcmp(tier, "user") || !strcmp(tier, "auto"))
		return kc_crypto_user_ops.create(out);
	for (i = 0; i < sizeof(kernel_tiers) / sizeof(kernel_tiers[0]); i++) {
		if (!strcmp(tier, kernel_tiers[i]))
			return -ENOENT;
	}
	return -EINVAL;
}

void kc_crypto_close(struct kc_crypto *c)
{
	if (c)
		c->ops->destroy(c);
}
