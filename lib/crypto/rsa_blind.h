/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RSA blinding around a private operation done elsewhere (the kernel's
 * `keyctl pkey_decrypt`, whose RSA in Linux 6.12, crypto/rsa.c, is not
 * blinded and whose mpi_powm is not constant time). The agent runs
 * ciphertexts a client chose through the seal key, so the timing of the
 * private operation must not depend on them:
 *
 *   c' = c * r^e mod n,   m' = raw(c') = m * r mod n,   m = m' * r^-1 mod n
 *
 * with r drawn fresh for every call. OpenSSL's BN_BLINDING does the
 * arithmetic (BN_BLINDING_create_param draws r and computes r^e and r^-1);
 * only the glue around a private operation OpenSSL cannot see is ours.
 */
#ifndef KC_RSA_BLIND_H
#define KC_RSA_BLIND_H

#include <stdint.h>

#include <openssl/evp.h>

#include "wire/wire.h"

/* The public exponent every kcourier RSA key has (kc_rsa_parse_pkcs8). */
#define KC_RSA_E 65537

/* A bare RSA private operation: em = c^d mod n, 0 or -errno. */
typedef int (*kc_rsa_raw_fn)(void *ctx, const uint8_t c[KC_RSA_LEN],
			     uint8_t em[KC_RSA_LEN]);

/* The modulus of an RSA-2048 key, big-endian, KC_RSA_LEN bytes. 0 or -errno. */
int kc_rsa_modulus(EVP_PKEY *key, uint8_t n[KC_RSA_LEN]);

/*
 * em = raw(c) computed blinded under the modulus n (public exponent
 * KC_RSA_E). Like the kernel, refuses c unless 1 < c < n - 1 with -EINVAL,
 * before raw runs (those values are public: anyone with n can tell).
 * Other errors are raw's or -ENOMEM/-EIO; em is zeroed on every failure.
 */
int kc_rsa_blind_raw(const uint8_t n[KC_RSA_LEN], kc_rsa_raw_fn raw, void *ctx,
		     const uint8_t c[KC_RSA_LEN], uint8_t em[KC_RSA_LEN]);

#endif
