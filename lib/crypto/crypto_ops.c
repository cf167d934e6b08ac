// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tier selection for the crypto-ops interface (crypto_ops.h): "user" and
 * "afalg" by name, "auto" through kc_crypto_pick (afalg_pick.c). The kmod
 * tier is not built yet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/afalg_probe.h"
#include "crypto/crypto_ops.h"

static void say_why(char *why, size_t cap, const char *text)
{
	if (why && cap)
		snprintf(why, cap, "%s", text);
}

int kc_crypto_available(const char *tier, char *why, size_t cap)
{
	say_why(why, cap, "");
	if (!tier)
		return -EINVAL;
	if (!strcmp(tier, "user") || !strcmp(tier, "auto"))
		return 0;
	if (!strcmp(tier, "afalg"))
		return kc_afalg_probe(why, cap);
	if (!strcmp(tier, "kmod")) {
		say_why(why, cap, "the kmod tier (kcourier.ko) is not built");
		return -ENOENT;
	}
	return -EINVAL;
}

int kc_crypto_open(const char *tier, struct kc_crypto **out)
{
	struct kc_crypto_pick pick;
	int ret;

	*out = NULL;
	if (!tier)
		return -EINVAL;
	if (!strcmp(tier, "auto")) {
		ret = kc_crypto_pick(&pick);
		if (ret)
			return ret;
		tier = pick.tier;
	}
	if (!strcmp(tier, "user"))
		return kc_crypto_user_ops.create(out);
	if (!strcmp(tier, "afalg"))
		return kc_crypto_afalg_ops.create(out);
	if (!strcmp(tier, "kmod"))
		return -ENOENT;
	return -EINVAL;
}

void kc_crypto_close(struct kc_crypto *c)
{
	if (c)
		c->ops->destroy(c);
}
