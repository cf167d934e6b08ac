/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whether this kernel can run the afalg crypto tier (crypto_afalg.c):
 * AF_ALG, both algorithms, keyring access and key-by-serial, checked
 * against libkcapi keyed with the same bytes.
 */
#ifndef KC_AFALG_PROBE_H
#define KC_AFALG_PROBE_H

#include <stddef.h>

/*
 * 0, or -ENOENT with a one-line reason in why (may be NULL). Computed once
 * per process.
 */
int kc_afalg_probe(char *why, size_t cap);

#endif
