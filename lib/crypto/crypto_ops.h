/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The crypto tiers by name, for the agent and the clients: open one, use
 * it through struct kc_crypto_ops (crypto_tier.h), close it.
 *   user   OpenSSL in this process; works everywhere
 *   afalg  the kernel's ciphers over AF_ALG, where the kernel has them
 *   kmod   kcourier.ko, where it is loaded (crypto_kmod.h)
 *   auto   whichever of them opens messages fastest here (crypto_auto.h)
 */
#ifndef KC_CRYPTO_OPS_H
#define KC_CRYPTO_OPS_H

#include <stddef.h>

#include "crypto/crypto_auto.h"
#include "crypto/crypto_tier.h"

/*
 * Opens the tier named (for "auto", the one kc_crypto_pick chose). Returns
 * 0, -ENOENT for a tier not available on this kernel
 * (kc_crypto_available says why), -EINVAL for a name that is neither.
 */
int kc_crypto_open(const char *tier, struct kc_crypto **out);
/* Accepts NULL. */
void kc_crypto_close(struct kc_crypto *c);

/*
 * 0 if kc_crypto_open(tier) can work here; else -ENOENT with a one-line
 * reason in why (e.g. "no AF_ALG in this kernel (...)"), or -EINVAL.
 */
int kc_crypto_available(const char *tier, char *why, size_t cap);

#endif
