// SPDX-License-Identifier: GPL-2.0-only
/*
 * The crypto-ops interface (crypto_ops.h) through kc_crypto_open(), one
 * variant per tier name, plus the RSA helpers of crypto.h.
 *
 * ops.<tier>.*: the same tests on user, afalg, auto and kmod. tiers.*:
 * user beside afalg and beside kmod, same bytes out for the same inputs
 * (0 B to 1 MiB) and the same failures. afalg needs AF_ALG keyed from the
 * keyring and kmod needs kcourier.ko, which the VM lab has (tests/vm/);
 * elsewhere their tests SKIP with the reason.
 *
 * Independent answers come from Python's hmac module and the cryptography
 * package (/usr/bin/python3) at test time, or from OpenSSL EVP calls made
 * here with parameters libkcourier does not use (other salt lengths,
 * other key sizes): never from the code under test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"
#include "lib/hex.h"
#include "lib/kernel_keys.h"

#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "crypto/keyring.h"
#include "crypto/rsa_keyring.h"

#define PYTHON "/usr/bin/python3"
#define AAD_MAX KC_SEQ_AAD_MAX

/* Python helpers: run with hex arguments, print one line of output. */
#define PY_KM                                                           \
	"import hmac,hashlib,sys\n"                                     \
	"k=bytes.fromhex(sys.argv[1])\n"                                \
	"print(hmac.new(k,b'kcourier/1 mac\\x01',hashlib.sha256).hexdigest())\n"
#define PY_OPEN                                                         \
	"import hmac,hashlib,sys\n"                                     \
	"from cryptography.hazmat.primitives.ciphers import Cipher,algorithms,modes\n" \
	"from cryptography.hazmat.primitives import padding\n"         \
	"k,aad,iv,ct,mac=[bytes.fromhex(a) for a in sys.argv[1:6]]\n"   \
	"km=hmac.new(k,b'kcourier/1 mac\\x01',hashlib.sha256).digest()\n" \
	"ok=hmac.compare_digest(hmac.new(km,aad+ct,hashlib.sha256).digest(),mac)\n" \
	"d=Cipher(algorithms.AES(k),modes.CBC(iv)).decryptor()\n"       \
	"u=padding.PKCS7(128).unpadder()\n"                             \
	"pt=u.update(d.update(ct)+d.finalize())+u.finalize()\n"         \
	"print('pt:'+pt.hex() if ok else 'bad mac')\n"
#define PY_SHA256                                                       \
	"import hashlib,sys\n"                                          \
	"print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())\n"
#define PY_KEYS                                                         \
	"import sys\n"                                                  \
	"from cryptography.hazmat.primitives.serialization import load_der_public_key\n" \
	"from cryptography.hazmat.primitives.asymmetric import padding\n" \
	"from cryptography.hazmat.primitives import hashes\n"          \
	"pub=load_der_public_key(bytes.fromhex(sys.argv[2]))\n"         \
	"a=bytes.fromhex(sys.argv[3])\n"                                \
	"mgf=padding.MGF1(hashes.SHA256())\n"                           \
	"if sys.argv[1]=='wrap':\n"                                     \
	" o=padding.OAEP(mgf=mgf,algorithm=hashes.SHA256(),label=None)\n" \
	" print(pub.encrypt(a,o).hex())\n"                              \
	"else:\n"                                                       \
	" p=padding.PSS(mgf=mgf,salt_length=32)\n"                      \
	" pub.verify(bytes.fromhex(sys.argv[4]),a,p,hashes.SHA256())\n" \
	" print('verified')\n"

/* Lowercase hex of n bytes, malloc'ed. */
static char *hex_dup(const uint8_t *p, size_t n)
{
	char *out = malloc(2 * n + 1);

	if (out)
		kc_hex(p, n, out);
	return out;
}

/*
 * Runs script under PYTHON with argv (already hex or plain words, no
 * quotes) and reads its first output line into line. The script travels in
 * the environment so the shell never interprets it.
 */
static int python_line(const char *script, const char *args, char *line,
		       size_t cap)
{
	char *cmd = NULL;
	FILE *f;
	int rc;

	if (access(PYTHON, X_OK))
		return -ENOENT;
	setenv("KC_TEST_PY", script, 1);
	if (asprintf(&cmd, PYTHON " -c \"$KC_TEST_PY\" %s", args) < 0)
		return -ENOMEM;
	f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return -errno;
	line[0] = '\0';
	if (!fgets(line, (int)cap, f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	rc = pclose(f);
	return rc == 0 ? 0 : -EPROTO;
}

/*
 * One sequenced message (PROTOCOL.md 4 SEND, 5 MESSAGE). As on the wire, the
 * MACed prefix is label || sid || u64 seq || iv || u32 ct_len, so the iv is
 * authenticated through the aad a receiver rebuilds from the wire fields.
 */
struct msg {
	const char *label;
	uint8_t sid[KC_SID_LEN];
	uint64_t seq;
	uint8_t aad[AAD_MAX];
	size_t aad_len;
	uint8_t iv[KC_IV_LEN];
	uint8_t *pt;
	size_t pt_len;
	uint8_t *ct;
	size_t ct_len;
	uint8_t mac[KC_MAC_LEN];
};

/* Written out here rather than with kc_seq_aad, to test against. */
static void msg_build_aad(struct msg *m, size_t ct_len)
{
	size_t label_len = strlen(m->label), i;
	uint8_t *p = m->aad;

	memcpy(p, m->label, label_len);
	p += label_len;
	memcpy(p, m->sid, KC_SID_LEN);
	p += KC_SID_LEN;
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(m->seq >> (56 - 8 * i));
	memcpy(p, m->iv, KC_IV_LEN);
	p += KC_IV_LEN;
	for (i = 0; i < 4; i++)
		*p++ = (uint8_t)(ct_len >> (24 - 8 * i));
	m->aad_len = (size_t)(p - m->aad);
}

static void msg_init(struct msg *m, size_t pt_len, uint64_t seq)
{
	memset(m, 0, sizeof(*m));
	m->label = seq % 2 ? KC_LABEL_SEND : KC_LABEL_E2E;
	kc_random(m->sid, sizeof(m->sid));
	m->seq = seq;
	kc_random(m->iv, sizeof(m->iv));
	msg_build_aad(m, kc_cbc_ct_len(pt_len));
	m->pt_len = pt_len;
	m->pt = malloc(pt_len + 1);
	kc_random(m->pt, pt_len);
	m->ct = malloc(kc_cbc_ct_len(pt_len));
}

static void msg_free(struct msg *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].pt);
		free(m[i].ct);
	}
}

/* Seals msgs in one batch; returns the batch result or the first status. */
static int seal_msgs(struct kc_crypto *c, kc_handle_t s, struct msg *m,
		     size_t n)
{
	struct kc_seal_req *r = calloc(n, sizeof(*r));
	int ret;
	size_t i;

	for (i = 0; i < n; i++) {
		r[i] = (struct kc_seal_req){
			.session = s, .aad = m[i].aad, .aad_len = m[i].aad_len,
			.iv = m[i].iv, .pt = m[i].pt, .pt_len = m[i].pt_len,
			.ct = m[i].ct,
		};
	}
	ret = kc_seal_batch(c, r, n);
	for (i = 0; !ret && i < n; i++) {
		m[i].ct_len = r[i].ct_len;
		memcpy(m[i].mac, r[i].mac, KC_MAC_LEN);
		ret = r[i].status;
	}
	free(r);
	return ret;
}

static struct kc_open_req open_req(kc_handle_t s, const struct msg *m,
				   uint8_t *pt)
{
	return (struct kc_open_req){
		.session = s, .aad = m->aad, .aad_len = m->aad_len,
		.iv = m->iv, .ct = m->ct, .ct_len = m->ct_len,
		.mac = m->mac, .pt = pt,
	};
}

static bool opened_as(const struct kc_open_req *r, const struct msg *m)
{
	return r->status == 0 && r->pt_len == m->pt_len &&
	       !memcmp(r->pt, m->pt, m->pt_len);
}

static EVP_PKEY *rsa_keygen(unsigned int bits, unsigned int e)
{
	size_t nbits = bits;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &nbits),
		OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	if (ctx && EVP_PKEY_keygen_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_params(ctx, params))
		EVP_PKEY_generate(ctx, &key);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* PKCS#8 DER of a private key, as the agent would read it from disk. */
static int pkcs8_der(EVP_PKEY *key, uint8_t **der)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	int len;

	*der = NULL;
	if (!p8)
		return -1;
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return len;
}

/* A PSS signature with an arbitrary salt length, made with EVP directly. */
static int pss_sign_salt(EVP_PKEY *key, const uint8_t *m, size_t len,
			 int salt, uint8_t sig[KC_RSA_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len = KC_RSA_LEN;
	int ok;

	ok = md && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
	     EVP_DigestSign(md, sig, &sig_len, m, len) > 0;
	EVP_MD_CTX_free(md);
	return ok && sig_len == KC_RSA_LEN ? 0 : -1;
}

FIXTURE(ops)
{
	struct kc_crypto *c;
	uint8_t k[KC_KEY_LEN];
	kc_handle_t s;
};

FIXTURE_VARIANT(ops)
{
	const char *tier;
};

FIXTURE_VARIANT_ADD(ops, user)
{
	.tier = "user",
};

FIXTURE_VARIANT_ADD(ops, afalg)
{
	.tier = "afalg",
};

FIXTURE_VARIANT_ADD(ops, auto)
{
	.tier = "auto",
};

FIXTURE_VARIANT_ADD(ops, kmod)
{
	.tier = "kmod",
};

FIXTURE_SETUP(ops)
{
	int ret = kc_crypto_open(variant->tier, &self->c);
	char why[256];

	if (ret == -ENOENT) {
		kc_crypto_available(variant->tier, why, sizeof(why));
		SKIP(return, "tier %s is not available: %s", variant->tier,
		     why);
	}
	ASSERT_EQ(0, ret);
	kc_random(self->k, sizeof(self->k));
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &self->s));
}

FIXTURE_TEARDOWN(ops)
{
	kc_crypto_close(self->c);
}

static const size_t sizes[] = { 0, 1, 15, 16, 17, 4096 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/*
 * The VM lab runs these under TCG, 4-25 times slower, and some start
 * Python for every message: the harness's 30 s default is too short there.
 */
#define OPS_TEST(name) TEST_F_TIMEOUT(ops, name, 300)
#define TIERS_TEST(name) TEST_F_TIMEOUT(tiers, name, 300)

OPS_TEST(roundtrip_mixed_sizes)
{
	struct msg m[NSIZES];
	struct kc_open_req r[NSIZES];
	uint8_t *pt[NSIZES];
	size_t i;

	for (i = 0; i < NSIZES; i++)
		msg_init(&m[i], sizes[i], i + 1);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, m, NSIZES));
	for (i = 0; i < NSIZES; i++) {
		ASSERT_EQ(kc_cbc_ct_len(sizes[i]), m[i].ct_len);
		pt[i] = malloc(m[i].ct_len);
		r[i] = open_req(self->s, &m[i], pt[i]);
	}
	ASSERT_EQ(0, kc_open_batch(self->c, r, NSIZES));
	for (i = 0; i < NSIZES; i++) {
		EXPECT_TRUE(opened_as(&r[i], &m[i]))
			TH_LOG("size %zu: status %d", sizes[i], r[i].status);
		free(pt[i]);
	}
	msg_free(m, NSIZES);
}

/* What Python makes of a sealed message, given only K. */
static int python_open(const uint8_t k[KC_KEY_LEN], const struct msg *m,
		       char *line, size_t cap)
{
	char *hk = hex_dup(k, KC_KEY_LEN), *haad = hex_dup(m->aad, m->aad_len);
	char *hiv = hex_dup(m->iv, KC_IV_LEN), *hct = hex_dup(m->ct, m->ct_len);
	char *hmac = hex_dup(m->mac, KC_MAC_LEN), *args = NULL;
	int ret = -ENOMEM;

	if (hk && haad && hiv && hct && hmac &&
	    asprintf(&args, "'%s' '%s' '%s' '%s' '%s'", hk, haad, hiv, hct,
		     hmac) > 0)
		ret = python_line(PY_OPEN, args, line, cap);
	free(hk);
	free(haad);
	free(hiv);
	free(hct);
	free(hmac);
	free(args);
	return ret;
}

/* The seal output is standard AES-256-CBC and HMAC-SHA256 under Km. */
OPS_TEST(seal_matches_python)
{
	struct msg m[NSIZES];
	char line[2 * 4096 + 64], *want;
	size_t i;

	for (i = 0; i < NSIZES; i++)
		msg_init(&m[i], sizes[i], 1000 + i);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, m, NSIZES));
	for (i = 0; i < NSIZES; i++) {
		ASSERT_EQ(0, python_open(self->k, &m[i], line, sizeof(line)))
			TH_LOG("python3 with cryptography is needed");
		want = hex_dup(m[i].pt, m[i].pt_len);
		EXPECT_EQ(0, strncmp(line, "pt:", 3)) TH_LOG("%s", line);
		EXPECT_STREQ(want, line + 3);
		free(want);
	}
	msg_free(m, NSIZES);
}

/* Km = HMAC-SHA256(K, "kcourier/1 mac" || 0x01), computed by Python. */
TEST(km_known_answer)
{
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN], want[KC_KEY_LEN];
	char hk[2 * KC_KEY_LEN + 3], line[128];
	int round;

	for (round = 0; round < 3; round++) {
		kc_random(k, sizeof(k));
		if (round == 0)
			memset(k, 0, sizeof(k));
		hk[0] = '\'';
		kc_hex(k, sizeof(k), hk + 1);
		strcat(hk, "'");
		ASSERT_EQ(0, python_line(PY_KM, hk, line, sizeof(line)));
		ASSERT_EQ(KC_KEY_LEN, test_unhex(line, want, sizeof(want)));
		ASSERT_EQ(0, kc_derive_km(k, km));
		EXPECT_EQ(0, memcmp(km, want, KC_KEY_LEN)) TH_LOG("K %s", hk);
	}
}

/*
 * Every single-bit flip in aad, iv, ct or mac fails with BAD_MAC, before
 * any decryption (pt untouched), and the good requests around it in the
 * same batch still open.
 */
OPS_TEST(bit_flips)
{
	struct msg m[3], bad;
	uint8_t pt[3][64];
	struct kc_open_req r[3];
	static const char *const names[] = { "aad", "iv", "ct", "mac" };
	uint8_t *fields[4];
	size_t lens[4], f, bit, i;
	int flips = 0;

	for (i = 0; i < 3; i++)
		msg_init(&m[i], 20 + i * 10, i + 1);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, m, 3));
	bad = m[1];
	bad.ct = malloc(m[1].ct_len);
	fields[0] = bad.aad;
	fields[1] = bad.iv;
	fields[2] = bad.ct;
	fields[3] = bad.mac;
	lens[0] = bad.aad_len;
	lens[1] = KC_IV_LEN;
	lens[2] = m[1].ct_len;
	lens[3] = KC_MAC_LEN;
	for (f = 0; f < 4; f++) {
		for (bit = 0; bit < lens[f] * 8; bit++) {
			memcpy(bad.aad, m[1].aad, sizeof(bad.aad));
			memcpy(bad.iv, m[1].iv, KC_IV_LEN);
			memcpy(bad.ct, m[1].ct, m[1].ct_len);
			memcpy(bad.mac, m[1].mac, KC_MAC_LEN);
			fields[f][bit / 8] ^= 1u << (bit % 8);
			/* A receiver rebuilds the aad from the iv it read. */
			if (fields[f] == bad.iv)
				msg_build_aad(&bad, bad.ct_len);
			memset(pt, 0xa5, sizeof(pt));
			r[0] = open_req(self->s, &m[0], pt[0]);
			r[1] = open_req(self->s, &bad, pt[1]);
			r[2] = open_req(self->s, &m[2], pt[2]);
			ASSERT_EQ(0, kc_open_batch(self->c, r, 3));
			ASSERT_EQ(-KC_BAD_MAC, r[1].status)
				TH_LOG("%s bit %zu", names[f], bit);
			ASSERT_EQ(0, r[1].pt_len);
			for (i = 0; i < sizeof(pt[1]); i++)
				ASSERT_EQ(0xa5, pt[1][i]);
			ASSERT_TRUE(opened_as(&r[0], &m[0]));
			ASSERT_TRUE(opened_as(&r[2], &m[2]));
			flips++;
		}
	}
	ksft_print_msg("%d single-bit flips in aad, iv, ct and mac, each "
		       "BAD_MAC alone in its batch\n", flips);
	ASSERT_EQ((m[1].aad_len + KC_IV_LEN + m[1].ct_len + KC_MAC_LEN) * 8,
		  flips);
	free(bad.ct);
	msg_free(m, 3);
}

/* Raw AES-256-CBC without padding, so the test can make bad padding. */
static size_t cbc_raw(const uint8_t *k, const uint8_t *iv, const uint8_t *in,
		      size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;

	if (!ctx || !EVP_EncryptInit_ex2(ctx, EVP_aes_256_cbc(), k, iv, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_EncryptUpdate(ctx, out, &n, in, (int)len) ||
	    !EVP_EncryptFinal_ex(ctx, out + n, &fin))
		n = -1;
	EVP_CIPHER_CTX_free(ctx);
	return n < 0 ? 0 : (size_t)(n + fin);
}

/*
 * A correct MAC over a ciphertext whose padding is wrong, whose length is
 * not a multiple of 16, or that is empty: the same BAD_MAC as a bad tag.
 */
OPS_TEST(bad_padding_is_bad_mac)
{
	uint8_t km[KC_KEY_LEN], block[32], ct[32], pt[32];
	static const uint8_t last[] = { 0x00, 0x11, 0xff, 0x02 };
	struct kc_iov iov = { ct, 0 };
	struct msg m;
	struct kc_open_req r;
	size_t i, ct_lens[] = { 0, 15, 31, 32 };

	ASSERT_EQ(0, kc_derive_km(self->k, km));
	memset(&m, 0, sizeof(m));
	kc_random(m.iv, sizeof(m.iv));
	m.ct = ct;
	for (i = 0; i < sizeof(ct_lens) / sizeof(ct_lens[0]); i++) {
		/* Padding bytes ...03 02 (last[3]) or a bad final byte. */
		memset(block, 0x03, sizeof(block));
		block[31] = last[i];
		ASSERT_EQ(32, cbc_raw(self->k, m.iv, block, 32, ct));
		m.ct_len = ct_lens[i];
		iov.len = ct_lens[i];
		ASSERT_EQ(0, kc_hmac_sha256(km, KC_KEY_LEN, &iov, 1, m.mac));
		r = open_req(self->s, &m, pt);
		ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
		EXPECT_EQ(-KC_BAD_MAC, r.status) TH_LOG("ct_len %zu", ct_lens[i]);
		EXPECT_EQ(0, r.pt_len);
	}
	/* The same construction with good padding does open (control). */
	block[31] = 0x03;
	ASSERT_EQ(32, cbc_raw(self->k, m.iv, block, 32, ct));
	m.ct_len = iov.len = 32;
	ASSERT_EQ(0, kc_hmac_sha256(km, KC_KEY_LEN, &iov, 1, m.mac));
	r = open_req(self->s, &m, pt);
	ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(29, r.pt_len);
	explicit_bzero(km, sizeof(km));
}

OPS_TEST(unknown_and_dropped_handles)
{
	struct msg m[2], scratch;
	uint8_t pt[4][64];
	struct kc_open_req r[4];
	kc_handle_t other, again;
	uint8_t k2[KC_KEY_LEN];

	kc_random(k2, sizeof(k2));
	ASSERT_EQ(0, kc_session_install(self->c, NULL, k2, &other));
	msg_init(&m[0], 10, 1);
	msg_init(&m[1], 10, 2);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, &m[0], 1));
	ASSERT_EQ(0, seal_msgs(self->c, other, &m[1], 1));

	/* Never issued, KC_HANDLE_NONE, a dropped one, between good ones. */
	kc_session_drop(self->c, other);
	r[0] = open_req(self->s, &m[0], pt[0]);
	r[1] = open_req(other, &m[1], pt[1]);
	r[2] = open_req(KC_HANDLE_NONE, &m[0], pt[2]);
	r[3] = open_req(0x00abcdef, &m[0], pt[3]);
	ASSERT_EQ(0, kc_open_batch(self->c, r, 4));
	EXPECT_TRUE(opened_as(&r[0], &m[0]));
	EXPECT_EQ(-KC_UNKNOWN_SESSION, r[1].status);
	EXPECT_EQ(-KC_UNKNOWN_SESSION, r[2].status);
	EXPECT_EQ(-KC_UNKNOWN_SESSION, r[3].status);
	scratch = m[1];
	scratch.ct = malloc(m[1].ct_len);
	EXPECT_EQ(-KC_UNKNOWN_SESSION, seal_msgs(self->c, other, &scratch, 1));
	free(scratch.ct);

	/* A new session may take the dropped slot: the old handle stays dead. */
	ASSERT_EQ(0, kc_session_install(self->c, NULL, k2, &again));
	EXPECT_NE(other, again);
	r[1] = open_req(other, &m[1], pt[1]);
	ASSERT_EQ(0, kc_open_batch(self->c, &r[1], 1));
	EXPECT_EQ(-KC_UNKNOWN_SESSION, r[1].status);
	r[1] = open_req(again, &m[1], pt[1]);
	ASSERT_EQ(0, kc_open_batch(self->c, &r[1], 1));
	EXPECT_TRUE(opened_as(&r[1], &m[1]));
	kc_session_drop(self->c, again);
	kc_session_drop(self->c, again); /* twice is harmless */
	msg_free(m, 2);
}

/* An RSA-2048 key loaded into the tier as the agent's seal key. */
static kc_handle_t load_seal_key(struct __test_metadata *_metadata,
				 struct kc_crypto *c, EVP_PKEY **key)
{
	kc_handle_t h = KC_HANDLE_NONE;
	uint8_t *der = NULL;
	int len;

	if (kc_rsa_generate(key))
		return KC_HANDLE_NONE;
	len = pkcs8_der(*key, &der);
	if (len > 0 && c->ops->load_unwrap_key(c, der, (size_t)len, &h))
		h = KC_HANDLE_NONE;
	OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
	return h;
}

/* Seals the same message under two sessions: identical bytes expected. */
static bool same_seal(struct kc_crypto *c, kc_handle_t a, kc_handle_t b)
{
	struct msg m[2];
	bool same;

	msg_init(&m[0], 33, 12);
	m[1] = m[0];
	m[1].ct = malloc(kc_cbc_ct_len(m[0].pt_len));
	same = !seal_msgs(c, a, &m[0], 1) && !seal_msgs(c, b, &m[1], 1) &&
	       m[0].ct_len == m[1].ct_len &&
	       !memcmp(m[0].ct, m[1].ct, m[0].ct_len) &&
	       !memcmp(m[0].mac, m[1].mac, KC_MAC_LEN);
	free(m[1].ct);
	msg_free(m, 1);
	return same;
}

OPS_TEST(unwrap_equals_install)
{
	uint8_t wrapped[KC_RSA_LEN], *spki = NULL;
	char *hspki, *hk, *args = NULL, line[1024];
	kc_handle_t key, s1, s2;
	EVP_PKEY *pkey = NULL;
	size_t spki_len;

	key = load_seal_key(_metadata, self->c, &pkey);
	ASSERT_NE(KC_HANDLE_NONE, key);
	ASSERT_EQ(0, kc_oaep_wrap(pkey, self->k, KC_KEY_LEN, wrapped));
	ASSERT_EQ(0, kc_session_unwrap(self->c, key, NULL, wrapped, &s1));
	EXPECT_TRUE(same_seal(self->c, self->s, s1));

	/* A wrap made by Python's cryptography unwraps to the same K. */
	ASSERT_EQ(0, kc_spki_der(pkey, &spki, &spki_len));
	hspki = hex_dup(spki, spki_len);
	hk = hex_dup(self->k, KC_KEY_LEN);
	ASSERT_LT(0, asprintf(&args, "wrap %s %s", hspki, hk));
	ASSERT_EQ(0, python_line(PY_KEYS, args, line, sizeof(line)));
	ASSERT_EQ(KC_RSA_LEN, test_unhex(line, wrapped, sizeof(wrapped)));
	ASSERT_EQ(0, kc_session_unwrap(self->c, key, NULL, wrapped, &s2));
	EXPECT_TRUE(same_seal(self->c, self->s, s2));

	/* An unloaded key handle no longer unwraps. */
	self->c->ops->unload_key(self->c, key);
	EXPECT_EQ(-ENOENT, kc_session_unwrap(self->c, key, NULL, wrapped, &s2));
	free(args);
	free(hspki);
	free(hk);
	OPENSSL_free(spki);
	EVP_PKEY_free(pkey);
}

/*
 * A wrap that does not give 32 bytes still makes a session (random K), and
 * messages sealed under the real K then fail as BAD_MAC.
 */
OPS_TEST(bad_wrap_gives_bad_mac_session)
{
	uint8_t wrapped[KC_RSA_LEN], short_key[16], pt[64];
	kc_handle_t key, s_bad, s_short;
	EVP_PKEY *pkey = NULL;
	struct kc_open_req r;
	struct msg m;

	key = load_seal_key(_metadata, self->c, &pkey);
	ASSERT_NE(KC_HANDLE_NONE, key);
	msg_init(&m, 40, 20);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, &m, 1));

	ASSERT_EQ(0, kc_oaep_wrap(pkey, self->k, KC_KEY_LEN, wrapped));
	wrapped[100] ^= 0x40;
	s_bad = KC_HANDLE_NONE;
	ASSERT_EQ(-EBADMSG,
		  kc_session_unwrap(self->c, key, NULL, wrapped, &s_bad));
	ASSERT_NE(KC_HANDLE_NONE, s_bad);
	r = open_req(s_bad, &m, pt);
	ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
	EXPECT_EQ(-KC_BAD_MAC, r.status);

	/* Well-formed OAEP of 16 bytes: not a session key either. */
	memcpy(short_key, self->k, sizeof(short_key));
	ASSERT_EQ(0, kc_oaep_wrap(pkey, short_key, sizeof(short_key), wrapped));
	s_short = KC_HANDLE_NONE;
	ASSERT_EQ(-EBADMSG,
		  kc_session_unwrap(self->c, key, NULL, wrapped, &s_short));
	ASSERT_NE(KC_HANDLE_NONE, s_short);
	EXPECT_NE(s_bad, s_short);
	r = open_req(s_short, &m, pt);
	ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
	EXPECT_EQ(-KC_BAD_MAC, r.status);
	EXPECT_FALSE(same_seal(self->c, s_bad, s_short));
	msg_free(&m, 1);
	EVP_PKEY_free(pkey);
}

/* The kernel's key for the seal key: asymmetric, named, unreadable. */
static void expect_kernel_seal_key(struct __test_metadata *_metadata,
				   key_serial_t ring, key_serial_t serial)
{
	char *desc = NULL;

	EXPECT_TRUE(test_ring_links(ring, serial));
	ASSERT_LT(0, keyctl_describe_alloc(serial, &desc));
	EXPECT_EQ(0, strncmp(desc, "asymmetric;", 11)) TH_LOG("%s", desc);
	EXPECT_NE(NULL, strstr(desc, ";kcourier:rsa:")) TH_LOG("%s", desc);
	free(desc);
	EXPECT_GT(0, keyctl_read_alloc(serial, (void **)&desc));
}

/* OAEP(pub, K) made by Python's cryptography, not by the code under test. */
static int python_wrap(EVP_PKEY *pkey, const uint8_t k[KC_KEY_LEN],
		       uint8_t wrapped[KC_RSA_LEN])
{
	char *hspki = NULL, *hk = NULL, *args = NULL, line[1024];
	uint8_t *spki = NULL;
	size_t spki_len;
	int ret = kc_spki_der(pkey, &spki, &spki_len);

	if (!ret) {
		hspki = hex_dup(spki, spki_len);
		hk = hex_dup(k, KC_KEY_LEN);
		ret = -ENOMEM;
	}
	if (hspki && hk && asprintf(&args, "wrap %s %s", hspki, hk) > 0)
		ret = python_line(PY_KEYS, args, line, sizeof(line));
	if (!ret && test_unhex(line, wrapped, KC_RSA_LEN) != KC_RSA_LEN)
		ret = -EPROTO;
	free(args);
	free(hk);
	free(hspki);
	OPENSSL_free(spki);
	return ret;
}

/*
 * Where the seal key lives (unwrap_key_serial), tier by tier. The user
 * tier is given the keyring first; afalg always has its own "kcourier"
 * keyring, so it is given none. Where the kernel has pkcs8_key_parser the
 * key is an asymmetric key in that keyring and the kernel's RSA unwraps;
 * elsewhere the tier says why not and OpenSSL does. Either way a wrap of
 * a known K gives that K, and after unload the handle is gone, and the
 * kernel's key with it.
 */
OPS_TEST(unwrap_key_where)
{
	uint8_t wrapped[KC_RSA_LEN], em[KC_RSA_LEN];
	kc_handle_t key, s = KC_HANDLE_NONE, s_bad = KC_HANDLE_NONE;
	const struct kc_crypto_ops *ops = self->c->ops;
	struct kc_keyring kr;
	EVP_PKEY *pkey = NULL;
	int serial;

	ASSERT_TRUE(ops->unwrap_key_serial != NULL ? 1 : 0);
	ASSERT_EQ(0, kc_keyring_open(&kr));
	if (!strcmp(ops->name, "user"))
		ASSERT_EQ(0, ops->set_keyring(self->c, &kr, 600));
	key = load_seal_key(_metadata, self->c, &pkey);
	ASSERT_NE(KC_HANDLE_NONE, key);
	serial = ops->unwrap_key_serial(self->c, key);
	ksft_print_msg("tier %s: seal key %s%d (%s)\n", ops->name,
		       serial > 0 ? "in the kernel, serial " : "with OpenSSL, ",
		       serial, serial > 0 ? "pkey_decrypt" : strerror(-serial));
	if (serial > 0) {
		expect_kernel_seal_key(_metadata, kr.ring, serial);
	} else {
		/* A reason, and only where the kernel cannot take the key. */
		EXPECT_NE(-ENOENT, serial);
		EXPECT_NE(-ENOKEY, serial); /* both tiers had a keyring */
		EXPECT_FALSE(test_parser_module_loaded())
			TH_LOG("pkcs8_key_parser is loaded, yet: %s",
			       strerror(-serial));
		if (!test_kernel_lacks_parser(serial))
			TH_LOG("not the no-parser answer: %s",
			       strerror(-serial));
	}

	ASSERT_EQ(0, python_wrap(pkey, self->k, wrapped))
		TH_LOG("python3 with cryptography is needed");
	ASSERT_EQ(0, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
	EXPECT_TRUE(same_seal(self->c, self->s, s));
	/* One bit off: -EBADMSG, and a session under some other K. */
	wrapped[KC_RSA_LEN / 2] ^= 0x08;
	ASSERT_EQ(-EBADMSG,
		  kc_session_unwrap(self->c, key, NULL, wrapped, &s_bad));
	ASSERT_NE(KC_HANDLE_NONE, s_bad);
	EXPECT_FALSE(same_seal(self->c, self->s, s_bad));
	wrapped[KC_RSA_LEN / 2] ^= 0x08;

	ops->unload_key(self->c, key);
	EXPECT_EQ(-ENOENT, ops->unwrap_key_serial(self->c, key));
	EXPECT_EQ(-ENOENT, kc_session_unwrap(self->c, key, NULL, wrapped, &s));
	if (serial > 0) {
		EXPECT_FALSE(test_ring_links(kr.ring, serial));
		EXPECT_GT(0, kc_rsa_keyring_raw(serial, wrapped, em));
	}
	ops->unload_key(self->c, key); /* twice is harmless */
	explicit_bzero(em, sizeof(em));
	EVP_PKEY_free(pkey);
}

/* Only RSA-2048 / 65537 PKCS#8 is accepted as an unwrap key. */
OPS_TEST(load_unwrap_key_policy)
{
	EVP_PKEY *small = rsa_keygen(1024, 65537);
	uint8_t *der = NULL, junk[64];
	kc_handle_t h;
	int len;

	ASSERT_NE(NULL, small);
	len = pkcs8_der(small, &der);
	ASSERT_LT(0, len);
	EXPECT_EQ(-EINVAL,
		  self->c->ops->load_unwrap_key(self->c, der, (size_t)len, &h));
	kc_random(junk, sizeof(junk));
	EXPECT_EQ(-EINVAL,
		  self->c->ops->load_unwrap_key(self->c, junk, sizeof(junk), &h));
	OPENSSL_free(der);
	EVP_PKEY_free(small);
}

/* Tens of thousands of live sessions: handles stay valid as the table grows. */
OPS_TEST(many_sessions)
{
	enum { N = 20000 };
	kc_handle_t *h = calloc(N, sizeof(*h));
	uint8_t k[KC_KEY_LEN], pt[64];
	struct kc_open_req r;
	struct msg m;
	size_t i;

	msg_init(&m, 25, 10);
	ASSERT_EQ(0, seal_msgs(self->c, self->s, &m, 1));
	for (i = 0; i < N; i++) {
		kc_random(k, sizeof(k));
		if (i % 1000 == 0)
			memcpy(k, self->k, sizeof(k));
		ASSERT_EQ(0, kc_session_install(self->c, NULL, k, &h[i]));
	}
	for (i = 0; i < N; i += 1000) {
		r = open_req(h[i], &m, pt);
		ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
		ASSERT_TRUE(opened_as(&r, &m)) TH_LOG("session %zu", i);
		r = open_req(h[i + 1], &m, pt);
		ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
		ASSERT_EQ(-KC_BAD_MAC, r.status);
	}
	for (i = 0; i < N; i += 2)
		kc_session_drop(self->c, h[i]);
	r = open_req(h[1000], &m, pt);
	ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
	ASSERT_EQ(-KC_UNKNOWN_SESSION, r.status);
	r = open_req(self->s, &m, pt);
	ASSERT_EQ(0, kc_open_batch(self->c, &r, 1));
	ASSERT_TRUE(opened_as(&r, &m));
	explicit_bzero(k, sizeof(k));
	msg_free(&m, 1);
	free(h);
}

/* Batches on several threads while sessions come and go. */
struct worker {
	struct kc_crypto *c;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t k[KC_KEY_LEN], pt[8][128];
	struct kc_open_req r[8];
	struct msg m[8];
	kc_handle_t s;
	int round, i;

	for (round = 0; round < 100; round++) {
		kc_random(k, sizeof(k));
		if (kc_session_install(w->c, NULL, k, &s)) {
			w->failures++;
			continue;
		}
		for (i = 0; i < 8; i++)
			msg_init(&m[i], (size_t)(round + i * 13) % 100,
				 (uint64_t)i + 1);
		if (seal_msgs(w->c, s, m, 8))
			w->failures++;
		for (i = 0; i < 8; i++)
			r[i] = open_req(s, &m[i], pt[i]);
		if (kc_open_batch(w->c, r, 8))
			w->failures++;
		for (i = 0; i < 8; i++)
			w->failures += !opened_as(&r[i], &m[i]);
		kc_session_drop(w->c, s);
		msg_free(m, 8);
	}
	return NULL;
}

OPS_TEST(threads)
{
	struct worker w[4];
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = self->c };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_run, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].failures);
	}
}

TEST(tier_names)
{
	struct kc_crypto *c = (struct kc_crypto *)&c;
	char why[256];
	int ret;

	/* kmod opens exactly where it says it is available, else says why. */
	ret = kc_crypto_available("kmod", why, sizeof(why));
	if (ret) {
		EXPECT_EQ(-ENOENT, ret);
		EXPECT_NE(NULL, strstr(why, "kcourier")) TH_LOG("%s", why);
		EXPECT_EQ(-ENOENT, kc_crypto_open("kmod", &c));
		EXPECT_EQ(NULL, c);
	} else {
		ASSERT_EQ(0, kc_crypto_open("kmod", &c));
		EXPECT_STREQ("kmod", c->ops->name);
		kc_crypto_close(c);
	}
	EXPECT_EQ(-EINVAL, kc_crypto_open("nonsense", &c));
	EXPECT_EQ(-EINVAL, kc_crypto_available("nonsense", why, sizeof(why)));
	EXPECT_EQ(0, kc_crypto_available("user", why, sizeof(why)));
	ASSERT_EQ(0, kc_crypto_open("user", &c));
	EXPECT_STREQ("user", c->ops->name);
	kc_crypto_close(c);
	kc_crypto_close(NULL);

	/* afalg opens exactly where it says it is available. */
	ret = kc_crypto_available("afalg", why, sizeof(why));
	if (ret) {
		EXPECT_EQ(-ENOENT, ret);
		EXPECT_NE(0, why[0]);
		EXPECT_EQ(-ENOENT, kc_crypto_open("afalg", &c));
		EXPECT_EQ(NULL, c);
		ksft_print_msg("afalg not available: %s\n", why);
		return;
	}
	ASSERT_EQ(0, kc_crypto_open("afalg", &c));
	EXPECT_STREQ("afalg", c->ops->name);
	kc_crypto_close(c);
}

/* "auto" opens what kc_crypto_pick chose, and the choice fits its numbers. */
TEST(auto_pick)
{
	struct kc_crypto_pick p;
	struct kc_crypto *c;
	char line[512];
	unsigned int i, best = 0, kernel_tiers;

	ASSERT_EQ(0, kc_crypto_pick(&p));
	kc_crypto_pick_describe(&p, line, sizeof(line));
	ksft_print_msg("auto: %s\n", line);
	EXPECT_EQ(0, strncmp(line, p.tier, strlen(p.tier)));
	ASSERT_EQ(0, kc_crypto_open("auto", &c));
	EXPECT_STREQ(p.tier, c->ops->name);
	kc_crypto_close(c);
	kernel_tiers = !kc_crypto_available("afalg", NULL, 0) +
		       !kc_crypto_available("kmod", NULL, 0);
	if (!kernel_tiers) {
		EXPECT_STREQ("user", p.tier);
		EXPECT_EQ(0, p.nmeasured);
		EXPECT_NE(0, p.why[0]);
		return;
	}
	ASSERT_EQ(1 + kernel_tiers, p.nmeasured) TH_LOG("%s", p.why);
	for (i = 0; i < p.nmeasured; i++) {
		EXPECT_LT(0, p.measured[i].opens_per_s);
		if (p.measured[i].opens_per_s > p.measured[best].opens_per_s)
			best = i;
	}
	EXPECT_STREQ(p.measured[best].name, p.tier);
}

/*
 * The user tier and a kernel tier (afalg, kmod) side by side on the same
 * K: the same inputs (the API takes the IV from the caller) must give the
 * same bytes, each opens what the other sealed, and each fails the same
 * way on the same bad input. "afalg" below is the kernel tier of the
 * variant.
 */
FIXTURE(tiers)
{
	struct kc_crypto *user, *afalg;
	uint8_t k[KC_KEY_LEN];
	kc_handle_t su, sa;
};

FIXTURE_VARIANT(tiers)
{
	const char *tier;
};

FIXTURE_VARIANT_ADD(tiers, afalg)
{
	.tier = "afalg",
};

FIXTURE_VARIANT_ADD(tiers, kmod)
{
	.tier = "kmod",
};

FIXTURE_SETUP(tiers)
{
	char why[256];

	if (kc_crypto_available(variant->tier, why, sizeof(why)))
		SKIP(return, "tier %s is not available: %s", variant->tier,
		     why);
	ASSERT_EQ(0, kc_crypto_open("user", &self->user));
	ASSERT_EQ(0, kc_crypto_open(variant->tier, &self->afalg));
	kc_random(self->k, sizeof(self->k));
	ASSERT_EQ(0, kc_session_install(self->user, NULL, self->k, &self->su));
	ASSERT_EQ(0, kc_session_install(self->afalg, NULL, self->k, &self->sa));
}

FIXTURE_TEARDOWN(tiers)
{
	kc_crypto_close(self->user);
	kc_crypto_close(self->afalg);
}

/* A copy of m with its own plaintext and ciphertext buffers. */
static void msg_twin(const struct msg *m, struct msg *twin)
{
	*twin = *m;
	twin->pt = malloc(m->pt_len + 1);
	memcpy(twin->pt, m->pt, m->pt_len);
	twin->ct = malloc(kc_cbc_ct_len(m->pt_len));
}

static bool open_one_as(struct kc_crypto *c, kc_handle_t s, const struct msg *m)
{
	uint8_t *pt = malloc(m->ct_len ? m->ct_len : 1);
	struct kc_open_req r = open_req(s, m, pt);
	bool ok = !kc_open_batch(c, &r, 1) && opened_as(&r, m);

	free(pt);
	return ok;
}

/* Sizes around block edges, and past the kernel's 64 KiB send chunks. */
static const size_t tier_sizes[] = {
	0, 1, 15, 16, 17, 255, 256, 1024, 16384, 65535, 65536, 65537,
	200000, 1048576 - 1024, 1048576,
};
#define NTIER_SIZES (sizeof(tier_sizes) / sizeof(tier_sizes[0]))

TIERS_TEST(same_bytes_and_cross_open)
{
	struct msg mu, ma;
	size_t i, size;

	for (i = 0; i < NTIER_SIZES; i++) {
		size = tier_sizes[i];
		msg_init(&mu, size, i + 1);
		msg_twin(&mu, &ma);
		ASSERT_EQ(0, seal_msgs(self->user, self->su, &mu, 1));
		ASSERT_EQ(0, seal_msgs(self->afalg, self->sa, &ma, 1));
		ASSERT_EQ(mu.ct_len, ma.ct_len) TH_LOG("size %zu", size);
		EXPECT_EQ(0, memcmp(mu.ct, ma.ct, mu.ct_len))
			TH_LOG("ciphertexts differ at size %zu", size);
		EXPECT_EQ(0, memcmp(mu.mac, ma.mac, KC_MAC_LEN))
			TH_LOG("MACs differ at size %zu", size);
		EXPECT_TRUE(open_one_as(self->afalg, self->sa, &mu))
			TH_LOG("afalg cannot open user's, size %zu", size);
		EXPECT_TRUE(open_one_as(self->user, self->su, &ma))
			TH_LOG("user cannot open afalg's, size %zu", size);
		msg_free(&mu, 1);
		msg_free(&ma, 1);
	}
}

/* What both tiers must answer for one piece of bad input. */
struct bad_case {
	const char *what;
	int status;
	bool mac_ok;
};

static void open_both(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tiers) *self, const struct msg *m,
		      const struct bad_case *want)
{
	uint8_t pt[2][96];
	struct kc_open_req r[2];

	memset(pt, 0xa5, sizeof(pt));
	r[0] = open_req(self->su, m, pt[0]);
	r[1] = open_req(self->sa, m, pt[1]);
	ASSERT_EQ(0, kc_open_batch(self->user, &r[0], 1));
	ASSERT_EQ(0, kc_open_batch(self->afalg, &r[1], 1));
	EXPECT_EQ(want->status, r[0].status) TH_LOG("user: %s", want->what);
	EXPECT_EQ(want->status, r[1].status) TH_LOG("afalg: %s", want->what);
	EXPECT_EQ(want->mac_ok, r[0].mac_ok) TH_LOG("user: %s", want->what);
	EXPECT_EQ(want->mac_ok, r[1].mac_ok) TH_LOG("afalg: %s", want->what);
	EXPECT_EQ(0, r[0].pt_len);
	EXPECT_EQ(0, r[1].pt_len);
}

/* Bad MAC, bad padding, bad length and unknown session, tier by tier. */
TIERS_TEST(same_failures)
{
	static const struct bad_case flip_ct = { "ct bit", -KC_BAD_MAC, false },
		flip_mac = { "mac bit", -KC_BAD_MAC, false },
		flip_aad = { "aad bit", -KC_BAD_MAC, false },
		padding = { "bad padding", -KC_BAD_MAC, true },
		length = { "ct_len 15", -KC_BAD_MAC, true },
		empty = { "empty ct", -KC_BAD_MAC, true },
		unknown = { "unknown session", -KC_UNKNOWN_SESSION, false };
	uint8_t km[KC_KEY_LEN], block[48];
	struct kc_iov macced[2];
	struct msg m, bad;

	msg_init(&m, 40, 7);
	ASSERT_EQ(0, seal_msgs(self->user, self->su, &m, 1));
	ASSERT_TRUE(open_one_as(self->afalg, self->sa, &m));
	msg_twin(&m, &bad);
	memcpy(bad.ct, m.ct, m.ct_len);
	bad.ct[5] ^= 0x10;
	open_both(_metadata, self, &bad, &flip_ct);
	bad.ct[5] ^= 0x10;
	bad.mac[31] ^= 0x01;
	open_both(_metadata, self, &bad, &flip_mac);
	bad.mac[31] ^= 0x01;
	bad.aad[0] ^= 0x80;
	open_both(_metadata, self, &bad, &flip_aad);
	bad.aad[0] ^= 0x80;

	/* A valid MAC over ciphertext with a bad last padding byte. */
	ASSERT_EQ(0, kc_derive_km(self->k, km));
	memset(block, 0x05, sizeof(block));
	block[47] = 0x04;
	ASSERT_EQ(48, cbc_raw(self->k, bad.iv, block, 48, bad.ct));
	macced[0] = (struct kc_iov){ bad.aad, bad.aad_len };
	macced[1] = (struct kc_iov){ bad.ct, 48 };
	bad.ct_len = 48;
	ASSERT_EQ(0, kc_hmac_sha256(km, KC_KEY_LEN, macced, 2, bad.mac));
	open_both(_metadata, self, &bad, &padding);
	bad.ct_len = macced[1].len = 15;
	ASSERT_EQ(0, kc_hmac_sha256(km, KC_KEY_LEN, macced, 2, bad.mac));
	open_both(_metadata, self, &bad, &length);
	bad.ct_len = macced[1].len = 0;
	ASSERT_EQ(0, kc_hmac_sha256(km, KC_KEY_LEN, macced, 2, bad.mac));
	open_both(_metadata, self, &bad, &empty);

	/* A dropped session in both, the good message in both. */
	kc_session_drop(self->user, self->su);
	kc_session_drop(self->afalg, self->sa);
	open_both(_metadata, self, &m, &unknown);
	explicit_bzero(km, sizeof(km));
	msg_free(&m, 1);
	msg_free(&bad, 1);
}

/* The same RSA key in both tiers unwraps the same wraps to the same K. */
TIERS_TEST(same_unwrap)
{
	uint8_t wrapped[KC_RSA_LEN], *der = NULL;
	kc_handle_t ku, ka, su, sa, su_bad, sa_bad;
	EVP_PKEY *pkey = NULL;
	struct msg mu, ma;
	int len;

	ASSERT_EQ(0, kc_rsa_generate(&pkey));
	len = pkcs8_der(pkey, &der);
	ASSERT_LT(0, len);
	ASSERT_EQ(0, self->user->ops->load_unwrap_key(self->user, der,
						      (size_t)len, &ku));
	ASSERT_EQ(0, self->afalg->ops->load_unwrap_key(self->afalg, der,
						       (size_t)len, &ka));
	ASSERT_EQ(0, kc_oaep_wrap(pkey, self->k, KC_KEY_LEN, wrapped));
	ASSERT_EQ(0, kc_session_unwrap(self->user, ku, NULL, wrapped, &su));
	ASSERT_EQ(0, kc_session_unwrap(self->afalg, ka, NULL, wrapped, &sa));
	msg_init(&mu, 100, 3);
	msg_twin(&mu, &ma);
	ASSERT_EQ(0, seal_msgs(self->user, su, &mu, 1));
	ASSERT_EQ(0, seal_msgs(self->afalg, sa, &ma, 1));
	EXPECT_EQ(0, memcmp(mu.ct, ma.ct, mu.ct_len));
	EXPECT_EQ(0, memcmp(mu.mac, ma.mac, KC_MAC_LEN));
	EXPECT_TRUE(open_one_as(self->afalg, self->sa, &mu));

	/* A broken wrap: a session with a random K in each, both BAD_MAC. */
	wrapped[7] ^= 0x01;
	EXPECT_EQ(-EBADMSG, kc_session_unwrap(self->user, ku, NULL, wrapped,
					      &su_bad));
	EXPECT_EQ(-EBADMSG, kc_session_unwrap(self->afalg, ka, NULL, wrapped,
					      &sa_bad));
	EXPECT_FALSE(open_one_as(self->user, su_bad, &mu));
	EXPECT_FALSE(open_one_as(self->afalg, sa_bad, &mu));
	self->afalg->ops->unload_key(self->afalg, ka);
	EXPECT_EQ(-ENOENT, kc_session_unwrap(self->afalg, ka, NULL, wrapped,
					     &sa_bad));
	msg_free(&mu, 1);
	msg_free(&ma, 1);
	OPENSSL_clear_free(der, (size_t)len);
	EVP_PKEY_free(pkey);
}

/* kcourier:<sid-hex>:<role> as a logon key, or -1 with errno. */
static key_serial_t find_logon(key_serial_t ring, const uint8_t *sid,
			       const char *role, const char *type)
{
	char name[KC_KEYNAME_MAX];

	kc_keyring_name(sid, role, name);
	return (key_serial_t)keyctl_search(ring, type, name, 0);
}

/* The key is a logon key that user space cannot read back. */
static void expect_sealed_logon(struct __test_metadata *_metadata,
				struct kc_keyring *kr, const uint8_t *sid,
				const char *role)
{
	key_serial_t serial = find_logon(kr->ring, sid, role, "logon");
	char *desc = NULL;
	uint8_t buf[64];

	ASSERT_LT(0, serial) TH_LOG("%s: %s", role, strerror(errno));
	ASSERT_LT(0, keyctl_describe_alloc(serial, &desc));
	EXPECT_EQ(0, strncmp(desc, "logon;", 6)) TH_LOG("%s", desc);
	free(desc);
	errno = 0;
	EXPECT_EQ(-1, keyctl_read(serial, (char *)buf, sizeof(buf)));
	EXPECT_TRUE(errno == EOPNOTSUPP || errno == EACCES)
		TH_LOG("%s: keyctl_read: %s", role, strerror(errno));
	/* And no readable twin of another type. */
	EXPECT_EQ(-1, find_logon(kr->ring, sid, role, "user"));
}

/*
 * afalg keeps K and Km only as logon keys kcourier:<sid>:enc and :mac,
 * withdrawn with the session and with the tier.
 */
TEST(afalg_logon_keys)
{
	uint8_t sid[3][KC_SID_LEN], k[KC_KEY_LEN];
	static const char *const roles[] = { "enc", "mac" };
	struct kc_keyring kr;
	struct kc_crypto *c;
	kc_handle_t s[3];
	char why[256];
	struct msg m;
	int i, r;

	if (kc_crypto_available("afalg", why, sizeof(why)))
		SKIP(return, "tier afalg is not available: %s", why);
	ASSERT_EQ(0, kc_keyring_open(&kr));
	ASSERT_EQ(0, kc_crypto_open("afalg", &c));
	ASSERT_EQ(0, c->ops->set_keyring(c, &kr, 600));
	kc_random(k, sizeof(k));
	for (i = 0; i < 3; i++) {
		kc_random(sid[i], KC_SID_LEN);
		ASSERT_EQ(0, kc_session_install(c, sid[i], k, &s[i]));
	}
	for (r = 0; r < 2; r++)
		expect_sealed_logon(_metadata, &kr, sid[0], roles[r]);
	msg_init(&m, 50, 9);
	ASSERT_EQ(0, seal_msgs(c, s[0], &m, 1));
	EXPECT_TRUE(open_one_as(c, s[0], &m));

	kc_session_drop(c, s[0]);
	for (r = 0; r < 2; r++) {
		EXPECT_EQ(-1, find_logon(kr.ring, sid[0], roles[r], "logon"));
		EXPECT_LT(0, find_logon(kr.ring, sid[1], roles[r], "logon"));
	}
	kc_crypto_close(c);
	for (i = 1; i < 3; i++)
		for (r = 0; r < 2; r++)
			EXPECT_EQ(-1, find_logon(kr.ring, sid[i], roles[r],
						 "logon"));
	explicit_bzero(k, sizeof(k));
	msg_free(&m, 1);
}

/* PSS: our signatures verify here and in Python; other salts do not. */
TEST(pss_salt_length)
{
	static const uint8_t msg[] = "kcourier/1 enc-key test message";
	uint8_t sig[KC_RSA_LEN], *spki = NULL;
	char *hspki, *hmsg, *hsig, *args = NULL, line[64];
	static const int salts[] = { 0, 20, 31, 33 };
	EVP_PKEY *key = NULL;
	size_t spki_len, i;

	ASSERT_EQ(0, kc_rsa_generate(&key));
	ASSERT_EQ(0, kc_pss_sign(key, msg, sizeof(msg), sig));
	EXPECT_EQ(0, kc_pss_verify(key, msg, sizeof(msg), sig, sizeof(sig)));
	EXPECT_EQ(-EBADMSG,
		  kc_pss_verify(key, msg, sizeof(msg) - 1, sig, sizeof(sig)));
	EXPECT_EQ(-EBADMSG, kc_pss_verify(key, msg, sizeof(msg), sig, 255));

	ASSERT_EQ(0, kc_spki_der(key, &spki, &spki_len));
	hspki = hex_dup(spki, spki_len);
	hmsg = hex_dup(msg, sizeof(msg));
	hsig = hex_dup(sig, sizeof(sig));
	ASSERT_LT(0, asprintf(&args, "verify %s %s %s", hspki, hmsg, hsig));
	ASSERT_EQ(0, python_line(PY_KEYS, args, line, sizeof(line)));
	EXPECT_STREQ("verified", line);

	/* The test's own signer is right: with salt 32 it is accepted. */
	ASSERT_EQ(0, pss_sign_salt(key, msg, sizeof(msg), 32, sig));
	EXPECT_EQ(0, kc_pss_verify(key, msg, sizeof(msg), sig, sizeof(sig)));
	for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
		ASSERT_EQ(0, pss_sign_salt(key, msg, sizeof(msg), salts[i], sig));
		EXPECT_EQ(-EBADMSG,
			  kc_pss_verify(key, msg, sizeof(msg), sig, sizeof(sig)))
			TH_LOG("salt length %d accepted", salts[i]);
	}
	free(args);
	free(hspki);
	free(hmsg);
	free(hsig);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
}

TEST(rsa_check_policy)
{
	EVP_PKEY *good = NULL, *small = rsa_keygen(1024, 65537);
	EVP_PKEY *e3 = rsa_keygen(2048, 3), *ec = EVP_EC_gen("P-256");
	uint8_t wrapped[KC_RSA_LEN], k[KC_KEY_LEN] = { 0 };

	ASSERT_EQ(0, kc_rsa_generate(&good));
	ASSERT_NE(NULL, small);
	ASSERT_NE(NULL, e3);
	ASSERT_NE(NULL, ec);
	EXPECT_EQ(0, kc_rsa_check(good));
	EXPECT_EQ(-EINVAL, kc_rsa_check(small));
	EXPECT_EQ(-EINVAL, kc_rsa_check(e3));
	EXPECT_EQ(-EINVAL, kc_rsa_check(ec));
	EXPECT_EQ(-EINVAL, kc_rsa_check(NULL));
	/* The operations refuse keys that are not 2048-bit RSA at all. */
	EXPECT_EQ(-EINVAL, kc_oaep_wrap(small, k, sizeof(k), wrapped));
	EXPECT_EQ(-EINVAL, kc_oaep_wrap(ec, k, sizeof(k), wrapped));
	EXPECT_EQ(-EINVAL, kc_pss_sign(small, k, sizeof(k), wrapped));
	EVP_PKEY_free(good);
	EVP_PKEY_free(small);
	EVP_PKEY_free(e3);
	EVP_PKEY_free(ec);
}

/* SPKI round trip and fingerprint = SHA-256 of the DER, per Python. */
TEST(spki_fingerprint)
{
	uint8_t *der = NULL, *junk;
	EVP_PKEY *key = NULL, *back = NULL;
	char fp[65], fp2[65], line[128], *hex;
	size_t len;

	ASSERT_EQ(0, kc_rsa_generate(&key));
	ASSERT_EQ(0, kc_spki_der(key, &der, &len));
	hex = hex_dup(der, len);
	ASSERT_EQ(0, kc_spki_parse(der, len, &back));
	EXPECT_EQ(1, EVP_PKEY_eq(key, back));
	ASSERT_EQ(0, kc_key_fingerprint(key, fp));
	kc_spki_fingerprint(der, len, fp2);
	EXPECT_STREQ(fp, fp2);
	EXPECT_EQ(64, strlen(fp));
	ASSERT_EQ(0, python_line(PY_SHA256, hex, line, sizeof(line)));
	EXPECT_STREQ(line, fp);
	/* Trailing bytes or a truncated SPKI are refused. */
	junk = malloc(len + 1);
	memcpy(junk, der, len);
	junk[len] = 0;
	EXPECT_EQ(-EBADMSG, kc_spki_parse(junk, len + 1, &back));
	EXPECT_EQ(NULL, back);
	EXPECT_EQ(-EBADMSG, kc_spki_parse(junk, len - 1, &back));
	free(junk);
	free(hex);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

TEST_HARNESS_MAIN
