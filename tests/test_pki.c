// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent CA and state directory (agent/pki.h, agent/state.h) with real
 * GnuTLS, real OpenSSL and real files.
 *
 * Two directories are initialised once, before the tests run (PBKDF2 at
 * 600,000 iterations makes every key save and load cost a noticeable
 * fraction of a second), and shared read-only by every test:
 *   A, loaded in full with kc_agent_state_load;
 *   B, a second agent, of which only the CA is loaded (a foreign CA).
 *
 * Independent answers come from the openssl command line (fingerprint,
 * chain verification, string types, extensions, PBES2 parameters) and
 * from tests/lib/testpki.c, which builds certificates with its own GnuTLS
 * code: never from the code under test.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "../agent/pki.h"
#include "../agent/state.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "kselftest_harness.h"
#include "lib/testpki.h"

#define PASS "correct horse battery staple"
#define OUT_MAX 16384

static struct {
	char root[64];
	char dir_a[PATH_MAX], dir_b[PATH_MAX];
	char fpr_a[KC_PKI_FPR_LEN + 1];
	char why[KC_STATE_ERR_MAX];
	int init_a, init_b, load_a, load_b;
	struct kc_agent_state a;
	struct kc_pki_ca ca_b;
} shared;

static void pass_of(struct kc_passphrase *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->len = strlen(text);
	memcpy(p->text, text, p->len);
}

static void path_in(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		out[0] = '\0';
}

/* Runs cmd under sh with stderr folded into stdout; its exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
	char full[PATH_MAX * 4];
	size_t len = 0, got;
	FILE *f;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (len + 1 < cap && (got = fread(out + len, 1, cap - 1 - len, f)))
		len += got;
	out[len] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (int)(sb.st_mode & 07777);
}

static int load_ca_b(void)
{
	char path[PATH_MAX];
	struct kc_passphrase pass;
	gnutls_x509_crt_t crt = NULL;
	EVP_PKEY *key = NULL;
	int ret;

	pass_of(&pass, PASS);
	path_in(path, shared.dir_b, KC_STATE_CA_CRT);
	ret = kc_pki_crt_load(path, &crt);
	path_in(path, shared.dir_b, KC_STATE_CA_KEY);
	if (!ret)
		ret = kc_key_load_private(path, kc_passphrase_supply, &pass,
					  &key);
	if (!ret)
		ret = kc_pki_ca_from(crt, key, &shared.ca_b);
	if (ret)
		gnutls_x509_crt_deinit(crt);
	EVP_PKEY_free(key);
	return ret;
}

static void shared_setup(void)
{
	char fpr_b[KC_PKI_FPR_LEN + 1];
	struct kc_passphrase pass;

	umask(022);
	strcpy(shared.root, "/tmp/kc-pki-XXXXXX");
	if (!mkdtemp(shared.root)) {
		shared.init_a = shared.init_b = -errno;
		return;
	}
	path_in(shared.dir_a, shared.root, "a");
	path_in(shared.dir_b, shared.root, "b");
	pass_of(&pass, PASS);
	shared.init_a =
		kc_state_init(shared.dir_a, "127.0.0.1:7999", &pass,
			      shared.fpr_a, shared.why, sizeof(shared.why));
	shared.init_b = kc_state_init(shared.dir_b, NULL, &pass, fpr_b,
				      shared.why, sizeof(shared.why));
	shared.load_a = kc_agent_state_load(shared.dir_a, &pass, &shared.a,
					    shared.why, sizeof(shared.why));
	shared.load_b = load_ca_b();
}

static void shared_cleanup(void)
{
	char cmd[128];

	kc_agent_state_free(&shared.a);
	kc_pki_ca_free(&shared.ca_b);
	if (!shared.root[0] || shared.root[0] != '/')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", shared.root);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", shared.root);
}

/* Per test: a scratch directory for files handed to openssl. */
FIXTURE(pki)
{
	char tmp[64];
};

FIXTURE_SETUP(pki)
{
	if (shared.init_a || shared.init_b || shared.load_a || shared.load_b)
		TH_LOG("shared setup: %s", shared.why);
	ASSERT_EQ(0, shared.init_a);
	ASSERT_EQ(0, shared.init_b);
	ASSERT_EQ(0, shared.load_a);
	ASSERT_EQ(0, shared.load_b);
	strcpy(self->tmp, "/tmp/kc-pki-t-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmp));
}

FIXTURE_TEARDOWN(pki)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->tmp);
	if (system(cmd))
		TH_LOG("could not remove %s", self->tmp);
}

/* A fresh RSA-2048 id key as DER SPKI (OPENSSL_free it). */
static int new_id_spki(uint8_t **spki, size_t *len)
{
	EVP_PKEY *key = NULL;
	int ret;

	ret = kc_rsa_generate(&key);
	if (!ret)
		ret = kc_spki_der(key, spki, len);
	EVP_PKEY_free(key);
	return ret;
}

static int write_der(const char *path, const gnutls_datum_t *der)
{
	FILE *f = fopen(path, "w");
	size_t put;

	if (!f)
		return -errno;
	put = fwrite(der->data, 1, der->size, f);
	return fclose(f) || put != der->size ? -EIO : 0;
}

/* DER certificate as a PEM file, converted by openssl itself. */
static int write_pem_via_openssl(const char *dir, const char *name,
				 const gnutls_datum_t *der)
{
	char der_path[PATH_MAX], cmd[PATH_MAX * 3], out[OUT_MAX];

	snprintf(der_path, sizeof(der_path), "%s/%s.der", dir, name);
	if (write_der(der_path, der))
		return -EIO;
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -inform DER -in '%s' -out '%s/%s.pem'", der_path,
		 dir, name);
	return run(cmd, out, sizeof(out)) ? -EIO : 0;
}

TEST_F(pki, init_creates_files_with_modes)
{
	static const struct {
		const char *name;
		int mode;
	} files[] = {
		{ KC_STATE_CA_CRT, 0644 },   { KC_STATE_CA_KEY, 0600 },
		{ KC_STATE_TLS_CRT, 0644 },  { KC_STATE_TLS_KEY, 0600 },
		{ KC_STATE_SEAL_CRT, 0644 }, { KC_STATE_SEAL_KEY, 0600 },
		{ KC_STATE_STORE, 0600 },    { KC_STATE_CONFIG, 0600 },
	};
	char path[PATH_MAX];
	size_t i;

	EXPECT_EQ(0700, mode_of(shared.dir_a));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_in(path, shared.dir_a, files[i].name);
		EXPECT_EQ(files[i].mode, mode_of(path))
		TH_LOG("%s", files[i].name);
	}
	/* The listen address given to init is in the configuration. */
	EXPECT_STREQ("127.0.0.1:7999", shared.a.cfg.listen);
	EXPECT_EQ(1048576, shared.a.cfg.max_frame);
}

TEST_F(pki, ca_fingerprint_matches_openssl)
{
	char cmd[PATH_MAX * 2], out[OUT_MAX];

	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in '%s/ca.crt' -pubkey -noout |"
		 " openssl pkey -pubin -outform DER | sha256sum",
		 shared.dir_a);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	ASSERT_EQ(' ', out[KC_PKI_FPR_LEN]);
	out[KC_PKI_FPR_LEN] = '\0';
	EXPECT_STREQ(out, shared.fpr_a);
	EXPECT_STREQ(out, shared.a.ca_fingerprint);
}

TEST_F(pki, agent_certs_verify_with_openssl)
{
	char cmd[PATH_MAX * 4], out[OUT_MAX];
	const char *a = shared.dir_a;

	snprintf(
		cmd, sizeof(cmd),
		"openssl verify -CAfile '%s/ca.crt' '%s/tls.crt' '%s/seal.crt'",
		a, a, a);
	EXPECT_EQ(0, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "tls.crt: OK"));
	EXPECT_NE(NULL, strstr(out, "seal.crt: OK"));
	/* The same check can fail: A's certificates under B's CA. */
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -CAfile '%s/ca.crt' '%s/tls.crt'",
		 shared.dir_b, a);
	EXPECT_NE(0, run(cmd, out, sizeof(out)));
}

/* openssl's own reading of each certificate's extensions and key. */
static void expect_profile(struct __test_metadata *_metadata, const char *name,
			   const char *const *want)
{
	char cmd[PATH_MAX * 2], out[OUT_MAX];

	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in '%s/%s' -noout -text -nameopt "
		 "multiline,show_type",
		 shared.dir_a, name);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	for (; *want; want++) {
		if (!strstr(out, *want))
			TH_LOG("%s lacks \"%s\"", name, *want);
		EXPECT_NE(NULL, strstr(out, *want));
	}
}

TEST_F(pki, agent_cert_profiles)
{
	static const char *const ca[] = {
		"Version: 3",
		"commonName                = UTF8STRING:kcourier agent CA",
		"NIST CURVE: P-256",
		"Basic Constraints: critical\n                CA:TRUE",
		"Key Usage: critical\n                Certificate Sign, CRL "
		"Sign",
		"Subject Key Identifier",
		"ecdsa-with-SHA256",
		NULL,
	};
	static const char *const tls[] = {
		"UTF8STRING:kcourier agent\n",
		"NIST CURVE: P-256",
		"CA:FALSE",
		"Key Usage: critical\n                Digital Signature\n",
		"Extended Key Usage: \n                TLS Web Server "
		"Authentication\n",
		"Authority Key Identifier",
		NULL,
	};
	static const char *const seal[] = {
		"UTF8STRING:kcourier seal",
		"rsaEncryption",
		"Public-Key: (2048 bit)",
		"Exponent: 65537 (0x10001)",
		"CA:FALSE",
		"Key Usage: critical\n                Key Encipherment\n",
		NULL,
	};

	expect_profile(_metadata, KC_STATE_CA_CRT, ca);
	expect_profile(_metadata, KC_STATE_TLS_CRT, tls);
	expect_profile(_metadata, KC_STATE_SEAL_CRT, seal);
}

/* Serials: at most 16 bytes, positive, and all different. */
TEST_F(pki, serials_random_and_positive)
{
	uint8_t serials[12][16];
	size_t lens[12];
	gnutls_x509_crt_t crts[3] = { shared.a.ca.crt, shared.a.tls_crt,
				      shared.a.seal_crt };
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	uint8_t *spki;
	size_t spki_len, i, j;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	for (i = 0; i < 12; i++) {
		crt = i < 3 ? crts[i] : NULL;
		if (!crt) {
			ASSERT_EQ(0,
				  kc_pki_issue_client(&shared.a.ca, "serial",
						      spki, spki_len, 0, &der));
			ASSERT_EQ(0, gnutls_x509_crt_init(&crt));
			ASSERT_EQ(0, gnutls_x509_crt_import(
					     crt, &der, GNUTLS_X509_FMT_DER));
			gnutls_free(der.data);
		}
		lens[i] = sizeof(serials[i]);
		ASSERT_EQ(0, gnutls_x509_crt_get_serial(crt, serials[i],
							&lens[i]));
		if (i >= 3)
			gnutls_x509_crt_deinit(crt);
		ASSERT_LE(lens[i], 16);
		/* A leading 0x00 would mean the value needed a sign byte. */
		EXPECT_LT(serials[i][0], 0x80);
		EXPECT_GE(lens[i], 12); /* 4 leading zero bytes: 2^-32 */
		for (j = 0; j < i; j++)
			EXPECT_FALSE(lens[i] == lens[j] &&
				     !memcmp(serials[i], serials[j], lens[i]));
	}
	OPENSSL_free(spki);
}

TEST_F(pki, client_cert_issue_and_verify)
{
	const char *id = "alice.smith-01_x";
	char cmd[PATH_MAX * 3], out[OUT_MAX], got[KC_CLIENT_ID_MAX + 1];
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	uint8_t *spki;
	size_t spki_len;
	time_t from, until;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	ASSERT_EQ(0, kc_pki_issue_client(&shared.a.ca, id, spki, spki_len, 0,
					 &der));
	EXPECT_EQ(0, kc_pki_verify_client(shared.a.ca.crt, der.data, der.size,
					  got));
	EXPECT_STREQ(id, got);

	/* Validity: one year from an hour ago. */
	ASSERT_EQ(0, gnutls_x509_crt_init(&crt));
	ASSERT_EQ(0, gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER));
	from = gnutls_x509_crt_get_activation_time(crt);
	until = gnutls_x509_crt_get_expiration_time(crt);
	EXPECT_EQ(365 * 86400 + 3600, until - from);
	gnutls_x509_crt_deinit(crt);

	/* openssl: UTF8String CN, usages, chain for TLS client purpose. */
	ASSERT_EQ(0, write_pem_via_openssl(self->tmp, "client", &der));
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in '%s/client.pem' -noout -text -nameopt "
		 "multiline,show_type",
		 self->tmp);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "commonName                = "
				    "UTF8STRING:alice.smith-01_x\n"));
	EXPECT_NE(NULL, strstr(out, "TLS Web Client Authentication"));
	EXPECT_NE(NULL, strstr(out, "Key Usage: critical\n                "
				    "Digital Signature\n"));
	EXPECT_NE(NULL, strstr(out, "Public-Key: (2048 bit)"));
	EXPECT_NE(NULL, strstr(out, "CA:FALSE"));
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -purpose sslclient -CAfile '%s/ca.crt' "
		 "'%s/client.pem'",
		 shared.dir_a, self->tmp);
	EXPECT_EQ(0, run(cmd, out, sizeof(out)));
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -purpose sslserver -CAfile '%s/ca.crt' "
		 "'%s/client.pem'",
		 shared.dir_a, self->tmp);
	EXPECT_NE(0, run(cmd, out, sizeof(out)));
	gnutls_free(der.data);
	OPENSSL_free(spki);
}

/*
 * A CA made in memory (not read back from disk) verifies what it issues,
 * and its fingerprint (GnuTLS's SPKI export) equals OpenSSL's of the key.
 */
TEST_F(pki, fresh_ca_verifies_its_clients)
{
	char fpr[KC_PKI_FPR_LEN + 1], want[KC_PKI_FPR_LEN + 1];
	char got[KC_CLIENT_ID_MAX + 1];
	struct kc_pki_ca ca;
	gnutls_datum_t der;
	EVP_PKEY *key;
	uint8_t *spki;
	size_t spki_len;

	ASSERT_EQ(0, kc_pki_ec_generate(&key));
	ASSERT_EQ(0, kc_pki_make_ca(key, &ca));
	ASSERT_EQ(0, kc_pki_fingerprint(ca.crt, fpr));
	ASSERT_EQ(0, kc_key_fingerprint(key, want));
	EXPECT_STREQ(want, fpr);
	EXPECT_EQ(0, kc_pki_key_matches(ca.crt, key));
	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	ASSERT_EQ(0,
		  kc_pki_issue_client(&ca, "frank", spki, spki_len, 0, &der));
	EXPECT_EQ(0, kc_pki_verify_client(ca.crt, der.data, der.size, got));
	EXPECT_STREQ("frank", got);
	gnutls_free(der.data);
	OPENSSL_free(spki);
	kc_pki_ca_free(&ca);
	kc_pki_ca_free(&ca); /* a freed (zeroed) one is fine to free again */
	EVP_PKEY_free(key);
}

TEST_F(pki, client_cert_days_configurable)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	uint8_t *spki;
	size_t spki_len;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	ASSERT_EQ(0, kc_pki_issue_client(&shared.a.ca, "bob", spki, spki_len,
					 30, &der));
	ASSERT_EQ(0, gnutls_x509_crt_init(&crt));
	ASSERT_EQ(0, gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER));
	EXPECT_EQ(30 * 86400 + 3600,
		  gnutls_x509_crt_get_expiration_time(crt) -
			  gnutls_x509_crt_get_activation_time(crt));
	gnutls_x509_crt_deinit(crt);
	gnutls_free(der.data);
	OPENSSL_free(spki);
}

/* An RSA key with the wrong size or exponent, as DER SPKI. */
static int odd_rsa_spki(unsigned int bits, unsigned int e, uint8_t **spki,
			size_t *len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	BIGNUM *bn = BN_new();
	int ret = -EIO;

	if (ctx && bn && BN_set_word(bn, e) && EVP_PKEY_keygen_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) > 0 &&
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn) > 0 &&
	    EVP_PKEY_generate(ctx, &key) > 0)
		ret = kc_spki_der(key, spki, len);
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	return ret;
}

TEST_F(pki, issue_refuses_bad_ids_and_keys)
{
	static const char *const bad_ids[] = {
		"",
		"Alice",
		"-alice",
		".x",
		"a b",
		"a/b",
		"ü",
		/* 65 characters: one over the limit */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaa"),
	};
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	uint8_t *spki, *ec_spki, *small, *e3;
	size_t spki_len, ec_len, small_len, e3_len, i;
	gnutls_datum_t der = { NULL, 0 };
	EVP_PKEY *ec = NULL;
	int ret;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		ret = kc_pki_issue_client(&shared.a.ca, bad_ids[i], spki,
					  spki_len, 0, &der);
		if (ret != -EINVAL)
			TH_LOG("id '%s' gave %d", bad_ids[i], ret);
		EXPECT_EQ(-EINVAL, ret);
	}
	/* 64 characters is the longest id. */
	EXPECT_EQ(0, kc_pki_issue_client(&shared.a.ca,
					 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					 "aaaaaaaaaaaaaaaaaaaaaaaaaaa",
					 spki, spki_len, 0, &der));
	gnutls_free(der.data);

	ASSERT_EQ(0, kc_pki_ec_generate(&ec));
	ASSERT_EQ(0, kc_spki_der(ec, &ec_spki, &ec_len));
	ASSERT_EQ(0, odd_rsa_spki(1024, 65537, &small, &small_len));
	ASSERT_EQ(0, odd_rsa_spki(2048, 3, &e3, &e3_len));
	EXPECT_EQ(-EINVAL, kc_pki_issue_client(&shared.a.ca, "carol", ec_spki,
					       ec_len, 0, &der));
	EXPECT_EQ(-EINVAL, kc_pki_issue_client(&shared.a.ca, "carol", small,
					       small_len, 0, &der));
	EXPECT_EQ(-EINVAL, kc_pki_issue_client(&shared.a.ca, "carol", e3,
					       e3_len, 0, &der));
	EXPECT_EQ(-EINVAL, kc_pki_issue_client(&shared.a.ca, "carol", junk,
					       sizeof(junk), 0, &der));
	/* An SPKI with a byte after it is not one SPKI. */
	spki = OPENSSL_realloc(spki, spki_len + 1);
	ASSERT_NE(NULL, spki);
	spki[spki_len] = 0;
	EXPECT_EQ(-EINVAL, kc_pki_issue_client(&shared.a.ca, "carol", spki,
					       spki_len + 1, 0, &der));
	EVP_PKEY_free(ec);
	OPENSSL_free(ec_spki);
	OPENSSL_free(small);
	OPENSSL_free(e3);
	OPENSSL_free(spki);
}

TEST_F(pki, verify_refuses_other_ca)
{
	char cmd[PATH_MAX * 3], out[OUT_MAX], got[KC_CLIENT_ID_MAX + 1];
	gnutls_datum_t der;
	uint8_t *spki;
	size_t spki_len;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	ASSERT_EQ(0, kc_pki_issue_client(&shared.ca_b, "alice", spki, spki_len,
					 0, &der));
	EXPECT_EQ(0, kc_pki_verify_client(shared.ca_b.crt, der.data, der.size,
					  got));
	EXPECT_EQ(-EKEYREJECTED, kc_pki_verify_client(shared.a.ca.crt, der.data,
						      der.size, got));
	/* openssl agrees: B's client certificate does not chain to A. */
	ASSERT_EQ(0, write_pem_via_openssl(self->tmp, "b", &der));
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -CAfile '%s/ca.crt' '%s/b.pem'", shared.dir_a,
		 self->tmp);
	EXPECT_NE(0, run(cmd, out, sizeof(out)));
	gnutls_free(der.data);
	OPENSSL_free(spki);
}

TEST_F(pki, verify_refuses_agent_certs)
{
	char got[KC_CLIENT_ID_MAX + 1];

	/* Right CA, wrong kind: no clientAuth, CA:TRUE, ECDSA, no EKU. */
	EXPECT_EQ(-EKEYREJECTED,
		  kc_pki_verify_client(shared.a.ca.crt, shared.a.ca_der.data,
				       shared.a.ca_der.size, got));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_pki_verify_client(shared.a.ca.crt, shared.a.tls_der.data,
				       shared.a.tls_der.size, got));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_pki_verify_client(shared.a.ca.crt, shared.a.seal_der.data,
				       shared.a.seal_der.size, got));
}

TEST_F(pki, verify_refuses_damaged_der)
{
	char got[KC_CLIENT_ID_MAX + 1];
	gnutls_datum_t der;
	uint8_t *spki, *copy;
	size_t spki_len;

	ASSERT_EQ(0, new_id_spki(&spki, &spki_len));
	ASSERT_EQ(0, kc_pki_issue_client(&shared.a.ca, "dave", spki, spki_len,
					 0, &der));
	copy = malloc(der.size + 1);
	ASSERT_NE(NULL, copy);
	memcpy(copy, der.data, der.size);
	ASSERT_EQ(0,
		  kc_pki_verify_client(shared.a.ca.crt, copy, der.size, got));
	/* The last byte is inside the ECDSA signature value. */
	copy[der.size - 1] ^= 0x01;
	EXPECT_EQ(-EKEYREJECTED,
		  kc_pki_verify_client(shared.a.ca.crt, copy, der.size, got));
	copy[der.size - 1] ^= 0x01;
	copy[der.size] = 0x00;
	EXPECT_EQ(-EBADMSG, kc_pki_verify_client(shared.a.ca.crt, copy,
						 der.size + 1, got));
	EXPECT_EQ(-EBADMSG, kc_pki_verify_client(shared.a.ca.crt, copy,
						 der.size - 1, got));
	EXPECT_EQ(-EBADMSG,
		  kc_pki_verify_client(shared.a.ca.crt, copy, 0, got));
	free(copy);
	gnutls_free(der.data);
	OPENSSL_free(spki);
}

/*
 * Client certificates made by tests/lib/testpki.c under its own CA: one
 * of the right shape (which must pass, so the builder is sound) and one
 * per way of being wrong.
 */
FIXTURE(shape)
{
	struct testpki_cert ca, leaf;
	gnutls_x509_crt_t ca_crt; /* the CA as read from DER, like ca.crt */
};

FIXTURE_VARIANT(shape)
{
	struct testpki_profile prof;
	int want;
};

#define SHAPE(name, cn_, pk_, bits_, usage_, eku_, ca_, days_, want_)          \
	FIXTURE_VARIANT_ADD(shape, name)                                       \
	{                                                                      \
		.prof = { .cn = cn_,                                           \
			  .pk = pk_,                                           \
			  .bits = bits_,                                       \
			  .key_usage = usage_,                                 \
			  .eku = eku_,                                         \
			  .is_ca = ca_,                                        \
			  .days_valid = days_ },                               \
		.want = want_,                                                 \
	}

#define RSA GNUTLS_PK_RSA
#define SIGN GNUTLS_KEY_DIGITAL_SIGNATURE
#define CLIENT GNUTLS_KP_TLS_WWW_CLIENT
#define BAD (-EKEYREJECTED)

/* GnuTLS writes "erin_x" as a UTF8String ('_' is not printable). */
SHAPE(good, "erin_x", RSA, 2048, SIGN, CLIENT, false, 30, 0);
SHAPE(expired, "erin_x", RSA, 2048, SIGN, CLIENT, false, -2, BAD);
SHAPE(ecdsa_key, "erin_x", GNUTLS_PK_ECDSA, 0, SIGN, CLIENT, false, 30, BAD);
SHAPE(rsa_3072, "erin_x", RSA, 3072, SIGN, CLIENT, false, 30, BAD);
SHAPE(server_auth, "erin_x", RSA, 2048, SIGN, GNUTLS_KP_TLS_WWW_SERVER, false,
      30, BAD);
SHAPE(no_eku, "erin_x", RSA, 2048, SIGN, NULL, false, 30, BAD);
SHAPE(no_digital_signature, "erin_x", RSA, 2048, GNUTLS_KEY_KEY_ENCIPHERMENT,
      CLIENT, false, 30, BAD);
SHAPE(ca_true, "erin_x", RSA, 2048, SIGN, CLIENT, true, 30, BAD);
SHAPE(cn_not_an_id, "Erin Example", RSA, 2048, SIGN, CLIENT, false, 30, BAD);
/* ... and "erin" as a PrintableString: pki_verify.c wants UTF8String. */
SHAPE(cn_printable_string, "erin", RSA, 2048, SIGN, CLIENT, false, 30, BAD);

FIXTURE_SETUP(shape)
{
	ASSERT_EQ(0, testpki_make_ca(&self->ca, "test CA"));
	ASSERT_EQ(0, testpki_issue(&self->leaf, &self->ca, &variant->prof));
	ASSERT_EQ(0, gnutls_x509_crt_init(&self->ca_crt));
	ASSERT_EQ(0, gnutls_x509_crt_import(self->ca_crt, &self->ca.der,
					    GNUTLS_X509_FMT_DER));
}

FIXTURE_TEARDOWN(shape)
{
	gnutls_x509_crt_deinit(self->ca_crt);
	testpki_free(&self->leaf);
	testpki_free(&self->ca);
}

TEST_F(shape, verify_client)
{
	char got[KC_CLIENT_ID_MAX + 1] = "";

	EXPECT_EQ(variant->want,
		  kc_pki_verify_client(self->ca_crt, self->leaf.der.data,
				       self->leaf.der.size, got));
	if (!variant->want)
		EXPECT_STREQ("erin_x", got);
}

TEST_F(pki, keys_are_encrypted_pkcs8)
{
	static const char *const keys[] = { KC_STATE_CA_KEY, KC_STATE_TLS_KEY,
					    KC_STATE_SEAL_KEY };
	char path[PATH_MAX], cmd[PATH_MAX * 2], out[OUT_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		path_in(path, shared.dir_a, keys[i]);
		snprintf(cmd, sizeof(cmd), "head -1 '%s'", path);
		ASSERT_EQ(0, run(cmd, out, sizeof(out)));
		EXPECT_STREQ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", out);
		/* PBES2 with PBKDF2-HMAC-SHA256, 600000 = 0x0927C0,
		 * AES-256-CBC. */
		snprintf(cmd, sizeof(cmd), "openssl asn1parse -in '%s'", path);
		ASSERT_EQ(0, run(cmd, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, ":PBES2"));
		EXPECT_NE(NULL, strstr(out, ":PBKDF2"));
		EXPECT_NE(NULL, strstr(out, "INTEGER           :0927C0"));
		EXPECT_NE(NULL, strstr(out, ":hmacWithSHA256"));
		EXPECT_NE(NULL, strstr(out, ":aes-256-cbc"));
	}
	/* openssl opens one with the passphrase, and not without it. */
	path_in(path, shared.dir_a, KC_STATE_TLS_KEY);
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in '%s' -passin 'pass:" PASS "' -noout", path);
	EXPECT_EQ(0, run(cmd, out, sizeof(out)));
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in '%s' -passin pass:wrong -noout", path);
	EXPECT_NE(0, run(cmd, out, sizeof(out)));
}

TEST_F(pki, state_holds_matching_keys_and_ders)
{
	char path[PATH_MAX], cmd[PATH_MAX * 2], out[OUT_MAX];
	uint8_t k[KC_KEY_LEN], wrapped[KC_RSA_LEN], back[KC_KEY_LEN];
	const unsigned char *p;
	EVP_PKEY *seal_pub = NULL, *from_der;
	gnutls_x509_privkey_t tls;
	gnutls_datum_t d;
	unsigned char *der_file;
	long der_len;
	FILE *f;

	/* ca_der is byte for byte what openssl makes of ca.crt. */
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in '%s/ca.crt' -outform DER -out '%s/ca.der'",
		 shared.dir_a, self->tmp);
	ASSERT_EQ(0, run(cmd, out, sizeof(out)));
	path_in(path, self->tmp, "ca.der");
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	der_file = malloc(8192);
	der_len = (long)fread(der_file, 1, 8192, f);
	fclose(f);
	ASSERT_EQ(shared.a.ca_der.size, der_len);
	EXPECT_EQ(0, memcmp(der_file, shared.a.ca_der.data, (size_t)der_len));
	free(der_file);

	/* The TLS PKCS#8 DER is the key of tls.crt. */
	ASSERT_EQ(0, gnutls_x509_privkey_init(&tls));
	d.data = shared.a.tls_pkcs8;
	d.size = (unsigned int)shared.a.tls_pkcs8_len;
	ASSERT_EQ(0,
		  gnutls_x509_privkey_import_pkcs8(tls, &d, GNUTLS_X509_FMT_DER,
						   NULL, GNUTLS_PKCS_PLAIN));
	EXPECT_EQ(1, gnutls_x509_crt_get_pk_algorithm(shared.a.tls_crt, NULL) ==
			     GNUTLS_PK_ECDSA);
	EXPECT_EQ(0, gnutls_x509_privkey_verify_params(tls));
	gnutls_x509_privkey_deinit(tls);

	/* The seal key: RSA-2048, its DER form equal, and it opens what
	 * seal.crt's public key (read by OpenSSL from the file) wraps. */
	EXPECT_EQ(0, kc_rsa_check(shared.a.seal_key));
	p = shared.a.seal_pkcs8;
	from_der = d2i_AutoPrivateKey(NULL, &p, (long)shared.a.seal_pkcs8_len);
	ASSERT_NE(NULL, from_der);
	EXPECT_EQ(1, EVP_PKEY_eq(from_der, shared.a.seal_key));
	EVP_PKEY_free(from_der);
	path_in(path, shared.dir_a, KC_STATE_SEAL_CRT);
	ASSERT_EQ(0, kc_key_load_public(path, &seal_pub));
	kc_random(k, sizeof(k));
	ASSERT_EQ(0, kc_oaep_wrap(seal_pub, k, sizeof(k), wrapped));
	ASSERT_EQ(0, kc_oaep_unwrap_key(shared.a.seal_key, wrapped, back));
	EXPECT_EQ(0, memcmp(k, back, sizeof(k)));
	EVP_PKEY_free(seal_pub);

	/* Each key checks out against its own certificate only. */
	EXPECT_EQ(0, kc_pki_key_matches(shared.a.seal_crt, shared.a.seal_key));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_pki_key_matches(shared.a.tls_crt, shared.a.seal_key));
}

TEST_F(pki, load_refuses_wrong_passphrase)
{
	struct kc_agent_state st;
	struct kc_passphrase pass;
	char why[KC_STATE_ERR_MAX];

	pass_of(&pass, "not the passphrase");
	EXPECT_EQ(-EBADMSG, kc_agent_state_load(shared.dir_a, &pass, &st, why,
						sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "ca.key: wrong passphrase"))
	TH_LOG("%s", why);
	EXPECT_EQ(NULL, st.ca.crt);
	EXPECT_EQ(NULL, st.seal_key);
}

/* tmp/name: a copy of A with one file taken from B. */
static int mixed_copy(const char *tmp, const char *name, const char *from_b,
		      char dir[PATH_MAX])
{
	char cmd[PATH_MAX * 4], out[OUT_MAX];

	path_in(dir, tmp, name);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s' && cp '%s/%s' '%s/%s'",
		 shared.dir_a, dir, shared.dir_b, from_b, dir, from_b);
	return run(cmd, out, sizeof(out));
}

TEST_F(pki, load_refuses_mixed_directories)
{
	char dir[PATH_MAX], why[KC_STATE_ERR_MAX];
	struct kc_agent_state st;
	struct kc_passphrase pass;

	pass_of(&pass, PASS);
	ASSERT_EQ(0, mixed_copy(self->tmp, "crt", KC_STATE_TLS_CRT, dir));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_agent_state_load(dir, &pass, &st, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "tls.crt does not verify against ca.crt"))
	TH_LOG("%s", why);

	ASSERT_EQ(0, mixed_copy(self->tmp, "key", KC_STATE_TLS_KEY, dir));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_agent_state_load(dir, &pass, &st, why, sizeof(why)));
	EXPECT_NE(NULL,
		  strstr(why, "tls.key does not belong to its certificate"))
	TH_LOG("%s", why);
	EXPECT_EQ(NULL, st.tls_pkcs8);
}

TEST_F(pki, init_refuses_existing_and_nonempty)
{
	char fpr[KC_PKI_FPR_LEN + 1], why[KC_STATE_ERR_MAX], path[PATH_MAX];
	struct kc_passphrase pass;
	FILE *f;

	pass_of(&pass, PASS);
	EXPECT_EQ(-EEXIST, kc_state_init_check(shared.dir_a, why, sizeof(why)));
	EXPECT_EQ(-EEXIST, kc_state_init(shared.dir_a, NULL, &pass, fpr, why,
					 sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "already initialised"));
	/* Nothing of A was touched. */
	path_in(path, shared.dir_a, KC_STATE_CA_KEY);
	EXPECT_EQ(0600, mode_of(path));

	/* A directory with someone else's file in it is left alone. */
	path_in(path, self->tmp, "notes.txt");
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fclose(f);
	EXPECT_EQ(-ENOTEMPTY, kc_state_init_check(self->tmp, why, sizeof(why)));
	EXPECT_EQ(-ENOTEMPTY,
		  kc_state_init(self->tmp, NULL, &pass, fpr, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "not empty"));
	EXPECT_EQ(0, access(path, F_OK));
	path_in(path, self->tmp, KC_STATE_CA_KEY);
	EXPECT_NE(0, access(path, F_OK));
	/* A missing directory is fine to create. */
	path_in(path, self->tmp, "new");
	EXPECT_EQ(0, kc_state_init_check(path, why, sizeof(why)));
}

TEST_F(pki, init_bad_input_creates_nothing)
{
	char fpr[KC_PKI_FPR_LEN + 1], why[KC_STATE_ERR_MAX], path[PATH_MAX];
	struct kc_passphrase pass;

	pass_of(&pass, PASS);
	path_in(path, self->tmp, "new");
	EXPECT_EQ(-EINVAL, kc_state_init(path, "localhost:7411", &pass, fpr,
					 why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "'localhost:7411'"));
	EXPECT_NE(0, access(path, F_OK));
	pass_of(&pass, "");
	EXPECT_EQ(-EINVAL,
		  kc_state_init(path, NULL, &pass, fpr, why, sizeof(why)));
	EXPECT_NE(0, access(path, F_OK));
}

static int pass_from_file(const char *dir, const char *content, size_t len,
			  struct kc_passphrase *out)
{
	char path[PATH_MAX];
	FILE *f;

	path_in(path, dir, "pass");
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, len, f) != len || fclose(f))
		return -EIO;
	if (chmod(path, 0600))
		return -errno;
	return kc_state_passphrase(path, false, out);
}

/* A file group or others may read is refused, whatever it holds. */
TEST_F(pki, passphrase_file_must_be_private)
{
	static const mode_t refused[] = { 0640, 0604, 0660, 0644, 0610 };
	char path[PATH_MAX];
	struct kc_passphrase p;

	ASSERT_EQ(0, pass_from_file(self->tmp, "secret\n", 7, &p));
	EXPECT_STREQ("secret", p.text);
	path_in(path, self->tmp, "pass");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ASSERT_EQ(0, chmod(path, refused[i]));
		EXPECT_EQ(-EPERM, kc_state_passphrase(path, false, &p))
		TH_LOG("mode %o", refused[i]);
		EXPECT_EQ(0, p.len);
	}
	ASSERT_EQ(0, chmod(path, 0400));
	EXPECT_EQ(0, kc_state_passphrase(path, false, &p));
	EXPECT_NE(NULL, strstr(kc_passphrase_strerror(-EPERM), "chmod 600"));
}

/*
 * The variable the passphrase came from is unset and its bytes wiped
 * where they were (/proc/PID/environ shows the original block); a
 * variable that was not used stays.
 */
TEST_F(pki, passphrase_variable_scrubbed)
{
	struct kc_passphrase p;
	char *value;

	unsetenv("KCOURIERD_PASSPHRASE");
	setenv("KCOURIER_PASSPHRASE", "env secret", 1);
	value = getenv("KCOURIER_PASSPHRASE");
	ASSERT_NE(NULL, value);
	ASSERT_EQ(0, kc_state_passphrase(NULL, false, &p));
	EXPECT_STREQ("env secret", p.text);
	EXPECT_EQ(NULL, getenv("KCOURIER_PASSPHRASE"));
	/* setenv's copy stays allocated (glibc never frees it): wiped. */
	EXPECT_EQ('\0', value[0]);
	EXPECT_EQ(NULL, strstr(value + 1, "secret"));
	kc_passphrase_wipe(&p);
}

/* File first, then KCOURIERD_PASSPHRASE, then KCOURIER_PASSPHRASE. */
TEST_F(pki, passphrase_sources_in_order)
{
	char long_line[KC_PASSPHRASE_MAX + 2];
	struct kc_passphrase p;

	setenv("KCOURIERD_PASSPHRASE", "agent var", 1);
	setenv("KCOURIER_PASSPHRASE", "client var", 1);
	ASSERT_EQ(0, pass_from_file(self->tmp, "from file\r\nsecond line\n", 23,
				    &p));
	EXPECT_STREQ("from file", p.text);
	EXPECT_EQ(9, p.len);
	ASSERT_EQ(0, kc_state_passphrase(NULL, false, &p));
	EXPECT_STREQ("agent var", p.text);
	setenv("KCOURIERD_PASSPHRASE", "", 1); /* empty counts as unset */
	ASSERT_EQ(0, kc_state_passphrase(NULL, false, &p));
	EXPECT_STREQ("client var", p.text);
	EXPECT_EQ(10, kc_passphrase_supply(long_line, sizeof(long_line), &p));
	EXPECT_EQ(0, memcmp(long_line, "client var", 10));

	EXPECT_EQ(-EINVAL, pass_from_file(self->tmp, "\n", 1, &p));
	EXPECT_EQ(0, p.len);
	memset(long_line, 'x', sizeof(long_line));
	EXPECT_EQ(-EINVAL, pass_from_file(self->tmp, long_line,
					  KC_PASSPHRASE_MAX + 1, &p));
	EXPECT_EQ(0,
		  pass_from_file(self->tmp, long_line, KC_PASSPHRASE_MAX, &p));
	EXPECT_EQ(KC_PASSPHRASE_MAX, p.len);
	kc_passphrase_wipe(&p);
	EXPECT_EQ(0, p.len);
	EXPECT_EQ(-ENOENT, kc_state_passphrase("/nonexistent/pass", false, &p));
}

int main(int argc, char **argv)
{
	int ret;

	shared_setup();
	ret = test_harness_run(argc, argv);
	shared_cleanup();
	return ret;
}
