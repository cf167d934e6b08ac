// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSA blinding around a private operation OpenSSL does not do: see
 * rsa_blind.h.
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "crypto/rsa_blind.h"

int kc_rsa_modulus(EVP_PKEY *key, uint8_t n[KC_RSA_LEN])
{
	BIGNUM *bn = NULL;
	int ret = -EINVAL;

	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn))
		return -EINVAL;
	if (BN_num_bytes(bn) == KC_RSA_LEN &&
	    BN_bn2binpad(bn, n, KC_RSA_LEN) == KC_RSA_LEN)
		ret = 0;
	BN_free(bn);
	return ret;
}

/* The kernel's range rule (rsa_enc/rsa_dec: 1 < c < n - 1), checked here. */
static bool in_range(const BIGNUM *c, const BIGNUM *n, BN_CTX *bn)
{
	BIGNUM *top = BN_CTX_get(bn);

	if (!top || !BN_copy(top, n) || !BN_sub_word(top, 1))
		return false;
	return BN_cmp(c, BN_value_one()) > 0 && BN_cmp(c, top) < 0;
}

/* c is blinded in place; the private operation runs on the blinded value. */
static int raw_blinded(BN_BLINDING *b, kc_rsa_raw_fn raw, void *ctx, BIGNUM *c,
		       BN_CTX *bn, uint8_t em[KC_RSA_LEN])
{
	uint8_t blinded[KC_RSA_LEN];
	int ret;

	if (!BN_BLINDING_convert_ex(c, NULL, b, bn) ||
	    BN_bn2binpad(c, blinded, KC_RSA_LEN) != KC_RSA_LEN)
		return -EIO;
	ret = raw(ctx, blinded, em);
	explicit_bzero(blinded, sizeof(blinded));
	if (ret)
		return ret;
	/* m' * r^-1 mod n: OpenSSL's own RSA unblinds with the same call. */
	if (!BN_bin2bn(em, KC_RSA_LEN, c) ||
	    !BN_BLINDING_invert_ex(c, NULL, b, bn) ||
	    BN_bn2binpad(c, em, KC_RSA_LEN) != KC_RSA_LEN)
		return -EIO;
	return 0;
}

static int blind_with(BN_CTX *bn, BIGNUM *n, kc_rsa_raw_fn raw, void *ctx,
		      const uint8_t c_bytes[KC_RSA_LEN], uint8_t em[KC_RSA_LEN])
{
	BIGNUM *c = BN_CTX_get(bn), *e = BN_CTX_get(bn);
	BN_BLINDING *b;
	int ret;

	if (!e || !BN_set_word(e, KC_RSA_E) ||
	    !BN_bin2bn(c_bytes, KC_RSA_LEN, c))
		return -ENOMEM;
	if (!in_range(c, n, bn))
		return -EINVAL;
	/* A new BN_BLINDING per call: r is fresh, never updated from the last.
	 */
	b = BN_BLINDING_create_param(NULL, e, n, bn, NULL, NULL);
	if (!b)
		return -EIO;
	ret = raw_blinded(b, raw, ctx, c, bn, em);
	BN_BLINDING_free(b); /* clears r^e and r^-1 */
	BN_clear(c);
	return ret;
}

int kc_rsa_blind_raw(const uint8_t n_bytes[KC_RSA_LEN], kc_rsa_raw_fn raw,
		     void *ctx, const uint8_t c[KC_RSA_LEN],
		     uint8_t em[KC_RSA_LEN])
{
	BN_CTX *bn = BN_CTX_secure_new();
	BIGNUM *n;
	int ret = -ENOMEM;

	if (bn) {
		BN_CTX_start(bn);
		n = BN_CTX_get(bn);
		if (n && BN_bin2bn(n_bytes, KC_RSA_LEN, n)) {
			/* BN_BLINDING keeps it and inverts r in constant time.
			 */
			BN_set_flags(n, BN_FLG_CONSTTIME);
			ret = blind_with(bn, n, raw, ctx, c, em);
		}
		BN_CTX_end(bn);
	}
	BN_CTX_free(bn);
	if (ret)
		explicit_bzero(em, KC_RSA_LEN);
	return ret;
}
