/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user crypto tier: OpenSSL in this process, session keys in locked
 * memory (crypto_user.c). Callers open it by name (crypto_ops.h).
 */
#ifndef KC_CRYPTO_USER_H
#define KC_CRYPTO_USER_H

#include "crypto/crypto_tier.h"

extern const struct kc_crypto_ops kc_crypto_user_ops;

#endif
