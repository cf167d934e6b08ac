// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSA of PROTOCOL.md section 1 on OpenSSL 3: key generation and policy
 * (2048 bits, e = 65537), RSAES-OAEP and RSASSA-PSS (RFC 8017 7.1 and 8.1,
 * SHA-256 and MGF1-SHA-256 throughout), and SubjectPublicKeyInfo helpers.
 *
 * The operations themselves accept any RSA key with a 2048-bit modulus
 * (so the Wycheproof suite can run); the exponent policy is kc_rsa_check's,
 * applied by whoever accepts a key from outside.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

#define RSA_BITS 2048
#define RSA_EXPONENT 65537 /* F4 */
#define PSS_SALT_LEN 32	   /* = hash length, RFC 8017 9.1 note 4 */

/* An RSA (not RSA-PSS-restricted) key with a 2048-bit modulus. */
static int rsa2048(EVP_PKEY *key)
{
	if (!key || !EVP_PKEY_is_a(key, "RSA") ||
	    EVP_PKEY_get_bits(key) != RSA_BITS)
		return -EINVAL;
	return 0;
}

int kc_rsa_check(EVP_PKEY *key)
{
	BIGNUM *e = NULL;
	int ret = rsa2048(key);

	if (ret)
		return ret;
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
		ERR_clear_error();
		return -EINVAL;
	}
	if (!BN_is_word(e, RSA_EXPONENT))
		ret = -EINVAL;
	BN_free(e);
	return ret;
}

int kc_rsa_generate(EVP_PKEY **out)
{
	size_t bits = RSA_BITS;
	unsigned int e = RSA_EXPONENT;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits),
		OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	int ret = -EIO;

	*out = NULL;
	if (!ctx)
		goto cleanup;
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
	    !EVP_PKEY_CTX_set_params(ctx, params) ||
	    EVP_PKEY_generate(ctx, out) <= 0)
		goto cleanup;
	ret = 0;
cleanup:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/* A context for OAEP with SHA-256, MGF1-SHA-256 and the empty label. */
static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *key, bool encrypt)
{
	char pad[] = OSSL_PKEY_RSA_PAD_MODE_OAEP, md[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(
			OSSL_ASYM_CIPHER_PARAM_PAD_MODE, pad, 0),
		OSSL_PARAM_construct_utf8_string(
			OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, md, 0),
		OSSL_PARAM_construct_utf8_string(
			OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, md, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int ok;

	if (!ctx)
		return NULL;
	ok = encrypt ? EVP_PKEY_encrypt_init_ex(ctx, params)
		     : EVP_PKEY_decrypt_init_ex(ctx, params);
	if (ok <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int kc_oaep_wrap(EVP_PKEY *pub, const uint8_t *m, size_t m_len,
		 uint8_t out[KC_RSA_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t out_len = KC_RSA_LEN;
	int ret = rsa2048(pub);

	if (ret)
		return ret;
	ret = -EIO;
	ctx = oaep_ctx(pub, true);
	if (!ctx)
		goto cleanup;
	if (EVP_PKEY_encrypt(ctx, out, &out_len, m, m_len) <= 0) {
		/* Too long for OAEP with SHA-256: at most 190 bytes. */
		ret = -EINVAL;
		goto cleanup;
	}
	ret = out_len == KC_RSA_LEN ? 0 : -EIO;
cleanup:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/* Gives ctx a copy of label (OpenSSL takes ownership of the copy). */
static int oaep_set_label(EVP_PKEY_CTX *ctx, const uint8_t *label,
			  size_t label_len)
{
	unsigned char *copy;

	if (!label_len)
		return 0;
	copy = OPENSSL_memdup(label, label_len);
	if (!copy)
		return -ENOMEM;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, (int)label_len) <= 0) {
		OPENSSL_free(copy);
		return -EIO;
	}
	return 0;
}

int kc_oaep_unwrap_label(EVP_PKEY *priv, const uint8_t *label,
			 size_t label_len, const uint8_t *c, size_t c_len,
			 uint8_t *m, size_t *m_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t out_len = KC_RSA_LEN;
	int ret = rsa2048(priv);

	if (ret)
		return ret;
	/* RFC 8017 7.1.2 step 1: the ciphertext is exactly k bytes. */
	if (c_len != KC_RSA_LEN)
		return -EBADMSG;
	ret = -EIO;
	ctx = oaep_ctx(priv, false);
	if (!ctx)
		goto cleanup;
	ret = oaep_set_label(ctx, label, label_len);
	if (ret)
		goto cleanup;
	/* OpenSSL's OAEP decoding does not branch on the padding it checks. */
	if (EVP_PKEY_decrypt(ctx, m, &out_len, c, c_len) <= 0) {
		ret = -EBADMSG;
		goto cleanup;
	}
	*m_len = out_len;
	ret = 0;
cleanup:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

int kc_oaep_unwrap(EVP_PKEY *priv, const uint8_t *c, size_t c_len, uint8_t *m,
		   size_t *m_len)
{
	return kc_oaep_unwrap_label(priv, NULL, 0, c, c_len, m, m_len);
}

int kc_oaep_unwrap_key(EVP_PKEY *priv, const uint8_t c[KC_RSA_LEN],
		       uint8_t k[KC_KEY_LEN])
{
	uint8_t m[KC_RSA_LEN] = { 0 }, fallback[KC_KEY_LEN];
	size_t m_len = 0, i;
	unsigned int good;
	uint8_t mask;
	int ret;

	/*
	 * Manger's attack needs to tell failures apart: every path draws the
	 * fallback key and does the same selection below, whatever failed.
	 */
	kc_random(fallback, sizeof(fallback));
	ret = kc_oaep_unwrap(priv, c, KC_RSA_LEN, m, &m_len);
	good = (ret == 0) & (m_len == KC_KEY_LEN);
	mask = (uint8_t)(0u - good);
	for (i = 0; i < KC_KEY_LEN; i++)
		k[i] = (uint8_t)((m[i] & mask) | (fallback[i] & ~mask));
	explicit_bzero(m, sizeof(m));
	explicit_bzero(fallback, sizeof(fallback));
	if (ret == -EINVAL)
		return ret;
	return good ? 0 : -EBADMSG;
}

/* Sign or verify context: SHA-256, PSS, MGF1-SHA-256, salt exactly 32. */
static EVP_MD_CTX *pss_ctx(EVP_PKEY *key, bool sign)
{
	char pad[] = OSSL_PKEY_RSA_PAD_MODE_PSS, md[] = "SHA256";
	int salt_len = PSS_SALT_LEN;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
						 pad, 0),
		OSSL_PARAM_construct_utf8_string(
			OSSL_SIGNATURE_PARAM_MGF1_DIGEST, md, 0),
		OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
					 &salt_len),
		OSSL_PARAM_construct_end(),
	};
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return NULL;
	ok = sign ? EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key,
					  params)
		  : EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, key,
					    params);
	if (ok <= 0) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int kc_pss_sign(EVP_PKEY *priv, const uint8_t *m, size_t m_len,
		uint8_t sig[KC_RSA_LEN])
{
	EVP_MD_CTX *ctx;
	size_t sig_len = KC_RSA_LEN;
	int ret = rsa2048(priv);

	if (ret)
		return ret;
	ret = -EIO;
	ctx = pss_ctx(priv, true);
	if (ctx && EVP_DigestSign(ctx, sig, &sig_len, m, m_len) > 0 &&
	    sig_len == KC_RSA_LEN)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

int kc_pss_verify(EVP_PKEY *pub, const uint8_t *m, size_t m_len,
		  const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	int ret = rsa2048(pub);

	if (ret)
		return ret;
	/* RFC 8017 8.1.2 step 1: the signature is exactly k bytes. */
	if (sig_len != KC_RSA_LEN)
		return -EBADMSG;
	ctx = pss_ctx(pub, false);
	if (!ctx) {
		ret = -EIO;
		goto cleanup;
	}
	/* With a fixed salt length OpenSSL rejects any other (EMSA-PSS). */
	if (EVP_DigestVerify(ctx, sig, sig_len, m, m_len) != 1)
		ret = -EBADMSG;
cleanup:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

int kc_spki_der(EVP_PKEY *key, uint8_t **der, size_t *der_len)
{
	int len;

	*der = NULL;
	len = i2d_PUBKEY(key, der);
	if (len <= 0) {
		ERR_clear_error();
		return key ? -EIO : -EINVAL;
	}
	*der_len = (size_t)len;
	return 0;
}

int kc_spki_parse(const uint8_t *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *key;

	*out = NULL;
	if (len > LONG_MAX)
		return -EINVAL;
	key = d2i_PUBKEY(NULL, &p, (long)len);
	ERR_clear_error();
	if (!key)
		return -EBADMSG;
	/* DER is exact: trailing bytes mean this was not one SPKI. */
	if (p != der + len) {
		EVP_PKEY_free(key);
		return -EBADMSG;
	}
	*out = key;
	return 0;
}

void kc_spki_fingerprint(const uint8_t *der, size_t len, char hex[65])
{
	uint8_t md[32];
	unsigned int md_len = 0;

	if (!EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != sizeof(md)) {
		/* Unreachable with the default provider; never a valid pin. */
		ERR_clear_error();
		hex[0] = '\0';
		return;
	}
	kc_hex(md, sizeof(md), hex);
}

int kc_key_fingerprint(EVP_PKEY *key, char hex[65])
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret = kc_spki_der(key, &der, &len);

	if (ret)
		return ret;
	kc_spki_fingerprint(der, len, hex);
	OPENSSL_free(der);
	return hex[0] ? 0 : -EIO;
}

int kc_rsa_parse_pkcs8(const uint8_t *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *key;

	*out = NULL;
	if (len > LONG_MAX)
		return -EINVAL;
	key = d2i_AutoPrivateKey(NULL, &p, (long)len);
	ERR_clear_error();
	if (!key || p != der + len || kc_rsa_check(key)) {
		EVP_PKEY_free(key);
		return -EINVAL;
	}
	*out = key;
	return 0;
}
