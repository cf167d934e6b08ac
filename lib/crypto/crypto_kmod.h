/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kmod crypto tier: kcourier.ko's /dev/kcourier (kmod/, the ABI in
 * uapi/linux/kcourier.h), session keys only in the kernel keyring, one
 * system call per batch. Its create answers -ENOENT where the module is
 * not loaded. Callers open it by name (crypto_ops.h).
 */
#ifndef KC_CRYPTO_KMOD_H
#define KC_CRYPTO_KMOD_H

#include <stddef.h>

#include "crypto/crypto_tier.h"

#define KC_KMOD_DEV "/dev/kcourier"

extern const struct kc_crypto_ops kc_crypto_kmod_ops;

/*
 * 0 when /dev/kcourier opens and speaks this ABI; else -ENOENT with a
 * one-line reason in why (may be NULL).
 */
int kc_kmod_probe(char *why, size_t cap);

#endif
