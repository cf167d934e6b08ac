// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constant-time EME-OAEP decoding: see oaep_decode.h for why.
 *
 * Masks are uint32_t, all ones for "true" and zero for "false". The value
 * barrier keeps the compiler from turning a mask back into a branch. Only
 * lengths and indexes that are public (the sizes of EM, DB and the
 * message area) decide loop bounds.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/oaep_decode.h"

#define HLEN KC_OAEP_HASH_LEN
/* EM = Y (1) || maskedSeed (hLen) || maskedDB (k - hLen - 1). */
#define DB_LEN (KC_RSA_LEN - HLEN - 1)
/* DB = lHash' (hLen) || PS || 0x01 || M: M and PS share the rest. */
#define TAIL_LEN (DB_LEN - HLEN - 1)

_Static_assert(TAIL_LEN == KC_OAEP_MSG_MAX, "message area is the DB tail");

static inline uint32_t value_barrier(uint32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

static inline uint32_t ct_is_zero(uint32_t x)
{
	/* The top bit of ~x & (x - 1) is set exactly when x == 0. */
	return value_barrier(0u - ((~x & (x - 1)) >> 31));
}

static inline uint32_t ct_eq(uint32_t a, uint32_t b)
{
	return ct_is_zero(a ^ b);
}

/* a < b, for a and b below 2^31. */
static inline uint32_t ct_lt(uint32_t a, uint32_t b)
{
	return value_barrier(0u - ((a - b) >> 31));
}

static inline uint32_t ct_select(uint32_t mask, uint32_t a, uint32_t b)
{
	return (mask & a) | (~mask & b);
}

/* OpenSSL's 1 becomes all ones: a library failure folds into the mask. */
static inline uint32_t ok_mask(int ok)
{
	return ct_is_zero((uint32_t)!ok);
}

/* -EBADMSG unless good, without a branch on good. */
static inline int mask_to_ret(uint32_t good)
{
	return (int)(~good & (uint32_t)-EBADMSG);
}

/*
 * out ^= MGF1-SHA-256(seed, len) (RFC 8017 B.2.1). SHA-256 does the same
 * work whatever the bytes, so hashing secret seeds is fine.
 */
static uint32_t mgf1_xor(uint8_t *out, size_t len, const uint8_t *seed,
			 size_t seed_len)
{
	uint8_t in[DB_LEN + 4], block[HLEN];
	uint32_t ok = ~0u, counter;
	size_t done, n, i;

	memcpy(in, seed, seed_len);
	for (counter = 0, done = 0; done < len; counter++, done += n) {
		in[seed_len] = (uint8_t)(counter >> 24);
		in[seed_len + 1] = (uint8_t)(counter >> 16);
		in[seed_len + 2] = (uint8_t)(counter >> 8);
		in[seed_len + 3] = (uint8_t)counter;
		ok &= ok_mask(EVP_Digest(in, seed_len + 4, block, NULL,
					 EVP_sha256(), NULL));
		n = len - done < HLEN ? len - done : HLEN;
		for (i = 0; i < n; i++)
			out[done + i] ^= block[i];
	}
	explicit_bzero(in, sizeof(in));
	explicit_bzero(block, sizeof(block));
	return ok;
}

/*
 * RFC 8017 7.1.2 step 3g on DB's tail (after lHash'): PS is zeros up to
 * the first 0x01. Every byte is looked at; *sep becomes the index of that
 * 0x01 within the tail (0 if there is none, which the mask then rejects).
 */
static uint32_t find_separator(const uint8_t tail[TAIL_LEN + 1], uint32_t *sep)
{
	uint32_t looking = ~0u, good = ~0u, idx = 0, i;

	for (i = 0; i < TAIL_LEN + 1; i++) {
		uint32_t one = ct_eq(tail[i], 1), zero = ct_is_zero(tail[i]);

		idx = ct_select(looking & one, i, idx);
		/* A byte other than 0 before the 0x01 breaks PS. */
		good &= ~(looking & ~one & ~zero);
		looking &= ~one;
	}
	*sep = idx;
	return good & ~looking;
}

/*
 * Moves buf left by shift bytes (zeros come in at the end) in log2 steps
 * over the whole buffer, so the memory touched does not depend on shift.
 */
static void shift_left_ct(uint8_t *buf, size_t len, uint32_t shift)
{
	size_t step, i;
	unsigned int bit;

	for (bit = 0, step = 1; step < len; bit++, step <<= 1) {
		uint32_t mask = 0u - ((shift >> bit) & 1);

		for (i = 0; i < len; i++) {
			uint8_t next = i + step < len ? buf[i + step] : 0;

			buf[i] = (uint8_t)ct_select(mask, next, buf[i]);
		}
	}
}

/* Steps 3a-3g. Returns the good mask; m and *m_len are zero unless good. */
static uint32_t decode_ct(const uint8_t em[KC_RSA_LEN],
			  const uint8_t lhash[HLEN], uint8_t m[TAIL_LEN],
			  uint32_t *m_len)
{
	uint8_t seed[HLEN], db[DB_LEN];
	uint32_t good, sep, len, i;

	memcpy(seed, em + 1, HLEN);
	memcpy(db, em + 1 + HLEN, DB_LEN);
	good = ct_is_zero(em[0]);
	good &= mgf1_xor(seed, HLEN, db, DB_LEN);
	good &= mgf1_xor(db, DB_LEN, seed, HLEN);
	good &= ct_is_zero((uint32_t)CRYPTO_memcmp(db, lhash, HLEN));
	good &= find_separator(db + HLEN, &sep);
	/* M starts right after the 0x01, sep + 1 bytes into the tail. */
	len = good & (TAIL_LEN - sep);
	shift_left_ct(db + HLEN + 1, TAIL_LEN, good & sep);
	for (i = 0; i < TAIL_LEN; i++)
		m[i] = (uint8_t)(db[HLEN + 1 + i] & ct_lt(i, len));
	*m_len = len;
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(db, sizeof(db));
	return good;
}

static uint32_t label_hash(const uint8_t *label, size_t label_len,
			   uint8_t lhash[HLEN])
{
	static const uint8_t empty[1];

	return ok_mask(EVP_Digest(label_len ? label : empty, label_len, lhash,
				  NULL, EVP_sha256(), NULL));
}

int kc_oaep_decode(const uint8_t em[KC_RSA_LEN], const uint8_t *label,
		   size_t label_len, uint8_t m[KC_OAEP_MSG_MAX], size_t *m_len)
{
	uint8_t lhash[HLEN];
	uint32_t good, len;

	good = label_hash(label, label_len, lhash);
	good &= decode_ct(em, lhash, m, &len);
	*m_len = good & len;
	return mask_to_ret(good);
}

int kc_oaep_decode_key(const uint8_t em[KC_RSA_LEN],
		       const uint8_t fallback[KC_KEY_LEN],
		       uint8_t k[KC_KEY_LEN])
{
	uint8_t lhash[HLEN], m[KC_OAEP_MSG_MAX];
	uint32_t good, len;
	size_t i;

	good = label_hash(NULL, 0, lhash);
	good &= decode_ct(em, lhash, m, &len);
	/* PROTOCOL.md section 1: anything but exactly 32 bytes fails too. */
	good &= ct_eq(len, KC_KEY_LEN);
	for (i = 0; i < KC_KEY_LEN; i++)
		k[i] = (uint8_t)ct_select(good, m[i], fallback[i]);
	explicit_bzero(m, sizeof(m));
	return mask_to_ret(good);
}
