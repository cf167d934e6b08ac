// SPDX-License-Identifier: GPL-2.0-only
/*
 * The crypto tiers by name (crypto_ops.h): "user", "afalg" and "kmod"
 * are built, "auto" is what kc_crypto_pick (crypto_auto.c) chose.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/afalg_probe.h"
#include "crypto/crypto_afalg.h"
#include "crypto/crypto_auto.h"
#include "crypto/crypto_kmod.h"
#include "crypto/crypto_ops.h"
#include "crypto/crypto_user.h"

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
	if (!strcmp(tier, "kmod"))
		return kc_kmod_probe(why, cap);
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
		return kc_crypto_kmod_ops.create(out);
	return -EINVAL;
}

void kc_crypto_close(struct kc_crypto *c)
{
	if (c)
		c->ops->destroy(c);
}
