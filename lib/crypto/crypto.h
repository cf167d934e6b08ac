/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cryptographic primitives of PROTOCOL.md section 1 on OpenSSL libcrypto 3.0
 * (GnuTLS 3.7 and nettle 3.8 have no RSA-OAEP, and OpenSSL's RSA private
 * operations are the fastest available here).
 *
 * All functions return 0 or a negative errno: -EBADMSG for any failed
 * verification, unwrap or padding check (one error, no detail), -EINVAL for
 * wrong key types or sizes, -ENOMEM, -EIO for an unexpected library error.
 * Buffers holding secrets are wiped with explicit_bzero on every path.
 */
#ifndef KC_CRYPTO_H
#define KC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "wire/wire.h"

/* Gather list for MAC input. */
struct kc_iov {
	const void *p;
	size_t len;
};

/* System CSPRNG (getrandom); aborts only if the kernel cannot supply it. */
void kc_random(void *buf, size_t len);

/* Constant-time equality of two n-byte strings: true when equal. */
bool kc_equal_ct(const void *a, const void *b, size_t n);

/* HMAC-SHA256 over the concatenation of iov[0..n). Any key length. */
int kc_hmac_sha256(const uint8_t *key, size_t key_len, const struct kc_iov *iov,
		   size_t n, uint8_t out[KC_MAC_LEN]);

/* Km = HMAC-SHA256(K, "kcourier/1 mac" || 0x01), HKDF-Expand of one block. */
int kc_derive_km(const uint8_t k[KC_KEY_LEN], uint8_t km[KC_KEY_LEN]);

/* Ciphertext length of CBC with PKCS#7 padding: next multiple of 16 above. */
static inline size_t kc_cbc_ct_len(size_t pt_len)
{
	return (pt_len / 16 + 1) * 16;
}

/*
 * AES-CBC with PKCS#7; key_len 16, 24 or 32 (the protocol uses 32; the
 * others exist for the Wycheproof suite). ct must hold kc_cbc_ct_len(len).
 * Decrypt: pt must hold ct_len bytes; empty or non-multiple-of-16 input and
 * bad padding all return -EBADMSG.
 */
int kc_cbc_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[KC_IV_LEN],
		   const uint8_t *pt, size_t len, uint8_t *ct, size_t *ct_len);
int kc_cbc_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[KC_IV_LEN],
		   const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len);

/*
 * The PKCS#7 padding (RFC 5652 section 6.3) of a decrypted CBC plaintext of
 * len bytes (a non-zero multiple of 16): the pad length n in 1..16 when the
 * last n bytes all equal n, else 0. Every byte of the last block is looked
 * at the same way whatever n is, so the time taken does not depend on
 * where the padding goes wrong. Both crypto tiers check padding with it.
 */
size_t kc_pkcs7_pad_len(const uint8_t *pt, size_t len);

/*
 * RSA-2048, e = 65537. The OAEP and PSS functions below take any RSA key
 * with a 2048-bit modulus (-EINVAL otherwise); the exponent policy is
 * kc_rsa_check's, for whoever accepts a key from outside.
 */
int kc_rsa_generate(EVP_PKEY **out);
/* 0 if key is RSA with a 2048-bit modulus and e = 65537, else -EINVAL. */
int kc_rsa_check(EVP_PKEY *key);
/*
 * An unwrap key from PKCS#8 DER, as the crypto tiers take it: the whole
 * buffer must be one key, RSA-2048 with e = 65537. 0 or -EINVAL.
 */
int kc_rsa_parse_pkcs8(const uint8_t *der, size_t len, EVP_PKEY **out);

/* RSAES-OAEP, SHA-256, MGF1-SHA-256, empty label. out is KC_RSA_LEN bytes. */
int kc_oaep_wrap(EVP_PKEY *pub, const uint8_t *m, size_t m_len,
		 uint8_t out[KC_RSA_LEN]);
/*
 * Raw OAEP decryption (for tests and general use): m must hold KC_RSA_LEN
 * bytes; -EBADMSG on any failure, including c_len other than KC_RSA_LEN.
 */
/* The same with an OAEP label (RFC 8017 7.1.2); the protocol uses none. */
int kc_oaep_unwrap_label(EVP_PKEY *priv, const uint8_t *label,
			 size_t label_len, const uint8_t *c, size_t c_len,
			 uint8_t *m, size_t *m_len);
int kc_oaep_unwrap(EVP_PKEY *priv, const uint8_t *c, size_t c_len, uint8_t *m,
		   size_t *m_len);
/*
 * Unwraps a 32-byte session key. On any failure (bad padding, wrong length)
 * k is filled with fresh random bytes and -EBADMSG returned, so a caller
 * that ignores the result ends at the same MAC failure (PROTOCOL.md 1).
 */
int kc_oaep_unwrap_key(EVP_PKEY *priv, const uint8_t c[KC_RSA_LEN],
		       uint8_t k[KC_KEY_LEN]);

/* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32; verify rejects other salts. */
int kc_pss_sign(EVP_PKEY *priv, const uint8_t *m, size_t m_len,
		uint8_t sig[KC_RSA_LEN]);
int kc_pss_verify(EVP_PKEY *pub, const uint8_t *m, size_t m_len,
		  const uint8_t *sig, size_t sig_len);

/* DER SubjectPublicKeyInfo; *der is OPENSSL_malloc'ed (OPENSSL_free it). */
int kc_spki_der(EVP_PKEY *key, uint8_t **der, size_t *der_len);
/* Public key from DER SPKI; -EBADMSG if malformed or followed by bytes. */
int kc_spki_parse(const uint8_t *der, size_t len, EVP_PKEY **out);
/* Lowercase hex SHA-256 of a DER SPKI. */
void kc_spki_fingerprint(const uint8_t *der, size_t len, char hex[65]);
int kc_key_fingerprint(EVP_PKEY *key, char hex[65]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void kc_hex(const uint8_t *p, size_t n, char *out);

#endif
