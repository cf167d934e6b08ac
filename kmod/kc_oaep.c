// SPDX-License-Identifier: GPL-2.0
/*
 * EME-OAEP decoding (RFC 8017 7.1.2, SHA-256, MGF1-SHA-256, empty label)
 * of a wrapped session key, in constant time, and the MAC key derived
 * from K (docs/PROTOCOL.md section 1).
 *
 * A session key is exactly 32 bytes, so a good DB is one fixed pattern:
 *
 *     lHash (32) || 158 zero bytes || 0x01 || K (32)
 *
 * and decoding is checking that pattern. Every byte is looked at, the
 * differences are OR'ed together and the result picks K or the random
 * fallback with a mask: no branch and no early exit depends on the
 * decrypted bytes. Anything else (a longer or shorter message included)
 * is the same failure, as PROTOCOL.md asks.
 */
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/string.h>

#include "kc_internal.h"

#define HLEN SHA256_DIGEST_SIZE
#define DB_LEN (KCOURIER_RSA_LEN - HLEN - 1)
#define PS_LEN (DB_LEN - HLEN - 1 - KC_KEY_LEN)

static const char kc_mac_label[] = "kcourier/1 mac";

/* out ^= MGF1-SHA-256(seed)[0, len): same work whatever the bytes. */
static void kc_mgf1_xor(u8 *out, size_t len, const u8 *seed, size_t seed_len)
{
	struct sha256_state st;
	u8 block[HLEN];
	__be32 be;
	size_t done, n, i;
	u32 counter;

	for (counter = 0, done = 0; done < len; counter++, done += n) {
		be = cpu_to_be32(counter);
		sha256_init(&st);
		sha256_update(&st, seed, seed_len);
		sha256_update(&st, (const u8 *)&be, sizeof(be));
		sha256_final(&st, block);
		n = min_t(size_t, len - done, HLEN);
		for (i = 0; i < n; i++)
			out[done + i] ^= block[i];
	}
	memzero_explicit(block, sizeof(block));
	memzero_explicit(&st, sizeof(st));
}

/* All ones when x is zero, else zero, without a branch. */
static u32 kc_ct_is_zero(u32 x)
{
	return 0u - ((~x & (x - 1)) >> 31);
}

/*
 * k = the 32-byte message of em, or fallback when em is not a good
 * encoding of one; *bad is 1 in the latter case. The caller wipes em.
 */
void kc_oaep_key(const u8 *em, const u8 fallback[KC_KEY_LEN],
		 u8 k[KC_KEY_LEN], u32 *bad)
{
	u8 seed[HLEN], db[DB_LEN], lhash[HLEN];
	u32 diff, good, i;

	memcpy(seed, em + 1, HLEN);
	memcpy(db, em + 1 + HLEN, DB_LEN);
	kc_mgf1_xor(seed, HLEN, db, DB_LEN);
	kc_mgf1_xor(db, DB_LEN, seed, HLEN);
	sha256(NULL, 0, lhash);
	diff = em[0];
	/* memneq's word may differ in high bits only: fold it to 0 or 1. */
	diff |= crypto_memneq(db, lhash, HLEN) != 0;
	for (i = 0; i < PS_LEN; i++)
		diff |= db[HLEN + i];
	diff |= db[HLEN + PS_LEN] ^ 0x01;
	good = kc_ct_is_zero(diff);
	for (i = 0; i < KC_KEY_LEN; i++)
		k[i] = (u8)((good & db[DB_LEN - KC_KEY_LEN + i]) |
			    (~good & fallback[i]));
	*bad = ~good & 1;
	memzero_explicit(seed, sizeof(seed));
	memzero_explicit(db, sizeof(db));
}

/* Km = HMAC-SHA256(K, "kcourier/1 mac" || 0x01): one HKDF-Expand block. */
int kc_derive_km(const u8 k[KC_KEY_LEN], u8 km[KC_KEY_LEN])
{
	static const u8 one = 0x01;
	struct crypto_shash *tfm;
	int ret;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	ret = crypto_shash_setkey(tfm, k, KC_KEY_LEN);
	if (!ret) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		ret = crypto_shash_init(desc);
		if (!ret)
			ret = crypto_shash_update(desc, kc_mac_label,
						  sizeof(kc_mac_label) - 1);
		if (!ret)
			ret = crypto_shash_finup(desc, &one, 1, km);
		shash_desc_zero(desc);
	}
	crypto_free_shash(tfm);
	return ret;
}
