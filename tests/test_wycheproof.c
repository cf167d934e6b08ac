// SPDX-License-Identifier: GPL-2.0-only
/*
 * Wycheproof vectors (tests/vectors/wycheproof/README.md) through the
 * primitives of crypto.h: RSA-OAEP-2048 SHA-256, RSA-PSS-2048 SHA-256 salt
 * 32, AES-CBC-PKCS5 (all key sizes), HMAC-SHA256. One variant per file,
 * and the symmetric files once more through the kernel's AF_ALG sockets
 * keyed from logon keys, as the afalg tier runs them (sym_engine.h; those
 * variants SKIP where the kernel lacks AF_ALG and run in the VM lab).
 *
 * Every vector must behave as the file's "result" says: "valid" accepted
 * with the exact expected output, "invalid" rejected. Two refinements:
 *  - OAEP vectors encrypted with a non-empty label must open with that
 *    label (kc_oaep_unwrap_label) and, since the protocol has only the
 *    empty label, must fail through kc_oaep_unwrap; they are counted as
 *    valid and, again, as "labelled".
 *  - "acceptable" (none in these files today) passes either way and is
 *    counted, since such vectors describe legacy leniency, not correctness.
 * The count of vectors seen must equal the file's numberOfTests, so a
 * parsing mistake cannot silently skip vectors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"

#include "lib/hex.h"
#include "lib/sym_engine.h"
#include "lib/vectors.h"
#include "crypto/crypto.h"

struct tally {
	int total;
	int valid;	 /* valid, accepted with the expected output */
	int invalid;	 /* invalid, rejected */
	int labelled;	 /* valid with a label: opens with it, not without */
	int acceptable;	 /* either outcome */
	int misbehaved;	 /* anything else */
	int key_ok;	 /* OAEP: kc_oaep_unwrap_key gave K */
	int key_random;	 /* OAEP: kc_oaep_unwrap_key fell back */
};

/* One vector: the test's hex fields decoded, plus its group's key. */
struct vector {
	json_t *group, *test;
	EVP_PKEY *key;
	int id;
	const char *result, *comment;
};

/* Who runs AES-CBC and HMAC for this variant (set by the setup). */
static const struct sym_engine *engine = &sym_engine_openssl;

typedef bool (*check_fn)(struct __test_metadata *_metadata,
			 const struct vector *v, struct tally *t);
typedef EVP_PKEY *(*group_key_fn)(json_t *group);

static EVP_PKEY *oaep_group_key(json_t *group)
{
	size_t len = 0;
	uint8_t *der = test_json_hex(group, "privateKeyPkcs8", &len);
	const unsigned char *p = der;
	EVP_PKEY *key = NULL;

	if (der)
		key = d2i_AutoPrivateKey(NULL, &p, (long)len);
	free(der);
	return key;
}

static EVP_PKEY *pss_group_key(json_t *group)
{
	size_t len = 0;
	uint8_t *der = test_json_hex(group, "publicKeyDer", &len);
	EVP_PKEY *key = NULL;

	if (der && kc_spki_parse(der, len, &key))
		key = NULL;
	free(der);
	return key;
}

static bool is_valid(const struct vector *v)
{
	return !strcmp(v->result, "valid");
}

/* Called when the outcome does not match: acceptable passes either way. */
static bool misbehaved(struct __test_metadata *_metadata,
		       const struct vector *v, struct tally *t, const char *what)
{
	if (!strcmp(v->result, "acceptable")) {
		t->acceptable++;
		return true;
	}
	TH_LOG("tcId %d (%s, %s): %s", v->id, v->result, v->comment, what);
	return false;
}

/* kc_oaep_unwrap_key: K only for a valid 32-byte message, else random K. */
static bool check_oaep_key(struct __test_metadata *_metadata,
			   const struct vector *v, const uint8_t *ct,
			   size_t ct_len, const uint8_t *msg, size_t msg_len,
			   bool expect_ok, struct tally *t)
{
	static const uint8_t zero[KC_KEY_LEN];
	uint8_t c[KC_RSA_LEN] = { 0 }, k1[KC_KEY_LEN], k2[KC_KEY_LEN];
	int r1, r2;

	/* The interface takes exactly 256 bytes; shorter ones are padded. */
	memcpy(c, ct, ct_len < sizeof(c) ? ct_len : sizeof(c));
	r1 = kc_oaep_unwrap_key(v->key, c, k1);
	r2 = kc_oaep_unwrap_key(v->key, c, k2);
	if (expect_ok && ct_len == KC_RSA_LEN && msg_len == KC_KEY_LEN) {
		t->key_ok++;
		return r1 == 0 && r2 == 0 && !memcmp(k1, msg, KC_KEY_LEN) &&
		       !memcmp(k2, msg, KC_KEY_LEN);
	}
	t->key_random++;
	if (r1 != -EBADMSG || r2 != -EBADMSG) {
		TH_LOG("tcId %d: unwrap_key returned %d", v->id, r1);
		return false;
	}
	/* A fallback K is fresh randomness each time, never a constant. */
	return memcmp(k1, zero, KC_KEY_LEN) && memcmp(k2, zero, KC_KEY_LEN) &&
	       memcmp(k1, k2, KC_KEY_LEN);
}

static bool check_oaep(struct __test_metadata *_metadata,
		       const struct vector *v, struct tally *t)
{
	size_t ct_len = 0, msg_len = 0, label_len = 0, m_len = 0;
	uint8_t *ct = test_json_hex(v->test, "ct", &ct_len);
	uint8_t *msg = test_json_hex(v->test, "msg", &msg_len);
	uint8_t *label = test_json_hex(v->test, "label", &label_len);
	uint8_t m[KC_RSA_LEN];
	bool ok = false, expect_ok;
	int ret;

	if (!ct || !msg || !label)
		goto out;
	expect_ok = is_valid(v);
	ret = kc_oaep_unwrap_label(v->key, label, label_len, ct, ct_len, m,
				   &m_len);
	if (expect_ok && ret == 0 && m_len == msg_len &&
	    !memcmp(m, msg, msg_len)) {
		t->valid++;
		ok = true;
	} else if (!expect_ok && ret == -EBADMSG) {
		t->invalid++;
		ok = true;
	} else {
		ok = misbehaved(_metadata, v, t, "unwrap outcome");
	}
	/* The protocol's unwrap has the empty label: a labelled one fails. */
	if (label_len) {
		ret = kc_oaep_unwrap(v->key, ct, ct_len, m, &m_len);
		if (ret == -EBADMSG)
			t->labelled++;
		else
			ok = misbehaved(_metadata, v, t, "label ignored");
	}
	expect_ok = expect_ok && label_len == 0;
	if (!check_oaep_key(_metadata, v, ct, ct_len, msg, msg_len, expect_ok,
			    t)) {
		TH_LOG("tcId %d: kc_oaep_unwrap_key misbehaved", v->id);
		ok = false;
	}
out:
	free(ct);
	free(msg);
	free(label);
	return ok;
}

static bool check_pss(struct __test_metadata *_metadata,
		      const struct vector *v, struct tally *t)
{
	size_t msg_len = 0, sig_len = 0;
	uint8_t *msg = test_json_hex(v->test, "msg", &msg_len);
	uint8_t *sig = test_json_hex(v->test, "sig", &sig_len);
	bool ok = false;
	int ret;

	if (!msg || !sig)
		goto out;
	ret = kc_pss_verify(v->key, msg, msg_len, sig, sig_len);
	if (is_valid(v) && ret == 0) {
		t->valid++;
		ok = true;
	} else if (!is_valid(v) && ret == -EBADMSG) {
		t->invalid++;
		ok = true;
	} else {
		ok = misbehaved(_metadata, v, t, "verify outcome");
	}
out:
	free(msg);
	free(sig);
	return ok;
}

/* Valid: encryption gives ct exactly and decryption gives msg back. */
static bool cbc_roundtrip(const uint8_t *key, size_t key_len, const uint8_t *iv,
			  const uint8_t *msg, size_t msg_len,
			  const uint8_t *ct, size_t ct_len)
{
	uint8_t *out = malloc(kc_cbc_ct_len(msg_len));
	uint8_t *back = malloc(ct_len + 1);
	size_t out_len = 0, back_len = 0;
	bool ok;

	ok = out && back &&
	     !engine->cbc_encrypt(key, key_len, iv, msg, msg_len, out,
				  &out_len) &&
	     out_len == ct_len && !memcmp(out, ct, ct_len) &&
	     !engine->cbc_decrypt(key, key_len, iv, ct, ct_len, back,
				  &back_len) &&
	     back_len == msg_len && !memcmp(back, msg, msg_len);
	free(out);
	free(back);
	return ok;
}

static bool check_cbc(struct __test_metadata *_metadata,
		      const struct vector *v, struct tally *t)
{
	size_t key_len = 0, iv_len = 0, msg_len = 0, ct_len = 0, pt_len;
	uint8_t *key = test_json_hex(v->test, "key", &key_len);
	uint8_t *iv = test_json_hex(v->test, "iv", &iv_len);
	uint8_t *msg = test_json_hex(v->test, "msg", &msg_len);
	uint8_t *ct = test_json_hex(v->test, "ct", &ct_len);
	uint8_t *pt = malloc(ct_len + 1);
	bool ok = false;

	if (!key || !iv || iv_len != KC_IV_LEN || !msg || !ct || !pt)
		goto out;
	if (is_valid(v) &&
	    cbc_roundtrip(key, key_len, iv, msg, msg_len, ct, ct_len)) {
		t->valid++;
		ok = true;
	} else if (!is_valid(v) && engine->cbc_decrypt(key, key_len, iv, ct,
						       ct_len, pt,
						       &pt_len) == -EBADMSG) {
		t->invalid++;
		ok = true;
	} else {
		ok = misbehaved(_metadata, v, t, "AES-CBC outcome");
	}
out:
	free(key);
	free(iv);
	free(msg);
	free(ct);
	free(pt);
	return ok;
}

static bool check_hmac(struct __test_metadata *_metadata,
		       const struct vector *v, struct tally *t)
{
	size_t key_len = 0, msg_len = 0, tag_len = 0;
	uint8_t *key = test_json_hex(v->test, "key", &key_len);
	uint8_t *msg = test_json_hex(v->test, "msg", &msg_len);
	uint8_t *tag = test_json_hex(v->test, "tag", &tag_len);
	json_int_t bits = json_integer_value(json_object_get(v->group, "tagSize"));
	uint8_t mac[KC_MAC_LEN];
	struct kc_iov iov = { msg, msg_len };
	bool ok = false, same;

	if (!key || !msg || !tag || bits <= 0 || bits > 256 || bits % 8)
		goto out;
	if (engine->hmac(key, key_len, &iov, 1, mac))
		goto out;
	/* Truncated tags (RFC 2104 section 5) compare the leading bytes. */
	same = tag_len == (size_t)bits / 8 && kc_equal_ct(mac, tag, tag_len);
	if (is_valid(v) && same) {
		t->valid++;
		ok = true;
	} else if (!is_valid(v) && !same) {
		t->invalid++;
		ok = true;
	} else {
		ok = misbehaved(_metadata, v, t, "HMAC outcome");
	}
out:
	free(key);
	free(msg);
	free(tag);
	return ok;
}

FIXTURE(wycheproof)
{
	json_t *root;
	struct tally tally;
};

FIXTURE_VARIANT(wycheproof)
{
	const char *name;
	const char *file;
	group_key_fn group_key; /* NULL for symmetric suites */
	check_fn check;
	const struct sym_engine *engine; /* NULL: the library's */
};

FIXTURE_VARIANT_ADD(wycheproof, oaep)
{
	.name = "oaep",
	.file = "rsa_oaep_2048_sha256_mgf1sha256_test.json",
	.group_key = oaep_group_key,
	.check = check_oaep,
};

FIXTURE_VARIANT_ADD(wycheproof, pss)
{
	.name = "pss",
	.file = "rsa_pss_2048_sha256_mgf1_32_test.json",
	.group_key = pss_group_key,
	.check = check_pss,
};

FIXTURE_VARIANT_ADD(wycheproof, aes_cbc)
{
	.name = "aes-cbc",
	.file = "aes_cbc_pkcs5_test.json",
	.check = check_cbc,
};

FIXTURE_VARIANT_ADD(wycheproof, hmac)
{
	.name = "hmac",
	.file = "hmac_sha256_test.json",
	.check = check_hmac,
};

FIXTURE_VARIANT_ADD(wycheproof, aes_cbc_afalg)
{
	.name = "aes-cbc (kernel)",
	.file = "aes_cbc_pkcs5_test.json",
	.check = check_cbc,
	.engine = &sym_engine_kernel,
};

FIXTURE_VARIANT_ADD(wycheproof, hmac_afalg)
{
	.name = "hmac (kernel)",
	.file = "hmac_sha256_test.json",
	.check = check_hmac,
	.engine = &sym_engine_kernel,
};

FIXTURE_SETUP(wycheproof)
{
	char why[900];

	memset(&self->tally, 0, sizeof(self->tally));
	self->root = NULL;
	engine = variant->engine ? variant->engine : &sym_engine_openssl;
	if (engine == &sym_engine_kernel &&
	    sym_engine_kernel_init(why, sizeof(why)))
		SKIP(return, "%s; runs in the VM lab (make check-vm)", why);
	self->root = wycheproof_load(variant->file, why, sizeof(why));
	ASSERT_NE(NULL, self->root) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(wycheproof)
{
	json_decref(self->root);
}

/* Runs every test of one group; returns how many misbehaved. */
static int run_group(struct __test_metadata *_metadata,
		     const FIXTURE_VARIANT(wycheproof) *variant, json_t *group,
		     struct tally *t)
{
	json_t *tests = json_object_get(group, "tests"), *test;
	struct vector v = { .group = group };
	int bad = 0;
	size_t i;

	if (variant->group_key) {
		v.key = variant->group_key(group);
		if (!v.key) {
			TH_LOG("a group key does not parse");
			return 1 + (int)json_array_size(tests);
		}
	}
	json_array_foreach(tests, i, test) {
		v.test = test;
		v.id = (int)json_integer_value(json_object_get(test, "tcId"));
		v.result = json_string_value(json_object_get(test, "result"));
		v.comment = json_string_value(json_object_get(test, "comment"));
		if (!v.result || !v.comment)
			v.result = v.comment = "?";
		t->total++;
		if (!variant->check(_metadata, &v, t))
			bad++;
	}
	EVP_PKEY_free(v.key);
	return bad;
}

TEST_F(wycheproof, vectors)
{
	json_t *groups = json_object_get(self->root, "testGroups"), *group;
	json_int_t expected =
		json_integer_value(json_object_get(self->root, "numberOfTests"));
	struct tally *t = &self->tally;
	size_t i;

	ASSERT_GT(json_array_size(groups), 0);
	json_array_foreach(groups, i, group)
		t->misbehaved += run_group(_metadata, variant, group, t);

	ksft_print_msg("%s: %d vectors, %d valid accepted, %d invalid rejected"
		       ", %d acceptable, %d misbehaved\n",
		       variant->name, t->total, t->valid, t->invalid,
		       t->acceptable, t->misbehaved);
	if (variant->check == check_oaep)
		ksft_print_msg("%s: of these, %d with a non-empty label, "
			       "refused by the protocol's empty-label unwrap; "
			       "unwrap_key: %d gave K, %d fell back to a fresh "
			       "random K with -EBADMSG\n",
			       variant->name, t->labelled, t->key_ok,
			       t->key_random);
	ASSERT_EQ(expected, t->total);
	ASSERT_EQ(0, t->misbehaved);
	ASSERT_EQ(t->total,
		  t->valid + t->invalid + t->acceptable);
	ASSERT_GT(t->valid, 0);
	ASSERT_GT(t->invalid, 0);
}

TEST_HARNESS_MAIN
