/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-thread symmetric contexts behind crypto.h's HMAC and AES-CBC (private
 * to libkcourier: used by symm.c and the user crypto tier).
 *
 * OpenSSL 3 looks an algorithm up in its provider store on every implicit
 * use (EVP_aes_256_cbc() in an init call), which costs more than encrypting
 * a small message. So the algorithms are fetched once per process and each
 * thread keeps one cipher and one MAC context, re-keyed per message. Those
 * contexts then hold a key schedule and a copy of the last key: callers
 * that use them directly end every batch with kc_symm_scrub().
 */
#ifndef KC_SYMM_H
#define KC_SYMM_H

#include "crypto/crypto.h"

struct kc_symm;

/* This thread's contexts, made on first use (freed at thread exit); NULL on
 * allocation or library failure. */
struct kc_symm *kc_symm_get(void);

/* Overwrites the key material in both contexts with an all-zero key. */
void kc_symm_scrub(struct kc_symm *s);

int kc_symm_hmac(struct kc_symm *s, const uint8_t *key, size_t key_len,
		 const struct kc_iov *iov, size_t n, uint8_t out[KC_MAC_LEN]);
int kc_symm_cbc_encrypt(struct kc_symm *s, const uint8_t *key, size_t key_len,
			const uint8_t iv[KC_IV_LEN], const uint8_t *pt,
			size_t len, uint8_t *ct, size_t *ct_len);
int kc_symm_cbc_decrypt(struct kc_symm *s, const uint8_t *key, size_t key_len,
			const uint8_t iv[KC_IV_LEN], const uint8_t *ct,
			size_t ct_len, uint8_t *pt, size_t *pt_len);

#endif
