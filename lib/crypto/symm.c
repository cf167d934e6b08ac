// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symmetric primitives of PROTOCOL.md section 1: the system CSPRNG,
 * constant-time comparison, HMAC-SHA256, the Km derivation and AES-CBC with
 * PKCS#7 padding. Contexts are cached per thread (see symm.h).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/symm.h"

#define AES_BLOCK 16

struct kc_symm {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
};

/* Fetched once per process and kept until exit. */
static struct {
	EVP_MAC *hmac;
	EVP_CIPHER *aes_cbc[3]; /* AES-128, -192, -256 */
	pthread_key_t thread_key;
	int err;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static __thread struct kc_symm *this_thread;

static const uint8_t zero_key[KC_KEY_LEN];

void kc_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Nothing sensible can go on without randomness. */
			fprintf(stderr, "kcourier: getrandom: %s\n",
				n < 0 ? strerror(errno) : "no data");
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

bool kc_equal_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void kc_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static void symm_free(void *p)
{
	struct kc_symm *s = p;

	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->cipher);
	EVP_MAC_CTX_free(s->mac);
	free(s);
}

static void algs_fetch(void)
{
	static const char *const names[] = { "AES-128-CBC", "AES-192-CBC",
					     "AES-256-CBC" };
	size_t i;

	algs.hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!algs.hmac)
		algs.err = -EIO;
	for (i = 0; i < 3; i++) {
		algs.aes_cbc[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
		if (!algs.aes_cbc[i])
			algs.err = -EIO;
	}
	/* The destructor frees a thread's contexts when the thread exits. */
	if (pthread_key_create(&algs.thread_key, symm_free))
		algs.err = -EAGAIN;
	ERR_clear_error();
}

static EVP_MAC_CTX *hmac_sha256_ctx_new(void)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest,
						 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(algs.hmac);

	if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

struct kc_symm *kc_symm_get(void)
{
	struct kc_symm *s = this_thread;

	if (s)
		return s;
	if (pthread_once(&algs_once, algs_fetch) || algs.err)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cipher = EVP_CIPHER_CTX_new();
	s->mac = hmac_sha256_ctx_new();
	if (!s->cipher || !s->mac || pthread_setspecific(algs.thread_key, s)) {
		symm_free(s);
		ERR_clear_error();
		return NULL;
	}
	this_thread = s;
	return s;
}

void kc_symm_scrub(struct kc_symm *s)
{
	/* Re-keying replaces the schedule, pads and OpenSSL's key copy. */
	EVP_MAC_init(s->mac, zero_key, sizeof(zero_key), NULL);
	EVP_EncryptInit_ex2(s->cipher, algs.aes_cbc[2], zero_key, zero_key,
			    NULL);
	ERR_clear_error();
}

int kc_symm_hmac(struct kc_symm *s, const uint8_t *key, size_t key_len,
		 const struct kc_iov *iov, size_t n, uint8_t out[KC_MAC_LEN])
{
	size_t i, out_len = 0;

	/* A NULL key would mean "keep the previous key" to OpenSSL. */
	if (!EVP_MAC_init(s->mac, key ? key : zero_key, key_len, NULL))
		goto fail;
	for (i = 0; i < n; i++) {
		if (iov[i].len && !EVP_MAC_update(s->mac, iov[i].p, iov[i].len))
			goto fail;
	}
	if (!EVP_MAC_final(s->mac, out, &out_len, KC_MAC_LEN) ||
	    out_len != KC_MAC_LEN)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -EIO;
}

static const EVP_CIPHER *aes_cbc(size_t key_len)
{
	switch (key_len) {
	case 16:
		return algs.aes_cbc[0];
	case 24:
		return algs.aes_cbc[1];
	case 32:
		return algs.aes_cbc[2];
	default:
		return NULL;
	}
}

int kc_symm_cbc_encrypt(struct kc_symm *s, const uint8_t *key, size_t key_len,
			const uint8_t iv[KC_IV_LEN], const uint8_t *pt,
			size_t len, uint8_t *ct, size_t *ct_len)
{
	const EVP_CIPHER *cipher = aes_cbc(key_len);
	int n = 0, fin = 0;

	if (!cipher || len > INT_MAX - AES_BLOCK)
		return -EINVAL;
	if (!EVP_EncryptInit_ex2(s->cipher, cipher, key, iv, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(s->cipher, 1))
		goto fail;
	if (len && !EVP_EncryptUpdate(s->cipher, ct, &n, pt, (int)len))
		goto fail;
	if (!EVP_EncryptFinal_ex(s->cipher, ct + n, &fin))
		goto fail;
	*ct_len = (size_t)n + (size_t)fin;
	return 0;
fail:
	ERR_clear_error();
	return -EIO;
}

size_t kc_pkcs7_pad_len(const uint8_t *pt, size_t len)
{
	const uint8_t *last = pt + len - AES_BLOCK;
	unsigned int n = last[AES_BLOCK - 1];
	unsigned int bad, j;

	bad = ((n - 1) >> 31) | ((AES_BLOCK - n) >> 31); /* n == 0, n > 16 */
	for (j = 1; j <= AES_BLOCK; j++) {
		unsigned int in_pad = (j - n - 1) >> 31; /* j <= n */
		unsigned int diff = last[AES_BLOCK - j] ^ n;

		bad |= in_pad & ((diff + 0xff) >> 8);
	}
	return n & (bad - 1);
}

int kc_symm_cbc_decrypt(struct kc_symm *s, const uint8_t *key, size_t key_len,
			const uint8_t iv[KC_IV_LEN], const uint8_t *ct,
			size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	const EVP_CIPHER *cipher = aes_cbc(key_len);
	int n = 0, fin = 0;
	size_t pad;

	if (!cipher)
		return -EINVAL;
	if (ct_len == 0 || ct_len % AES_BLOCK || ct_len > INT_MAX)
		return -EBADMSG;
	/* Padding is checked here, in constant time, not by OpenSSL. */
	if (!EVP_DecryptInit_ex2(s->cipher, cipher, key, iv, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(s->cipher, 0) ||
	    !EVP_DecryptUpdate(s->cipher, pt, &n, ct, (int)ct_len) ||
	    !EVP_DecryptFinal_ex(s->cipher, pt + n, &fin) ||
	    (size_t)n + (size_t)fin != ct_len) {
		ERR_clear_error();
		explicit_bzero(pt, ct_len);
		return -EIO;
	}
	pad = kc_pkcs7_pad_len(pt, ct_len);
	if (!pad) {
		explicit_bzero(pt, ct_len);
		return -EBADMSG;
	}
	explicit_bzero(pt + ct_len - pad, pad);
	*pt_len = ct_len - pad;
	return 0;
}

int kc_hmac_sha256(const uint8_t *key, size_t key_len, const struct kc_iov *iov,
		   size_t n, uint8_t out[KC_MAC_LEN])
{
	struct kc_symm *s = kc_symm_get();
	int ret;

	if (!s)
		return -ENOMEM;
	ret = kc_symm_hmac(s, key, key_len, iov, n, out);
	kc_symm_scrub(s);
	return ret;
}

int kc_derive_km(const uint8_t k[KC_KEY_LEN], uint8_t km[KC_KEY_LEN])
{
	/* HKDF-Expand (RFC 5869 2.3) with PRK = K, info = label, one block. */
	static const uint8_t counter = 0x01;
	const struct kc_iov info[] = {
		{ KC_LABEL_MAC_KEY, sizeof(KC_LABEL_MAC_KEY) - 1 },
		{ &counter, 1 },
	};

	return kc_hmac_sha256(k, KC_KEY_LEN, info, 2, km);
}

int kc_cbc_encrypt(const uint8_t *key, size_t key_len,
		   const uint8_t iv[KC_IV_LEN], const uint8_t *pt, size_t len,
		   uint8_t *ct, size_t *ct_len)
{
	struct kc_symm *s = kc_symm_get();
	int ret;

	if (!s)
		return -ENOMEM;
	ret = kc_symm_cbc_encrypt(s, key, key_len, iv, pt, len, ct, ct_len);
	kc_symm_scrub(s);
	return ret;
}

int kc_cbc_decrypt(const uint8_t *key, size_t key_len,
		   const uint8_t iv[KC_IV_LEN], const uint8_t *ct,
		   size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	struct kc_symm *s = kc_symm_get();
	int ret;

	if (!s)
		return -ENOMEM;
	ret = kc_symm_cbc_decrypt(s, key, key_len, iv, ct, ct_len, pt, pt_len);
	kc_symm_scrub(s);
	return ret;
}
