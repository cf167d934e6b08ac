// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one-shot JSON envelope (lib/envelope.c, PROTOCOL.md section 2).
 *
 * Round trips at the sizes around a CBC block; the envelope recomputed by
 * hand from the spec with bare OpenSSL calls; then the tls.c-style tamper
 * fixture: take one real envelope and flip, truncate, extend, swap and
 * re-spell it every way we can think of. Each variant must give exactly
 * -EBADMSG and leave *pt alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "kselftest_harness.h"

#include "base/b64.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "client/envelope.h"
#include "crypto/keyfile.h"

#define BASE_LEN 20 /* two CBC blocks, so ct has one '=' of padding */
#define CT_MAX 4096

/* A crypto tier with one RSA key loaded as the unwrap key. */
struct recipient {
	struct kc_crypto *c;
	EVP_PKEY *key;
	kc_handle_t h;
};

static int recipient_init(struct recipient *r)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int ret;

	r->h = KC_HANDLE_NONE;
	ret = kc_crypto_open("user", &r->c);
	if (!ret)
		ret = kc_rsa_generate(&r->key);
	if (!ret)
		ret = kc_key_pkcs8_der(r->key, &der, &len);
	if (!ret)
		ret = r->c->ops->load_unwrap_key(r->c, der, len, &r->h);
	OPENSSL_clear_free(der, len);
	return ret;
}

static void recipient_fini(struct recipient *r)
{
	if (r->c && r->h != KC_HANDLE_NONE)
		r->c->ops->unload_key(r->c, r->h);
	kc_crypto_close(r->c);
	EVP_PKEY_free(r->key);
}

/* The decoded members of an envelope. */
struct env_bin {
	uint8_t wrapped[KC_RSA_LEN];
	uint8_t iv[KC_IV_LEN];
	uint8_t ct[CT_MAX];
	size_t ct_len;
	uint8_t mac[KC_MAC_LEN];
};

/* Member texts; NULL leaves a member out, extra goes before the '}'. */
struct env_text {
	const char *v, *wrapped, *iv, *ct, *mac, *extra;
};

static char *b64(const uint8_t *p, size_t n)
{
	char *s = malloc(kc_b64_len(n));

	if (s)
		kc_b64_encode(p, n, s);
	return s;
}

static int get_member(json_t *root, const char *name, uint8_t *out,
		      size_t cap, size_t *len)
{
	json_t *s = json_object_get(root, name);
	uint8_t *tmp;
	size_t n;
	int ret = -1;

	if (!json_is_string(s))
		return -1;
	tmp = malloc(json_string_length(s) / 4 * 3 + 1);
	if (tmp &&
	    !kc_b64_decode(json_string_value(s), json_string_length(s), tmp,
			   &n) &&
	    n <= cap) {
		memcpy(out, tmp, n);
		*len = n;
		ret = 0;
	}
	free(tmp);
	return ret;
}

/* Decodes an envelope; the ciphertext goes to ct (cap bytes). */
static int env_split_ct(const char *json, struct env_bin *b, uint8_t *ct,
			size_t cap, size_t *ct_len)
{
	json_t *root = json_loads(json, 0, NULL);
	size_t n1, n2, n3;
	int ret;

	if (!root)
		return -1;
	ret = get_member(root, "encrypted_aes_key", b->wrapped,
			 sizeof(b->wrapped), &n1) ||
	      get_member(root, "iv", b->iv, sizeof(b->iv), &n2) ||
	      get_member(root, "mac", b->mac, sizeof(b->mac), &n3) ||
	      get_member(root, "encrypted_message", ct, cap, ct_len);
	json_decref(root);
	return ret || n1 != KC_RSA_LEN || n2 != KC_IV_LEN || n3 != KC_MAC_LEN ?
		       -1 :
		       0;
}

static int env_split(const char *json, struct env_bin *b)
{
	return env_split_ct(json, b, b->ct, sizeof(b->ct), &b->ct_len);
}

static const char *const field_names[] = { "encrypted_aes_key", "iv",
					   "encrypted_message", "mac" };

/* Member `which` (in field_names order) of t set to val. */
static void set_member(struct env_text *t, int which, const char *val)
{
	const char **slot[] = { &t->wrapped, &t->iv, &t->ct, &t->mac };

	*slot[which] = val;
}

static const char *get_text(const struct env_text *t, int which)
{
	const char *const vals[] = { t->wrapped, t->iv, t->ct, t->mac };

	return vals[which];
}

static void put(FILE *f, bool *first, const char *name, const char *val,
		bool quote)
{
	if (!val)
		return;
	fprintf(f, "%s\"%s\":%s%s%s", *first ? "" : ",", name,
		quote ? "\"" : "", val, quote ? "\"" : "");
	*first = false;
}

static char *env_join(const struct env_text *t)
{
	bool first = true;
	size_t len;
	char *out;
	FILE *f;

	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fputc('{', f);
	put(f, &first, "v", t->v, false);
	put(f, &first, "encrypted_aes_key", t->wrapped, true);
	put(f, &first, "iv", t->iv, true);
	put(f, &first, "encrypted_message", t->ct, true);
	put(f, &first, "mac", t->mac, true);
	fprintf(f, "%s}", t->extra ? t->extra : "");
	fclose(f);
	return out;
}

/* Canonical texts of b; free with text_free(). */
static void text_of(const struct env_bin *b, struct env_text *t)
{
	t->v = "1";
	t->wrapped = b64(b->wrapped, sizeof(b->wrapped));
	t->iv = b64(b->iv, sizeof(b->iv));
	t->ct = b64(b->ct, b->ct_len);
	t->mac = b64(b->mac, sizeof(b->mac));
	t->extra = NULL;
}

static void text_free(struct env_text *t)
{
	free((char *)t->wrapped);
	free((char *)t->iv);
	free((char *)t->ct);
	free((char *)t->mac);
}

static char *env_from_bin(const struct env_bin *b)
{
	struct env_text t;
	char *json;

	text_of(b, &t);
	json = env_join(&t);
	text_free(&t);
	return json;
}

/* True when the open failed exactly as envelope.h says: -EBADMSG, no pt. */
static bool refused(struct recipient *r, const char *json, size_t len)
{
	uint8_t *pt = NULL;
	size_t pt_len = 12345;
	int ret;

	ret = kc_envelope_open(r->c, r->h, json, len, &pt, &pt_len);
	if (ret == 0)
		free(pt);
	return ret == -EBADMSG && pt == NULL && pt_len == 12345;
}

static bool refused_str(struct recipient *r, const char *json)
{
	return json && refused(r, json, strlen(json));
}

static int seal_random(struct recipient *r, uint8_t *pt, size_t len,
		       char **json, size_t *json_len)
{
	kc_random(pt, len);
	return kc_envelope_seal(r->c, r->key, pt, len, json, json_len);
}

/* --- round trips ------------------------------------------------------ */

FIXTURE(sizes)
{
	struct recipient r;
};

FIXTURE_VARIANT(sizes)
{
	size_t len;
};

FIXTURE_VARIANT_ADD(sizes, empty) { .len = 0 };
FIXTURE_VARIANT_ADD(sizes, one) { .len = 1 };
FIXTURE_VARIANT_ADD(sizes, block_minus_1) { .len = 15 };
FIXTURE_VARIANT_ADD(sizes, block) { .len = 16 };
FIXTURE_VARIANT_ADD(sizes, block_plus_1) { .len = 17 };
FIXTURE_VARIANT_ADD(sizes, one_mib) { .len = 1 << 20 };

FIXTURE_SETUP(sizes)
{
	ASSERT_EQ(0, recipient_init(&self->r));
}

FIXTURE_TEARDOWN(sizes)
{
	recipient_fini(&self->r);
}

TEST_F(sizes, round_trip)
{
	uint8_t *pt = malloc(variant->len + 1), *back = NULL;
	size_t json_len, back_len = 0, ct_b64;
	static const char head[] = "{\"v\":1,\"encrypted_aes_key\":\"";
	char *json;

	ASSERT_NE(NULL, pt);
	ASSERT_EQ(0, seal_random(&self->r, pt, variant->len, &json, &json_len));
	EXPECT_EQ(strlen(json), json_len);
	EXPECT_EQ(0, strncmp(json, head, strlen(head)));
	EXPECT_EQ('}', json[json_len - 1]);
	/*
	 * 482 bytes of names, punctuation, "v":1 and the base64 of wrapped
	 * (344), iv (24) and mac (44), plus the ciphertext's base64.
	 */
	ct_b64 = kc_b64_len(kc_cbc_ct_len(variant->len)) - 1;
	EXPECT_EQ(ct_b64 + 482, json_len);
	ASSERT_EQ(0, kc_envelope_open(self->r.c, self->r.h, json, json_len,
				      &back, &back_len));
	ASSERT_NE(NULL, back);
	ASSERT_EQ(variant->len, back_len);
	EXPECT_EQ(0, memcmp(pt, back, back_len));
	free(back);
	free(json);
	free(pt);
}

/* --- the envelope against the spec, with bare OpenSSL ----------------- */

/* RSAES-OAEP-SHA256 (MGF1-SHA256, empty label) decryption of wrapped. */
static int oaep_decrypt(EVP_PKEY *key, const uint8_t *in, uint8_t *out,
			size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int ok;

	ok = ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
	     EVP_PKEY_decrypt(ctx, out, out_len, in, KC_RSA_LEN) > 0;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int cbc_decrypt(const uint8_t *k, const uint8_t *iv, const uint8_t *ct,
		       size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, k, iv) &&
	     EVP_DecryptUpdate(ctx, pt, &n1, ct, (int)ct_len) &&
	     EVP_DecryptFinal_ex(ctx, pt + n1, &n2);
	EVP_CIPHER_CTX_free(ctx);
	*pt_len = (size_t)(n1 + n2);
	return ok ? 0 : -1;
}

TEST_F(sizes, matches_protocol_section_2)
{
	static const char km_info[] = "kcourier/1 mac\x01";
	static const char label[] = "kcourier/1 json";
	uint8_t k[KC_RSA_LEN], km[32], mac[32], *pt, *back, *macd, *ct;
	struct env_bin *b = calloc(1, sizeof(*b));
	size_t k_len = sizeof(k), back_len, json_len, macd_len, ct_len;
	size_t cap = kc_cbc_ct_len(variant->len);
	unsigned int md_len = 0;
	char *json;

	pt = malloc(variant->len + 1);
	back = malloc(cap);
	ct = malloc(cap);
	macd = malloc(sizeof(label) + KC_RSA_LEN + KC_IV_LEN + cap);
	ASSERT_TRUE(b && pt && back && ct && macd);
	ASSERT_EQ(0, seal_random(&self->r, pt, variant->len, &json, &json_len));
	ASSERT_EQ(0, env_split_ct(json, b, ct, cap, &ct_len));
	ASSERT_EQ(cap, ct_len);
	ASSERT_EQ(0, oaep_decrypt(self->r.key, b->wrapped, k, &k_len));
	ASSERT_EQ(32, k_len);
	/* Km = HMAC-SHA256(K, "kcourier/1 mac" || 0x01) */
	ASSERT_NE(NULL, HMAC(EVP_sha256(), k, 32, (const uint8_t *)km_info,
			     sizeof(km_info) - 1, km, &md_len));
	macd_len = 0;
	memcpy(macd, label, sizeof(label) - 1);
	macd_len += sizeof(label) - 1;
	memcpy(macd + macd_len, b->wrapped, KC_RSA_LEN);
	macd_len += KC_RSA_LEN;
	memcpy(macd + macd_len, b->iv, KC_IV_LEN);
	macd_len += KC_IV_LEN;
	memcpy(macd + macd_len, ct, ct_len);
	macd_len += ct_len;
	ASSERT_NE(NULL, HMAC(EVP_sha256(), km, 32, macd, macd_len, mac, &md_len));
	EXPECT_EQ(0, memcmp(mac, b->mac, 32));
	ASSERT_EQ(0, cbc_decrypt(k, b->iv, ct, ct_len, back, &back_len));
	ASSERT_EQ(variant->len, back_len);
	EXPECT_EQ(0, memcmp(pt, back, back_len));
	free(json);
	free(pt);
	free(back);
	free(macd);
	free(ct);
	free(b);
}

/* --- tampering with one real envelope -------------------------------- */

FIXTURE(tamper)
{
	struct recipient r;
	uint8_t pt[BASE_LEN];
	char *json;
	size_t json_len;
	struct env_bin bin;
	struct env_text text;
};

FIXTURE_SETUP(tamper)
{
	uint8_t *back = NULL;
	size_t back_len;

	ASSERT_EQ(0, recipient_init(&self->r));
	ASSERT_EQ(0, seal_random(&self->r, self->pt, BASE_LEN, &self->json,
				 &self->json_len));
	ASSERT_EQ(0, env_split(self->json, &self->bin));
	text_of(&self->bin, &self->text);
	/* Positive control: the untouched envelope opens. */
	ASSERT_EQ(0, kc_envelope_open(self->r.c, self->r.h, self->json,
				      self->json_len, &back, &back_len));
	ASSERT_EQ(BASE_LEN, back_len);
	ASSERT_EQ(0, memcmp(back, self->pt, BASE_LEN));
	free(back);
}

FIXTURE_TEARDOWN(tamper)
{
	text_free(&self->text);
	free(self->json);
	recipient_fini(&self->r);
}

/* Positive controls for the helpers the other tests lean on. */
TEST_F(tamper, rebuilt_envelope_opens)
{
	char *json = env_from_bin(&self->bin);

	ASSERT_NE(NULL, json);
	EXPECT_STREQ(self->json, json);
	EXPECT_FALSE(refused_str(&self->r, json));
	free(json);
}

static uint8_t *field(struct env_bin *b, int which, size_t *len)
{
	switch (which) {
	case 0:
		*len = KC_RSA_LEN;
		return b->wrapped;
	case 1:
		*len = KC_IV_LEN;
		return b->iv;
	case 2:
		*len = b->ct_len;
		return b->ct;
	default:
		*len = KC_MAC_LEN;
		return b->mac;
	}
}

/* Fresh K and iv each time: sealing twice shares no member. */
TEST_F(tamper, fresh_key_and_iv)
{
	struct env_bin *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t pt[17] = "same message here";
	char *j1, *j2;
	size_t len;

	ASSERT_TRUE(a && b);
	ASSERT_EQ(0, kc_envelope_seal(self->r.c, self->r.key, pt, 17, &j1, &len));
	ASSERT_EQ(0, kc_envelope_seal(self->r.c, self->r.key, pt, 17, &j2, &len));
	ASSERT_EQ(0, env_split(j1, a));
	ASSERT_EQ(0, env_split(j2, b));
	EXPECT_NE(0, memcmp(a->wrapped, b->wrapped, KC_RSA_LEN));
	EXPECT_NE(0, memcmp(a->iv, b->iv, KC_IV_LEN));
	EXPECT_NE(0, memcmp(a->ct, b->ct, a->ct_len));
	EXPECT_NE(0, memcmp(a->mac, b->mac, KC_MAC_LEN));
	free(j1);
	free(j2);
	free(a);
	free(b);
}

/* Every byte of every decoded member, flipped, re-encoded canonically. */
TEST_F_TIMEOUT(tamper, flip_every_decoded_byte, 120)
{
	static const uint8_t masks[] = { 0x01, 0x80 };
	int which, m, failures = 0, cases = 0;
	struct env_bin b;
	size_t i, len;
	uint8_t *p;
	char *json;

	for (which = 0; which < 4; which++) {
		field(&self->bin, which, &len);
		for (i = 0; i < len; i++) {
			for (m = 0; m < 2; m++) {
				b = self->bin;
				p = field(&b, which, &len);
				p[i] ^= masks[m];
				json = env_from_bin(&b);
				cases++;
				if (!refused_str(&self->r, json)) {
					failures++;
					TH_LOG("%s byte %zu ^ 0x%02x accepted",
					       field_names[which], i, masks[m]);
				}
				free(json);
			}
		}
	}
	EXPECT_EQ(0, failures);
	EXPECT_EQ(2 * (KC_RSA_LEN + KC_IV_LEN + 32 + KC_MAC_LEN), cases);
}

TEST_F_TIMEOUT(tamper, flip_every_json_byte, 120)
{
	static const uint8_t masks[] = { 0x01, 0x20, 0x80 };
	char *json = strdup(self->json);
	int m, failures = 0;
	size_t i;

	ASSERT_NE(NULL, json);
	for (i = 0; i < self->json_len; i++) {
		for (m = 0; m < 3; m++) {
			json[i] ^= masks[m];
			if (!refused(&self->r, json, self->json_len)) {
				failures++;
				TH_LOG("json byte %zu ^ 0x%02x accepted", i,
				       masks[m]);
			}
			json[i] ^= masks[m];
		}
	}
	EXPECT_EQ(0, failures);
	free(json);
}

TEST_F(tamper, truncate_everywhere)
{
	int failures = 0;
	size_t len;

	for (len = 0; len < self->json_len; len++) {
		if (!refused(&self->r, self->json, len)) {
			failures++;
			TH_LOG("truncated to %zu accepted", len);
		}
	}
	EXPECT_EQ(0, failures);
}

TEST_F(tamper, ciphertext_blocks_added_or_removed)
{
	struct env_bin b = self->bin;
	char *json;

	kc_random(b.ct + b.ct_len, 16);
	b.ct_len += 16;
	json = env_from_bin(&b);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
	/* The last block again, the classic CBC extension. */
	b = self->bin;
	memcpy(b.ct + b.ct_len, b.ct + b.ct_len - 16, 16);
	b.ct_len += 16;
	json = env_from_bin(&b);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
	b = self->bin;
	b.ct_len -= 16;
	json = env_from_bin(&b);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
	/* The first block dropped: CBC would still decrypt the rest. */
	b = self->bin;
	memcpy(b.iv, b.ct, 16);
	memmove(b.ct, b.ct + 16, b.ct_len - 16);
	b.ct_len -= 16;
	json = env_from_bin(&b);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
}

TEST_F(tamper, trailing_text)
{
	static const char *const bad[] = { "x", "{}", "0", ",", "}", "\"\"",
					   "\n{", " null" };
	static const char *const fine[] = { "\n", " \t\r\n" };
	char *json;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_LE(0, asprintf(&json, "%s%s", self->json, bad[i]));
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("trailing \"%s\" accepted", bad[i]);
		free(json);
	}
	/* A NUL byte right after the object. */
	json = malloc(self->json_len + 1);
	ASSERT_NE(NULL, json);
	memcpy(json, self->json, self->json_len);
	json[self->json_len] = '\0';
	EXPECT_TRUE(refused(&self->r, json, self->json_len + 1));
	free(json);
	/* Trailing whitespace is still the same JSON text. */
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		ASSERT_LE(0, asprintf(&json, "%s%s", self->json, fine[i]));
		EXPECT_FALSE(refused_str(&self->r, json));
		free(json);
	}
}

TEST_F(tamper, extra_members)
{
	static const char *const extras[] = {
		",\"x\":1",	   ",\"V\":1",	  ",\"\":\"\"",
		",\"v2\":1",	   ",\"mac2\":\"\"", ",\"iv \":\"AAAA\"",
	};
	struct env_text t = self->text;
	char *json;
	size_t i;

	for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		t.extra = extras[i];
		json = env_join(&t);
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("extra %s accepted", extras[i]);
		free(json);
	}
}

TEST_F(tamper, duplicate_members)
{
	struct env_text t = self->text;
	const char *names[] = { "v", "encrypted_aes_key", "iv",
				"encrypted_message", "mac" };
	const char *vals[] = { "1", t.wrapped, t.iv, t.ct, t.mac };
	char *extra, *json;
	int i;

	for (i = 0; i < 5; i++) {
		/* The same value again: still not "each once". */
		ASSERT_LE(0, asprintf(&extra, i ? ",\"%s\":\"%s\"" : ",\"%s\":%s",
				      names[i], vals[i]));
		t.extra = extra;
		json = env_join(&t);
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("duplicate %s accepted", names[i]);
		free(json);
		free(extra);
	}
}

TEST_F(tamper, missing_members)
{
	struct env_text t;
	char *json;
	int i;

	for (i = 0; i < 5; i++) {
		t = self->text;
		if (i == 4)
			t.v = NULL;
		else
			set_member(&t, i, NULL);
		json = env_join(&t);
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("member %d missing accepted", i);
		free(json);
	}
}

/* v is the JSON integer 1 and nothing else that might compare equal. */
TEST_F(tamper, version_values)
{
	static const char *const bad[] = {
		"2",	 "0",	     "-1",    "1.0",	"1e0",	   "10e-1",
		"\"1\"", "true",     "null",  "[1]",	"{\"\":1}", "01",
		"-0",	 "4294967297", "18446744073709551617", "0x1", "+1",
	};
	struct env_text t = self->text;
	char *json;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.v = bad[i];
		json = env_join(&t);
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("v = %s accepted", bad[i]);
		free(json);
	}
}

TEST_F(tamper, member_types)
{
	static const char *const bad[] = { "1", "null", "true", "[]", "{}",
					   "\"\"", "[\"AAAA\"]" };
	struct env_text t;
	char *json, *extra;
	size_t i;
	int which;

	for (which = 0; which < 4; which++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			/* Leave the member out and add it back raw. */
			t = self->text;
			set_member(&t, which, NULL);
			ASSERT_LE(0, asprintf(&extra, ",\"%s\":%s",
					      field_names[which], bad[i]));
			t.extra = extra;
			json = env_join(&t);
			EXPECT_TRUE(refused_str(&self->r, json))
				TH_LOG("%s = %s accepted", field_names[which],
				       bad[i]);
			free(json);
			free(extra);
		}
	}
}

TEST_F(tamper, top_level_not_an_object)
{
	static const char *const bad[] = { "", " ", "[]", "\"x\"", "1", "null",
					   "{}" };
	char *json;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_TRUE(refused_str(&self->r, bad[i]));
	ASSERT_LE(0, asprintf(&json, "[%s]", self->json));
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
}

/* Decoded lengths one off, for each member, and an empty ciphertext. */
TEST_F(tamper, wrong_lengths)
{
	static const int deltas[] = { -1, 1, -16 };
	struct env_text t;
	uint8_t buf[CT_MAX + 32];
	size_t len, target;
	char *s, *json;
	int which, d;

	for (which = 0; which < 4; which++) {
		for (d = 0; d < 3; d++) {
			const uint8_t *src = field(&self->bin, which, &len);

			target = len + deltas[d];
			memset(buf, 0x5a, sizeof(buf));
			memcpy(buf, src, target < len ? target : len);
			s = b64(buf, target);
			t = self->text;
			set_member(&t, which, s);
			json = env_join(&t);
			EXPECT_TRUE(refused_str(&self->r, json))
				TH_LOG("%s of %zu bytes accepted",
				       field_names[which], target);
			free(json);
			free(s);
		}
	}
	t = self->text;
	t.ct = "";
	json = env_join(&t);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
}

/*
 * The last character before the padding carries unused low bits (4 after
 * one byte, 2 after two); canonical text has them zero, so setting the
 * lowest one changes only unused bits.
 */
static void set_low_bit(char *c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	*c = alphabet[(strchr(alphabet, *c) - alphabet) | 1];
}

/* Texts that decode (leniently) to the right bytes but are not canonical. */
TEST_F(tamper, non_canonical_base64)
{
	struct env_text t;
	char *s, *json;
	size_t len;
	int which, kind;

	for (which = 0; which < 4; which++) {
		for (kind = 0; kind < 5; kind++) {
			const char *orig = get_text(&self->text, which);

			len = strlen(orig);
			s = calloc(1, len + 8);
			ASSERT_NE(NULL, s);
			switch (kind) {
			case 0: /* JSON-escaped newline in the middle */
				sprintf(s, "%.8s\\n%s", orig, orig + 8);
				break;
			case 1: /* a space in the middle */
				sprintf(s, "%.8s %s", orig, orig + 8);
				break;
			case 2: /* padding dropped (every member has some) */
				strcpy(s, orig);
				ASSERT_EQ('=', s[len - 1]);
				s[strcspn(s, "=")] = '\0';
				break;
			case 3: /* nonzero unused bits in the last quad */
				strcpy(s, orig);
				set_low_bit(&s[strcspn(s, "=") - 1]);
				break;
			case 4: /* trailing newline inside the string */
				sprintf(s, "%s\\n", orig);
				break;
			}
			t = self->text;
			set_member(&t, which, s);
			json = env_join(&t);
			EXPECT_TRUE(refused_str(&self->r, json))
				TH_LOG("%s variant %d accepted",
				       field_names[which], kind);
			free(json);
			free(s);
		}
	}
}

/*
 * JSON-level spelling is not base64's business: whitespace between tokens,
 * another member order and \u escapes are the same JSON value, and open.
 */
TEST_F(tamper, same_json_other_spelling)
{
	json_t *root = json_loads(self->json, 0, NULL);
	char *pretty, *escaped, *json;
	struct env_text t = self->text;

	ASSERT_NE(NULL, root);
	pretty = json_dumps(root, JSON_INDENT(3) | JSON_SORT_KEYS);
	ASSERT_NE(NULL, pretty);
	EXPECT_FALSE(refused_str(&self->r, pretty));
	ASSERT_LE(0, asprintf(&escaped, "\\u00%02x%s", t.iv[0], t.iv + 1));
	t.iv = escaped;
	json = env_join(&t);
	EXPECT_FALSE(refused_str(&self->r, json));
	free(json);
	free(escaped);
	free(pretty);
	json_decref(root);
}

/* Each member taken from another envelope sealed to the same key. */
TEST_F(tamper, swap_members_between_envelopes)
{
	struct env_bin other, b;
	uint8_t pt[BASE_LEN];
	size_t len, n;
	char *json2, *json;
	uint8_t *p, *q;
	int which;

	ASSERT_EQ(0, seal_random(&self->r, pt, BASE_LEN, &json2, &len));
	ASSERT_EQ(0, env_split(json2, &other));
	EXPECT_FALSE(refused_str(&self->r, json2));
	for (which = 0; which < 4; which++) {
		b = self->bin;
		p = field(&b, which, &n);
		q = field(&other, which, &n);
		memcpy(p, q, n);
		json = env_from_bin(&b);
		EXPECT_TRUE(refused_str(&self->r, json))
			TH_LOG("%s swapped accepted", field_names[which]);
		free(json);
	}
	free(json2);
}

TEST_F(tamper, wrong_recipient)
{
	struct recipient other;

	ASSERT_EQ(0, recipient_init(&other));
	EXPECT_TRUE(refused(&other, self->json, self->json_len));
	recipient_fini(&other);
}

/*
 * A wrapped key that is not 32 bytes must fail even when the rest is
 * consistent with some 32-byte reading of it (a prefix, or zero padding):
 * the envelope is built by hand, and a 32-byte control opens.
 */
static char *hand_made(struct recipient *r, const uint8_t *k, size_t k_len,
		       const uint8_t use_k[32])
{
	static const char label[] = "kcourier/1 json";
	struct env_bin b = { .ct_len = 0 };
	uint8_t km[32], pt[5] = "hello";
	struct kc_iov iov[4];

	if (kc_oaep_wrap(r->key, k, k_len, b.wrapped))
		return NULL;
	kc_random(b.iv, sizeof(b.iv));
	if (kc_cbc_encrypt(use_k, 32, b.iv, pt, sizeof(pt), b.ct, &b.ct_len) ||
	    kc_derive_km(use_k, km))
		return NULL;
	iov[0] = (struct kc_iov){ label, sizeof(label) - 1 };
	iov[1] = (struct kc_iov){ b.wrapped, KC_RSA_LEN };
	iov[2] = (struct kc_iov){ b.iv, KC_IV_LEN };
	iov[3] = (struct kc_iov){ b.ct, b.ct_len };
	if (kc_hmac_sha256(km, 32, iov, 4, b.mac))
		return NULL;
	return env_from_bin(&b);
}

TEST_F(tamper, unwrap_must_give_32_bytes)
{
	uint8_t k[33], padded[32];
	char *json;

	kc_random(k, sizeof(k));
	json = hand_made(&self->r, k, 32, k);
	EXPECT_FALSE(refused_str(&self->r, json));
	free(json);
	json = hand_made(&self->r, k, 33, k);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
	memcpy(padded, k, 31);
	padded[31] = 0;
	json = hand_made(&self->r, k, 31, padded);
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
	json = hand_made(&self->r, k, 0, (const uint8_t[32]){ 0 });
	EXPECT_TRUE(refused_str(&self->r, json));
	free(json);
}

/* Above KC_ENVELOPE_MAX nothing is read: the pages are never touched. */
TEST_F(tamper, size_limits)
{
	size_t big = KC_ENVELOPE_MAX + 1, json_len;
	char *huge = calloc(1, big), *json;
	EVP_PKEY *small = NULL, *ec = NULL;

	ASSERT_NE(NULL, huge);
	memcpy(huge, self->json, self->json_len);
	EXPECT_TRUE(refused(&self->r, huge, big));
	/* Sealing refuses what opening would refuse. */
	EXPECT_EQ(-EMSGSIZE, kc_envelope_seal(self->r.c, self->r.key,
					      (const uint8_t *)huge,
					      KC_ENVELOPE_MAX / 4 * 3, &json,
					      &json_len));
	free(huge);
	/* And keys other than RSA-2048 / 65537. */
	small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ASSERT_TRUE(small && ec);
	EXPECT_EQ(-EINVAL, kc_envelope_seal(self->r.c, small, self->pt,
					    BASE_LEN, &json, &json_len));
	EXPECT_EQ(-EINVAL, kc_envelope_seal(self->r.c, ec, self->pt, BASE_LEN,
					    &json, &json_len));
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
}

TEST_HARNESS_MAIN
