/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AES-CBC-PKCS#7 and HMAC-SHA256 behind one interface, so the Wycheproof
 * suite runs the same vectors through the library's OpenSSL code (crypto.h)
 * and through the kernel's, as the afalg tier uses it: every key becomes a
 * `logon` key in the kcourier keyring and the AF_ALG socket is keyed from
 * it by serial (afalg_sock.h), and padding is added and checked by the
 * tier's own code (kc_alg_cbc_encrypt_pkcs7, kc_alg_cbc_decrypt_pkcs7).
 */
#ifndef KC_TEST_SYM_ENGINE_H
#define KC_TEST_SYM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

struct sym_engine {
	const char *name;
	/* kc_cbc_encrypt's and kc_cbc_decrypt's contracts (crypto.h). */
	int (*cbc_encrypt)(const uint8_t *key, size_t key_len,
			   const uint8_t iv[KC_IV_LEN], const uint8_t *pt,
			   size_t len, uint8_t *ct, size_t *ct_len);
	int (*cbc_decrypt)(const uint8_t *key, size_t key_len,
			   const uint8_t iv[KC_IV_LEN], const uint8_t *ct,
			   size_t ct_len, uint8_t *pt, size_t *pt_len);
	/* kc_hmac_sha256's. */
	int (*hmac)(const uint8_t *key, size_t key_len,
		    const struct kc_iov *iov, size_t n,
		    uint8_t out[KC_MAC_LEN]);
};

extern const struct sym_engine sym_engine_openssl;
extern const struct sym_engine sym_engine_kernel;

/*
 * Readies the kernel engine (its keyring): 0, or -ENOENT with the reason in
 * why when this kernel cannot run the afalg tier (kc_afalg_probe).
 */
int sym_engine_kernel_init(char *why, size_t cap);

#endif
