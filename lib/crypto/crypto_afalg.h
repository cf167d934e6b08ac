/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The afalg crypto tier: the kernel's ciphers over AF_ALG, session keys
 * only in the kernel keyring (crypto_afalg.c). Its create answers -ENOENT
 * where the kernel cannot run it (afalg_probe.h). Callers open it by name
 * (crypto_ops.h).
 */
#ifndef KC_CRYPTO_AFALG_H
#define KC_CRYPTO_AFALG_H

#include "crypto/crypto_tier.h"

extern const struct kc_crypto_ops kc_crypto_afalg_ops;

#endif
