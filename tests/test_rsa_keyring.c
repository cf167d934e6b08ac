// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSA unwrap through the kernel keyring (rsa_keyring.h) and the
 * constant-time OAEP decoding it relies on (oaep_decode.h).
 *
 * decode.*: the decoder alone, so it runs anywhere. The Wycheproof
 *   RSA-OAEP-2048 SHA-256/MGF1-SHA-256 vectors (all of them, the
 *   InvalidOaepPadding group included) go through OpenSSL's bare RSA
 *   (RSA_NO_PADDING) with the vectors' key and then the decoder: every
 *   valid vector gives its message, every invalid one the single error.
 *   A test-side encoder then checks each rule on its own, every message
 *   length and every flipped byte.
 * decode.blinded_*: the blinding of rsa_blind.h around OpenSSL's bare
 *   RSA gives the unblinded bytes on every vector, r fresh per call.
 * kernel.*: the same vectors through add_key("asymmetric"), keyctl
 *   pkey_decrypt enc=raw (blinded, as the agent calls it) and the decoder;
 *   kernel.blinded_equals_unblinded: both kernel paths, same plaintexts. They SKIP (naming the errno)
 *   where the kernel cannot take a PKCS#8 key; in the VM lab, where
 *   pkcs8_key_parser is loaded, a failure to load is a failure.
 * tier.*: the user tier given a keyring before its unwrap key hands the
 *   key to the kernel and unwraps there; without one it stays on OpenSSL.
 * agent.<tier>.*: a real kcourierd on that tier (`run --crypto`): its log
 *   says which path it took, the kcourier keyring shows one asymmetric key
 *   per worker while it runs and none after a clean stop, and OPEN_SESSION
 *   then SEND work end to end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"

#include "lib/hex.h"
#include "lib/kernel_keys.h"
#include "lib/vectors.h"
#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "crypto/keyring.h"
#include "crypto/oaep_decode.h"
#include "crypto/rsa_blind.h"
#include "crypto/rsa_keyring.h"

#define VECTOR_FILE "rsa_oaep_2048_sha256_mgf1sha256_test.json"
#define DB_LEN (KC_RSA_LEN - KC_OAEP_HASH_LEN - 1)

/* ---- Wycheproof vectors ---- */

struct vec {
	int id;
	bool valid;
	bool padding_flag; /* in the InvalidOaepPadding group */
	uint8_t *ct, *msg, *label;
	size_t ct_len, msg_len, label_len;
};

struct vecs {
	struct vec *v;
	size_t n;
	long expected; /* numberOfTests */
	uint8_t *pkcs8;
	size_t pkcs8_len;
	EVP_PKEY *key;
};

static bool has_flag(json_t *test, const char *flag)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(test, "flags"), i, f)
		if (!strcmp(json_string_value(f) ?: "", flag))
			return true;
	return false;
}

static int vec_parse(json_t *test, struct vec *v)
{
	const char *result = json_string_value(json_object_get(test, "result"));

	v->id = (int)json_integer_value(json_object_get(test, "tcId"));
	v->valid = result && !strcmp(result, "valid");
	v->padding_flag = has_flag(test, "InvalidOaepPadding");
	v->ct = test_json_hex(test, "ct", &v->ct_len);
	v->msg = test_json_hex(test, "msg", &v->msg_len);
	v->label = test_json_hex(test, "label", &v->label_len);
	/* No "acceptable" vectors in this file: anything else is a bug. */
	if (!result || (!v->valid && strcmp(result, "invalid")))
		return -EINVAL;
	return v->ct && v->msg && v->label ? 0 : -EINVAL;
}

static int vecs_group(json_t *group, struct vecs *vs)
{
	json_t *tests = json_object_get(group, "tests"), *test;
	const unsigned char *p;
	size_t i;

	free(vs->pkcs8);
	EVP_PKEY_free(vs->key);
	vs->pkcs8 = test_json_hex(group, "privateKeyPkcs8", &vs->pkcs8_len);
	if (!vs->pkcs8)
		return -EINVAL;
	p = vs->pkcs8;
	vs->key = d2i_AutoPrivateKey(NULL, &p, (long)vs->pkcs8_len);
	if (!vs->key)
		return -EINVAL;
	json_array_foreach(tests, i, test) {
		struct vec *v = realloc(vs->v, (vs->n + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vs->v = v;
		memset(&v[vs->n], 0, sizeof(*v));
		if (vec_parse(test, &v[vs->n++]))
			return -EINVAL;
	}
	return 0;
}

/* All vectors of the file. */
static int vecs_load(struct vecs *vs)
{
	json_t *root, *group;
	char why[900];
	int ret = 0;
	size_t i;

	memset(vs, 0, sizeof(*vs));
	root = wycheproof_load(VECTOR_FILE, why, sizeof(why));
	if (!root) {
		fprintf(stderr, "# %s\n", why);
		return -EIO;
	}
	vs->expected = (long)json_integer_value(
		json_object_get(root, "numberOfTests"));
	json_array_foreach(json_object_get(root, "testGroups"), i, group)
		if (!ret)
			ret = vecs_group(group, vs);
	json_decref(root);
	return ret;
}

static void vecs_free(struct vecs *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].ct);
		free(vs->v[i].msg);
		free(vs->v[i].label);
	}
	free(vs->v);
	OPENSSL_clear_free(vs->pkcs8, vs->pkcs8_len);
	EVP_PKEY_free(vs->key);
	memset(vs, 0, sizeof(*vs));
}

/* ---- OpenSSL's bare RSA, and a test-side EME-OAEP encoder ---- */

static int openssl_raw(EVP_PKEY *key, bool decrypt, const uint8_t *in,
		       size_t in_len, uint8_t out[KC_RSA_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t out_len = KC_RSA_LEN;
	bool ok;

	ok = ctx && in_len == KC_RSA_LEN &&
	     (decrypt ? EVP_PKEY_decrypt_init(ctx)
		      : EVP_PKEY_encrypt_init(ctx)) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
	     (decrypt ? EVP_PKEY_decrypt(ctx, out, &out_len, in, in_len)
		      : EVP_PKEY_encrypt(ctx, out, &out_len, in, in_len)) > 0 &&
	     out_len == KC_RSA_LEN;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -EBADMSG;
}

static void sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, p, len);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

/* RFC 8017 B.2.1, written independently of lib/oaep_decode.c. */
static void mgf1_xor(uint8_t *out, size_t len, const uint8_t *seed,
		     size_t seed_len)
{
	uint8_t block[32], buf[DB_LEN + 4];

	memcpy(buf, seed, seed_len);
	for (uint32_t c = 0; (size_t)c * 32 < len; c++) {
		buf[seed_len] = (uint8_t)(c >> 24);
		buf[seed_len + 1] = (uint8_t)(c >> 16);
		buf[seed_len + 2] = (uint8_t)(c >> 8);
		buf[seed_len + 3] = (uint8_t)c;
		sha256(buf, seed_len + 4, block);
		for (size_t i = 0; i < 32 && c * 32 + i < len; i++)
			out[c * 32 + i] ^= block[i];
	}
}

/* What the encoder breaks: one rule of RFC 8017 7.1.2 step 3g at a time. */
struct em_fault {
	const char *what;
	uint8_t y;	    /* the first byte of EM (0 is right) */
	int lhash_flip;	    /* index of an lHash byte flipped, or -1 */
	uint8_t separator;  /* the byte ending PS (1 is right) */
	int ps_poison;	    /* index into PS set to 0x80, or -1 */
};

static const struct em_fault no_fault = { "none", 0, -1, 1, -1 };

/* EME-OAEP encoding (RFC 8017 7.1.1 step 2) with a random seed. */
static void oaep_encode(const uint8_t *msg, size_t len, const uint8_t *label,
			size_t label_len, const struct em_fault *f,
			uint8_t em[KC_RSA_LEN])
{
	uint8_t db[DB_LEN] = { 0 }, seed[32];
	size_t sep = DB_LEN - len - 1;

	sha256(label, label_len, db);
	if (f->lhash_flip >= 0)
		db[f->lhash_flip] ^= 0x01;
	if (f->ps_poison >= 0)
		db[32 + f->ps_poison] = 0x80;
	db[sep] = f->separator;
	memcpy(db + sep + 1, msg, len);
	kc_random(seed, sizeof(seed));
	mgf1_xor(db, DB_LEN, seed, sizeof(seed));
	mgf1_xor(seed, sizeof(seed), db, DB_LEN);
	em[0] = f->y;
	memcpy(em + 1, seed, sizeof(seed));
	memcpy(em + 1 + sizeof(seed), db, DB_LEN);
}

/* Unencrypted PKCS#8 DER of key, OPENSSL_malloc'ed; its length or -1. */
static int pkcs8_of(EVP_PKEY *key, uint8_t **der)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, der) : -1;

	PKCS8_PRIV_KEY_INFO_free(p8);
	return len;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* The single failure: -EBADMSG, nothing in m, no length. */
static bool decode_fails(const uint8_t em[KC_RSA_LEN], const uint8_t *label,
			 size_t label_len)
{
	uint8_t m[KC_OAEP_MSG_MAX];
	size_t m_len = 99;

	memset(m, 0xee, sizeof(m));
	return kc_oaep_decode(em, label, label_len, m, &m_len) == -EBADMSG &&
	       m_len == 0 && all_zero(m, sizeof(m));
}

static bool decode_gives(const uint8_t em[KC_RSA_LEN], const uint8_t *label,
			 size_t label_len, const uint8_t *msg, size_t len)
{
	uint8_t m[KC_OAEP_MSG_MAX];
	size_t m_len = 0;

	memset(m, 0xee, sizeof(m));
	return kc_oaep_decode(em, label, label_len, m, &m_len) == 0 &&
	       m_len == len && !memcmp(m, msg, len) &&
	       all_zero(m + len, sizeof(m) - len);
}

/* decode_key: K for the message, or exactly the fallback with -EBADMSG. */
static bool key_gives(const uint8_t em[KC_RSA_LEN], const uint8_t *want)
{
	uint8_t fallback[KC_KEY_LEN], k[KC_KEY_LEN];
	int ret;

	kc_random(fallback, sizeof(fallback));
	ret = kc_oaep_decode_key(em, fallback, k);
	if (want)
		return ret == 0 && !memcmp(k, want, KC_KEY_LEN);
	return ret == -EBADMSG && !memcmp(k, fallback, KC_KEY_LEN);
}

/* ---- decode: the decoder on its own ---- */

FIXTURE(decode)
{
	struct vecs vs;
};

FIXTURE_SETUP(decode)
{
	int ret = vecs_load(&self->vs);

	ASSERT_EQ(0, ret);
	ASSERT_EQ(self->vs.expected, (long)self->vs.n);
}

FIXTURE_TEARDOWN(decode)
{
	vecs_free(&self->vs);
}

struct tally {
	int valid, invalid, padding, before_decode, labelled, keys;
};

/* One vector through OpenSSL's bare RSA and the decoder. */
static bool decode_vector(struct __test_metadata *_metadata,
			  const struct vecs *vs, const struct vec *v,
			  struct tally *t)
{
	uint8_t em[KC_RSA_LEN], m[KC_RSA_LEN];
	bool want_key = v->valid && !v->label_len && v->msg_len == KC_KEY_LEN;
	size_t m_len;
	int ossl;

	if (openssl_raw(vs->key, true, v->ct, v->ct_len, em)) {
		/* Wrong length or c >= n: no EM to decode, so never valid. */
		t->before_decode++;
		return !v->valid;
	}
	/* The decoder agrees with OpenSSL's own OAEP on every vector. */
	ossl = kc_oaep_unwrap_label(vs->key, v->label, v->label_len, v->ct,
				    v->ct_len, m, &m_len);
	if (v->valid != (ossl == 0)) {
		TH_LOG("tcId %d: OpenSSL says %d", v->id, ossl);
		return false;
	}
	if (v->label_len && v->valid)
		t->labelled += decode_fails(em, NULL, 0);
	t->keys += want_key;
	if (!key_gives(em, want_key ? v->msg : NULL))
		return false;
	if (v->valid) {
		t->valid++;
		return decode_gives(em, v->label, v->label_len, v->msg,
				    v->msg_len);
	}
	t->invalid++;
	t->padding += v->padding_flag;
	return decode_fails(em, v->label, v->label_len);
}

TEST_F(decode, wycheproof)
{
	struct tally t = { 0 };
	int bad = 0, padding_vectors = 0, labelled = 0, keys = 0;

	for (size_t i = 0; i < self->vs.n; i++) {
		const struct vec *v = &self->vs.v[i];

		padding_vectors += v->padding_flag;
		labelled += v->valid && v->label_len;
		keys += v->valid && !v->label_len && v->msg_len == KC_KEY_LEN;
		if (!decode_vector(_metadata, &self->vs, v, &t)) {
			TH_LOG("tcId %d (%s) misbehaved", v->id,
			       v->valid ? "valid" : "invalid");
			bad++;
		}
	}
	ksft_print_msg("decode: %zu vectors: %d valid decoded, %d invalid "
		       "rejected by the decoder (%d of them InvalidOaepPadding)"
		       ", %d rejected before decoding (length, c >= n); %d "
		       "labelled refused without their label; %d gave K\n",
		       self->vs.n, t.valid, t.invalid, t.padding,
		       t.before_decode, t.labelled, t.keys);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(self->vs.n, t.valid + t.invalid + t.before_decode);
	EXPECT_EQ(padding_vectors, t.padding);
	EXPECT_EQ(labelled, t.labelled);
	EXPECT_GT(t.valid, 0);
	EXPECT_GT(t.padding, 0);
	EXPECT_EQ(keys, t.keys);
	EXPECT_GT(t.keys, 0);
}

/* The test's encoder must be OAEP as OpenSSL knows it, or the rest is moot. */
/*
 * One vector's bare RSA result (ret, em) against OpenSSL's: false when c
 * was refused as out of range (1 < c < n - 1 is the kernel's rule, which
 * rsa_blind.h keeps; such a c is never a valid vector), else true, with
 * the bytes checked.
 */
static bool raw_like_openssl(struct __test_metadata *_metadata, EVP_PKEY *key,
			     const struct vec *v, int ret,
			     const uint8_t em[KC_RSA_LEN])
{
	uint8_t want[KC_RSA_LEN];

	if (ret == -EINVAL) {
		EXPECT_FALSE(v->valid) TH_LOG("tcId %d", v->id);
		return false;
	}
	EXPECT_EQ(0, ret) TH_LOG("tcId %d", v->id);
	EXPECT_EQ(0, openssl_raw(key, true, v->ct, v->ct_len, want));
	EXPECT_EQ(0, memcmp(em, want, KC_RSA_LEN)) TH_LOG("tcId %d", v->id);
	return true;
}

/* OpenSSL's bare RSA as the private operation rsa_blind.h wraps. */
struct seen_raw {
	EVP_PKEY *key;
	uint8_t last_in[KC_RSA_LEN];
};

static int openssl_raw_seen(void *ctx, const uint8_t c[KC_RSA_LEN],
			    uint8_t em[KC_RSA_LEN])
{
	struct seen_raw *s = ctx;

	memcpy(s->last_in, c, KC_RSA_LEN);
	return openssl_raw(s->key, true, c, KC_RSA_LEN, em);
}

/*
 * Blinded equals unblinded on every vector; the private operation never
 * sees c itself, and two calls on one c show it two different values (r
 * is fresh per call).
 */
TEST_F(decode, blinded_matches_unblinded)
{
	struct seen_raw seen = { .key = self->vs.key };
	uint8_t n[KC_RSA_LEN], want[KC_RSA_LEN], em[KC_RSA_LEN];
	uint8_t first_in[KC_RSA_LEN];
	int same = 0, refused = 0;

	ASSERT_EQ(0, kc_rsa_modulus(self->vs.key, n));
	for (size_t i = 0; i < self->vs.n; i++) {
		const struct vec *v = &self->vs.v[i];
		int ret;

		if (v->ct_len != KC_RSA_LEN)
			continue;
		ret = kc_rsa_blind_raw(n, openssl_raw_seen, &seen, v->ct, em);
		if (!raw_like_openssl(_metadata, self->vs.key, v, ret, em)) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, openssl_raw(self->vs.key, true, v->ct, v->ct_len,
					 want));
		EXPECT_NE(0, memcmp(seen.last_in, v->ct, KC_RSA_LEN));
		memcpy(first_in, seen.last_in, sizeof(first_in));
		ASSERT_EQ(0, kc_rsa_blind_raw(n, openssl_raw_seen, &seen, v->ct,
					      em));
		EXPECT_NE(0, memcmp(seen.last_in, first_in, KC_RSA_LEN));
		EXPECT_EQ(0, memcmp(em, want, sizeof(em)));
		same++;
	}
	ksft_print_msg("blinded RSA equal to OpenSSL's bare RSA on %d vectors, "
		       "%d c out of range\n", same, refused);
	EXPECT_GT(same, 0);
}

TEST_F(decode, encoder_agrees_with_openssl)
{
	static const uint8_t label[] = "kcourier test label";
	uint8_t msg[KC_OAEP_MSG_MAX], em[KC_RSA_LEN], c[KC_RSA_LEN];
	uint8_t m[KC_RSA_LEN];
	size_t lens[] = { 0, 1, 32, 100, KC_OAEP_MSG_MAX }, m_len;

	kc_random(msg, sizeof(msg));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		oaep_encode(msg, lens[i], label, sizeof(label), &no_fault, em);
		ASSERT_EQ(0, openssl_raw(self->vs.key, false, em, sizeof(em),
					 c));
		ASSERT_EQ(0, kc_oaep_unwrap_label(self->vs.key, label,
						  sizeof(label), c, sizeof(c),
						  m, &m_len));
		EXPECT_EQ(lens[i], m_len);
		EXPECT_EQ(0, memcmp(m, msg, lens[i]));
	}
}

TEST(decode_every_length)
{
	static const uint8_t label[] = "a label";
	uint8_t msg[KC_OAEP_MSG_MAX], em[KC_RSA_LEN];

	kc_random(msg, sizeof(msg));
	for (size_t len = 0; len <= KC_OAEP_MSG_MAX; len++) {
		oaep_encode(msg, len, NULL, 0, &no_fault, em);
		ASSERT_TRUE(decode_gives(em, NULL, 0, msg, len))
		TH_LOG("length %zu", len);
		/* Only a 32-byte message is a session key. */
		ASSERT_TRUE(key_gives(em, len == KC_KEY_LEN ? msg : NULL));
		ASSERT_TRUE(decode_fails(em, label, sizeof(label)));
		oaep_encode(msg, len, label, sizeof(label), &no_fault, em);
		ASSERT_TRUE(decode_gives(em, label, sizeof(label), msg, len));
		ASSERT_TRUE(decode_fails(em, NULL, 0));
	}
}

/* Each rule broken alone (the rest of EM is right) gives the one error. */
TEST(decode_each_check_alone)
{
	static const struct em_fault faults[] = {
		{ "Y = 0x01", 0x01, -1, 1, -1 },
		{ "Y = 0x80", 0x80, -1, 1, -1 },
		{ "first lHash byte", 0, 0, 1, -1 },
		{ "last lHash byte", 0, 31, 1, -1 },
		{ "separator 0x02", 0, -1, 0x02, -1 },
		{ "separator 0xff", 0, -1, 0xff, -1 },
		{ "no separator", 0, -1, 0x00, -1 },
		{ "0x80 first in PS", 0, -1, 1, 0 },
		{ "0x80 last in PS", 0, -1, 1, 157 },
	};
	/* 32 bytes with no 0x01, so a lost separator is not found later. */
	uint8_t msg[KC_KEY_LEN], em[KC_RSA_LEN];

	memset(msg, 0x5a, sizeof(msg));
	oaep_encode(msg, sizeof(msg), NULL, 0, &no_fault, em);
	ASSERT_TRUE(decode_gives(em, NULL, 0, msg, sizeof(msg)));
	ASSERT_TRUE(key_gives(em, msg));
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		oaep_encode(msg, sizeof(msg), NULL, 0, &faults[i], em);
		EXPECT_TRUE(decode_fails(em, NULL, 0))
		TH_LOG("%s", faults[i].what);
		EXPECT_TRUE(key_gives(em, NULL)) TH_LOG("%s", faults[i].what);
	}
}

/* Any one byte of EM flipped: the single error, and the fallback K. */
TEST(decode_every_byte_flip)
{
	uint8_t msg[KC_KEY_LEN], em[KC_RSA_LEN];
	int bad = 0;

	kc_random(msg, sizeof(msg));
	oaep_encode(msg, sizeof(msg), NULL, 0, &no_fault, em);
	for (size_t i = 0; i < KC_RSA_LEN; i++) {
		for (unsigned int bit = 1; bit < 0x100; bit <<= 4) {
			em[i] ^= (uint8_t)bit;
			bool fails = decode_fails(em, NULL, 0) &&
				     key_gives(em, NULL);

			if (!fails) {
				TH_LOG("byte %zu ^ %#x decoded", i, bit);
				bad++;
			}
			em[i] ^= (uint8_t)bit;
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(decode_gives(em, NULL, 0, msg, sizeof(msg)));
}

/* ---- kernel: add_key("asymmetric") + pkey_decrypt enc=raw ---- */

#define SKIP_NO_PARSER(ret)                                                   \
	SKIP(return,                                                          \
	     "add_key(\"asymmetric\", PKCS#8 RSA key): %s (errno %d): this "  \
	     "kernel has no PKCS#8 key parser (pkcs8_key_parser); runs in "   \
	     "the VM lab (make check-vm)",                                    \
	     strerror(-(ret)), -(ret))

FIXTURE(kernel)
{
	struct vecs vs;
	struct kc_keyring kr;
	key_serial_t key;
	uint8_t n[KC_RSA_LEN];
};

FIXTURE_SETUP(kernel)
{
	int ret = vecs_load(&self->vs);

	self->key = 0;
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, kc_rsa_modulus(self->vs.key, self->n));
	ASSERT_EQ(0, kc_keyring_open(&self->kr));
	ret = kc_rsa_keyring_load(self->kr.ring, "wycheproof", self->vs.pkcs8,
				  self->vs.pkcs8_len, &self->key);
	if (test_kernel_lacks_parser(ret) && !test_parser_module_loaded())
		SKIP_NO_PARSER(ret);
	ASSERT_EQ(0, ret) TH_LOG("kc_rsa_keyring_load: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(kernel)
{
	kc_rsa_keyring_unload(self->kr.ring, self->key);
	vecs_free(&self->vs);
}

TEST_F(kernel, key_in_keyring)
{
	struct keyctl_pkey_query q;
	char left[32];
	char *desc = NULL;

	ASSERT_LT(0, keyctl_describe_alloc(self->key, &desc));
	TH_LOG("%s", desc);
	EXPECT_EQ(0, strncmp(desc, "asymmetric;", 11));
	EXPECT_NE(NULL, strstr(desc, ";kcourier:rsa:wycheproof:"));
	free(desc);
	EXPECT_TRUE(test_ring_links(self->kr.ring, self->key));
	ASSERT_EQ(0, keyctl_pkey_query(self->key, "enc=raw", &q));
	EXPECT_EQ(2048, q.key_size);
	EXPECT_TRUE(q.supported_ops & KEYCTL_SUPPORTS_DECRYPT);
	/* Nothing of the private key can be read back. */
	EXPECT_GT(0, keyctl_read_alloc(self->key, (void **)&desc));
	/* Only its possessor may use it; it expires unless refreshed. */
	ASSERT_LT(0, keyctl_describe_alloc(self->key, &desc));
	EXPECT_NE(NULL, strstr(desc, ";3f010000;")) TH_LOG("%s", desc);
	free(desc);
	EXPECT_TRUE(test_key_expires(self->key));
	/* A refresh gives it its full time again. */
	ASSERT_EQ(0, keyctl_set_timeout(self->key, 30));
	ASSERT_TRUE(test_key_timeout(self->key, left));
	EXPECT_EQ('s', left[strlen(left) - 1]) TH_LOG("%s", left);
	EXPECT_LE(1, kc_rsa_keyring_refresh(self->kr.ring));
	ASSERT_TRUE(test_key_timeout(self->key, left));
	EXPECT_EQ('m', left[strlen(left) - 1]) TH_LOG("%s", left);
}

/* The kernel's bare RSA is OpenSSL's, byte for byte, where it accepts c. */
TEST_F(kernel, raw_matches_openssl)
{
	uint8_t em[KC_RSA_LEN];
	int same = 0, refused = 0;

	for (size_t i = 0; i < self->vs.n; i++) {
		const struct vec *v = &self->vs.v[i];
		int ret;

		if (v->ct_len != KC_RSA_LEN)
			continue;
		ret = kc_rsa_keyring_raw(self->key, v->ct, em);
		if (raw_like_openssl(_metadata, self->vs.key, v, ret, em))
			same++;
		else
			refused++;
	}
	ksft_print_msg("kernel raw RSA: %d equal to OpenSSL's, %d c refused "
		       "by the kernel\n", same, refused);
	EXPECT_GT(same, 0);
}

/* kc_rsa_keyring_unwrap_key: two calls, same K or two fresh fallbacks. */
static bool kernel_key_ok(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			  const struct vec *v)
{
	static const uint8_t zero[KC_KEY_LEN];
	uint8_t c[KC_RSA_LEN] = { 0 }, k1[KC_KEY_LEN], k2[KC_KEY_LEN];
	bool want = v->valid && !v->label_len && v->msg_len == KC_KEY_LEN &&
		    v->ct_len == KC_RSA_LEN;
	int r1, r2;

	memcpy(c, v->ct, v->ct_len < sizeof(c) ? v->ct_len : sizeof(c));
	r1 = kc_rsa_keyring_unwrap_key(key, n, c, k1);
	r2 = kc_rsa_keyring_unwrap_key(key, n, c, k2);
	if (want)
		return !r1 && !r2 && !memcmp(k1, v->msg, KC_KEY_LEN) &&
		       !memcmp(k2, v->msg, KC_KEY_LEN);
	return r1 == -EBADMSG && r2 == -EBADMSG && memcmp(k1, k2, KC_KEY_LEN) &&
	       memcmp(k1, zero, KC_KEY_LEN);
}

static bool kernel_vector_ok(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			     const struct vec *v, struct tally *t)
{
	uint8_t m[KC_RSA_LEN], other[KC_RSA_LEN];
	size_t m_len = 0, other_len = 0;
	int ret;

	ret = kc_rsa_keyring_unwrap(key, n, v->label, v->label_len, v->ct,
				    v->ct_len, m, &m_len);
	if (v->label_len && v->valid)
		t->labelled += kc_rsa_keyring_unwrap(key, n, NULL, 0, v->ct,
						     v->ct_len, other,
						     &other_len) == -EBADMSG;
	if (!kernel_key_ok(key, n, v))
		return false;
	if (v->valid) {
		t->valid++;
		return ret == 0 && m_len == v->msg_len &&
		       !memcmp(m, v->msg, v->msg_len);
	}
	t->invalid++;
	t->padding += v->padding_flag;
	return ret == -EBADMSG && m_len == 0;
}

TEST_F(kernel, wycheproof)
{
	struct tally t = { 0 };
	int bad = 0, padding_vectors = 0;

	for (size_t i = 0; i < self->vs.n; i++) {
		const struct vec *v = &self->vs.v[i];

		padding_vectors += v->padding_flag;
		if (!kernel_vector_ok(self->key, self->n, v, &t)) {
			TH_LOG("tcId %d (%s) misbehaved", v->id,
			       v->valid ? "valid" : "invalid");
			bad++;
		}
	}
	ksft_print_msg("kernel: %zu vectors: %d valid decoded, %d invalid "
		       "rejected with -EBADMSG (%d of them InvalidOaepPadding)"
		       "; %d labelled refused without their label\n",
		       self->vs.n, t.valid, t.invalid, t.padding, t.labelled);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(self->vs.n, t.valid + t.invalid);
	EXPECT_EQ(padding_vectors, t.padding);
	EXPECT_GT(t.labelled, 0);
}

/*
 * The equivalence the blinding must keep: on every Wycheproof vector the
 * kernel's bare RSA and the blinded call give the same EM (or both refuse
 * c), hence the same OAEP plaintext or the same failure; and two blinded
 * calls on one c agree although each drew its own r.
 */
TEST_F(kernel, blinded_equals_unblinded)
{
	uint8_t plain[KC_RSA_LEN], blind[KC_RSA_LEN], again[KC_RSA_LEN];
	int same = 0, refused = 0;

	for (size_t i = 0; i < self->vs.n; i++) {
		const struct vec *v = &self->vs.v[i];
		int r_plain, r_blind;

		if (v->ct_len != KC_RSA_LEN)
			continue;
		r_plain = kc_rsa_keyring_raw(self->key, v->ct, plain);
		r_blind = kc_rsa_keyring_raw_blinded(self->key, self->n,
						     v->ct, blind);
		ASSERT_EQ(r_plain, r_blind) TH_LOG("tcId %d", v->id);
		if (r_plain) {
			refused++;
			continue;
		}
		ASSERT_EQ(0, kc_rsa_keyring_raw_blinded(self->key, self->n,
							v->ct, again));
		EXPECT_EQ(0, memcmp(plain, blind, sizeof(plain)))
		TH_LOG("tcId %d", v->id);
		EXPECT_EQ(0, memcmp(blind, again, sizeof(blind)))
		TH_LOG("tcId %d", v->id);
		same++;
	}
	ksft_print_msg("kernel: blinded and unblinded RSA equal on %d "
		       "vectors, both refused %d\n", same, refused);
	EXPECT_GT(same, 0);
}

TEST_F(kernel, unload_forgets)
{
	uint8_t em[KC_RSA_LEN];
	key_serial_t again;

	ASSERT_EQ(0, kc_rsa_keyring_load(self->kr.ring, "again",
					 self->vs.pkcs8, self->vs.pkcs8_len,
					 &again));
	EXPECT_NE(self->key, again); /* a second load is a key of its own */
	ASSERT_EQ(0, kc_rsa_keyring_raw(again, self->vs.v[0].ct, em));
	kc_rsa_keyring_unload(self->kr.ring, again);
	EXPECT_FALSE(test_ring_links(self->kr.ring, again));
	EXPECT_GT(0, kc_rsa_keyring_raw(again, self->vs.v[0].ct, em));
	/* The first key does not notice. */
	EXPECT_EQ(0, kc_rsa_keyring_raw(self->key, self->vs.v[0].ct, em));
}

TEST_F(kernel, refuses_other_sizes)
{
	uint8_t *der = NULL;
	EVP_PKEY *small = EVP_RSA_gen(1024);
	key_serial_t key = 0;
	long before;
	int len;

	ASSERT_NE(NULL, small);
	len = pkcs8_of(small, &der);
	ASSERT_LT(0, len);
	before = keyctl_read(self->kr.ring, NULL, 0);
	EXPECT_EQ(-EINVAL, kc_rsa_keyring_load(self->kr.ring, "small", der,
					       (size_t)len, &key));
	EXPECT_EQ(0, key);
	/* It did not stay behind in the ring. */
	EXPECT_EQ(before, keyctl_read(self->kr.ring, NULL, 0));
	OPENSSL_clear_free(der, (size_t)len);
	EVP_PKEY_free(small);
}

/* ---- tier: the user tier with and without the kernel ---- */

FIXTURE(tier)
{
	struct vecs vs;
	struct kc_keyring kr;
	struct kc_crypto *c;
	uint8_t k[KC_KEY_LEN];
};

FIXTURE_SETUP(tier)
{
	int ret = vecs_load(&self->vs);

	self->c = NULL;
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, kc_keyring_open(&self->kr));
	ASSERT_EQ(0, kc_crypto_open("user", &self->c));
	ASSERT_TRUE(self->c->ops->unwrap_key_serial != NULL ? 1 : 0);
	kc_random(self->k, sizeof(self->k));
}

FIXTURE_TEARDOWN(tier)
{
	kc_crypto_close(self->c);
	vecs_free(&self->vs);
}

/* A message sealed under raw K opens under the unwrapped session. */
static bool opens_as_k(struct kc_crypto *c, const uint8_t k[KC_KEY_LEN],
		       kc_handle_t unwrapped)
{
	uint8_t iv[KC_IV_LEN], aad[8] = "aad", pt[40], ct[48], out[48];
	struct kc_seal_req s = { .aad = aad, .aad_len = sizeof(aad),
				 .iv = iv, .pt = pt, .pt_len = sizeof(pt),
				 .ct = ct };
	struct kc_open_req o = { .session = unwrapped, .aad = aad,
				 .aad_len = sizeof(aad), .iv = iv, .ct = ct,
				 .pt = out };
	kc_handle_t plain;
	bool ok;

	kc_random(iv, sizeof(iv));
	kc_random(pt, sizeof(pt));
	if (kc_session_install(c, NULL, k, &plain))
		return false;
	s.session = plain;
	ok = !kc_seal_batch(c, &s, 1) && !s.status;
	kc_session_drop(c, plain);
	o.ct_len = s.ct_len;
	o.mac = s.mac;
	ok = ok && !kc_open_batch(c, &o, 1);
	return ok && o.status == 0 && o.pt_len == sizeof(pt) &&
	       !memcmp(out, pt, sizeof(pt));
}

/* Unwraps: K itself, a flipped wrap and a 16-byte K give random-K sessions. */
static void check_unwraps(struct __test_metadata *_metadata,
			  FIXTURE_DATA(tier) *self, kc_handle_t key)
{
	uint8_t wrapped[KC_RSA_LEN];
	kc_handle_t s = KC_HANDLE_NONE;

	ASSERT_EQ(0, kc_oaep_wrap(self->vs.key, self->k, KC_KEY_LEN, wrapped));
	ASSERT_EQ(0, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
	EXPECT_TRUE(opens_as_k(self->c, self->k, s));
	kc_session_drop(self->c, s);
	wrapped[7] ^= 0x10;
	ASSERT_EQ(-EBADMSG, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
	EXPECT_FALSE(opens_as_k(self->c, self->k, s));
	kc_session_drop(self->c, s);
	ASSERT_EQ(0, kc_oaep_wrap(self->vs.key, self->k, 16, wrapped));
	ASSERT_EQ(-EBADMSG, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
	EXPECT_FALSE(opens_as_k(self->c, self->k, s));
	kc_session_drop(self->c, s);
}

TEST_F(tier, kernel_holds_the_key)
{
	kc_handle_t key = KC_HANDLE_NONE;
	uint8_t wrapped[KC_RSA_LEN];
	kc_handle_t s;
	int serial;

	ASSERT_EQ(0, self->c->ops->set_keyring(self->c, &self->kr, 60));
	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, self->vs.pkcs8,
						   self->vs.pkcs8_len, &key));
	serial = self->c->ops->unwrap_key_serial(self->c, key);
	if (test_kernel_lacks_parser(serial) && !test_parser_module_loaded())
		SKIP_NO_PARSER(serial);
	/* The kernel holds it: the tier keeps no private key of its own. */
	ASSERT_LT(0, serial) TH_LOG("%s", strerror(-serial));
	EXPECT_TRUE(test_ring_links(self->kr.ring, serial));
	check_unwraps(_metadata, self, key);
	/* Unloading takes the key out of the kernel too. */
	ASSERT_EQ(0, kc_oaep_wrap(self->vs.key, self->k, KC_KEY_LEN, wrapped));
	self->c->ops->unload_key(self->c, key);
	EXPECT_FALSE(test_ring_links(self->kr.ring, serial));
	EXPECT_EQ(-ENOENT, self->c->ops->unwrap_key_serial(self->c, key));
	EXPECT_EQ(-ENOENT, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
}

/*
 * No keyring, or one the kernel cannot add to (a "user" key is no
 * keyring: -ENOTDIR): the key stays on OpenSSL and unwraps as before.
 */
TEST_F(tier, openssl_without_the_kernel)
{
	struct kc_keyring not_a_ring = { 0 };
	kc_handle_t key = KC_HANDLE_NONE;
	int serial;

	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, self->vs.pkcs8,
						   self->vs.pkcs8_len, &key));
	EXPECT_EQ(-ENOKEY, self->c->ops->unwrap_key_serial(self->c, key));
	check_unwraps(_metadata, self, key);
	self->c->ops->unload_key(self->c, key);

	not_a_ring.ring = add_key("user", "kcourier-test:not-a-ring", "x", 1,
				  KEY_SPEC_PROCESS_KEYRING);
	ASSERT_LT(0, not_a_ring.ring);
	ASSERT_EQ(0, self->c->ops->set_keyring(self->c, &not_a_ring, 60));
	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, self->vs.pkcs8,
						   self->vs.pkcs8_len, &key));
	serial = self->c->ops->unwrap_key_serial(self->c, key);
	TH_LOG("without a usable keyring: %s", strerror(-serial));
	EXPECT_GT(0, serial);
	EXPECT_NE(-ENOENT, serial);
	check_unwraps(_metadata, self, key);
	self->c->ops->unload_key(self->c, key);
	keyctl_invalidate(not_a_ring.ring);
}

/* ---- agent: a real kcourierd ---- */

/* kcourier:rsa:* asymmetric keys linked in the ring. */
static int count_rsa_keys(key_serial_t ring)
{
	key_serial_t *ids = NULL;
	long n = keyctl_read_alloc(ring, (void **)&ids);
	int count = 0;

	for (long i = 0; i < n / (long)sizeof(*ids); i++) {
		char *desc = NULL;

		if (keyctl_describe_alloc(ids[i], &desc) < 0)
			continue;
		/* Possessor-only use, view for the uid (keyring.h). */
		count += !strncmp(desc, "asymmetric;", 11) &&
			 strstr(desc, ";3f010000;kcourier:rsa:") &&
			 test_key_expires(ids[i]);
		free(desc);
	}
	free(ids);
	return count;
}

/* Whether this kernel takes the PKCS#8 key: the agent should agree. */
static int kernel_probe(void)
{
	struct kc_keyring kr;
	key_serial_t key = 0;
	uint8_t *der = NULL;
	EVP_PKEY *pkey = NULL;
	int len, ret;

	ret = kc_keyring_open(&kr);
	if (!ret)
		ret = kc_rsa_generate(&pkey);
	if (ret)
		return ret;
	len = pkcs8_of(pkey, &der);
	ret = len > 0 ? kc_rsa_keyring_load(kr.ring, "probe", der, (size_t)len,
					    &key)
		      : -EIO;
	kc_rsa_keyring_unload(kr.ring, key);
	OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
	EVP_PKEY_free(pkey);
	return ret;
}

static int send_one(struct kc_client *c, const struct test_session *s,
		    const char *to)
{
	uint8_t id[KC_MSGID_LEN], inner[32];
	uint16_t status;
	int ret;

	kc_random(id, sizeof(id));
	memset(inner, 0x42, sizeof(inner));
	ret = ts_send(c, s, 1, to, id, inner, sizeof(inner), TS_GOOD);
	if (!ret)
		ret = ts_await_ack(c, s, 1, &status, id);
	return ret ? ret : status;
}

FIXTURE(agent)
{
	struct agent_proc a;
	struct test_ident alice, bob;
	struct kc_keyring kr;
};

/*
 * One variant per tier that keeps its seal key through rsa_keyring.h's
 * kc_unwrap_key (unwrap_keys.h): user, and afalg where the kernel has
 * AF_ALG (the VM lab; elsewhere it SKIPs with the reason).
 */
FIXTURE_VARIANT(agent)
{
	const char *tier;
};

FIXTURE_VARIANT_ADD(agent, user)
{
	.tier = "user",
};

FIXTURE_VARIANT_ADD(agent, afalg)
{
	.tier = "afalg",
};

FIXTURE_SETUP(agent)
{
	char why[256];
	int ret;

	if (kc_crypto_available(variant->tier, why, sizeof(why)))
		SKIP(return, "tier %s is not available: %s", variant->tier,
		     why);
	ret = agent_proc_init(&self->a, 2);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	self->a.crypto = variant->tier;
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_make(&self->bob, "bob"));
}

FIXTURE_TEARDOWN(agent)
{
	if (_metadata->exit_code)
		agent_proc_dump_log(&self->a);
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

/*
 * Whatever the kernel offers, OPEN_SESSION and SEND work; with the
 * PKCS#8 parser the seal key lives in the kernel (one key per worker) and
 * leaves with the agent, and the log says which path it took.
 */
TEST_F_TIMEOUT(agent, open_session_end_to_end, 900)
{
	struct test_session s;
	struct kc_client *c;
	int probe = kernel_probe(), status;
	bool in_kernel = probe == 0;

	if (!in_kernel && !test_kernel_lacks_parser(probe))
		TH_LOG("probe: %s", strerror(-probe));
	ASSERT_TRUE(in_kernel || !test_parser_module_loaded());
	ASSERT_EQ(0, agent_proc_start(&self->a));
	self->kr.ring = agent_proc_keyring(&self->a);
	ASSERT_LT(0, self->kr.ring);
	if (in_kernel) {
		EXPECT_TRUE(agent_proc_log_has(&self->a, "seal key: asymmetric "
							 "key "));
		EXPECT_EQ(2, count_rsa_keys(self->kr.ring));
	} else {
		EXPECT_TRUE(agent_proc_log_has(
			&self->a, "seal key: unwrap with OpenSSL in this "
				  "process"));
	}
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	for (int i = 0; i < 4; i++) { /* connections land on either worker */
		ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
		ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
		EXPECT_EQ(0, send_one(c, &s, "bob"));
		kc_client_close(c);
	}
	EXPECT_EQ(0, agent_proc_stop(&self->a));
	/* A clean stop takes the seal keys out of the kernel. */
	EXPECT_EQ(0, count_rsa_keys(self->kr.ring));
	ksft_print_msg("agent, tier %s: seal key %s\n", variant->tier,
		       in_kernel ? "in the kernel keyring" : "with OpenSSL");
}

TEST_HARNESS_MAIN
