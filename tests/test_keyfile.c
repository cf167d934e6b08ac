// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key files (lib/keyfile.c): encrypted PKCS#8 with the PBES2 parameters
 * keyfile.h promises (read back from the DER, not trusted from the
 * writer), passphrase handling, O_EXCL and modes, and every PEM form the
 * loaders accept or must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"

#include "crypto/crypto.h"
#include "crypto/keyfile.h"

#define PASS "correct horse battery staple"

struct pass_arg {
	const char *text; /* NULL: fail with err */
	int err;
	int calls;
};

static int test_pass(char *buf, size_t cap, void *arg)
{
	struct pass_arg *pa = arg;
	size_t len;

	pa->calls++;
	if (!pa->text)
		return pa->err;
	len = strlen(pa->text);
	if (len > cap)
		return -EINVAL;
	memcpy(buf, pa->text, len);
	return (int)len;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* PEM text from one of OpenSSL's writers. */
static char *pem_of(int (*writer)(BIO *, void *), void *obj, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy = NULL;
	long n;

	if (bio && writer(bio, obj)) {
		n = BIO_get_mem_data(bio, &data);
		copy = strndup(data, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(bio);
	return copy;
}

static int write_plain_pkcs8(BIO *bio, void *key)
{
	return PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
}

static int write_traditional(BIO *bio, void *key)
{
	return PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0,
						    NULL, NULL);
}

static int write_traditional_encrypted(BIO *bio, void *key)
{
	return PEM_write_bio_PrivateKey_traditional(
		bio, key, EVP_aes_128_cbc(), (unsigned char *)PASS,
		strlen(PASS), NULL, NULL);
}

static int write_spki(BIO *bio, void *key)
{
	return PEM_write_bio_PUBKEY(bio, key);
}

static int write_cert(BIO *bio, void *cert)
{
	return PEM_write_bio_X509(bio, cert);
}

/* A minimal self-signed certificate carrying key. */
static X509 *self_signed(EVP_PKEY *key)
{
	X509 *cert = X509_new();
	X509_NAME *name;

	if (!cert)
		return NULL;
	name = X509_get_subject_name(cert);
	if (!X509_set_version(cert, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"kc-test", -1,
					-1, 0) ||
	    !X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key) ||
	    !X509_sign(cert, key, EVP_sha256())) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

FIXTURE(keyfile)
{
	char dir[64];
	char priv[PATH_MAX];
	char pub[PATH_MAX];
	EVP_PKEY *key;
};

FIXTURE_SETUP(keyfile)
{
	strcpy(self->dir, "/tmp/kc-keyfile-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->priv, sizeof(self->priv), "%s/k.pem", self->dir);
	snprintf(self->pub, sizeof(self->pub), "%s/k.pub.pem", self->dir);
	ASSERT_EQ(0, kc_rsa_generate(&self->key));
}

FIXTURE_TEARDOWN(keyfile)
{
	unlink(self->priv);
	unlink(self->pub);
	rmdir(self->dir);
	EVP_PKEY_free(self->key);
}

TEST_F(keyfile, encrypted_round_trip)
{
	struct pass_arg pa = { .text = PASS };
	EVP_PKEY *back = NULL;
	struct stat st;
	size_t len;
	char *pem;

	ASSERT_EQ(0, kc_key_save_private(self->priv, self->key, PASS,
					 strlen(PASS)));
	ASSERT_EQ(0, stat(self->priv, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	pem = slurp(self->priv, &len);
	ASSERT_NE(NULL, pem);
	EXPECT_NE(NULL, strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	free(pem);
	ASSERT_EQ(0, kc_key_load_private(self->priv, test_pass, &pa, &back));
	EXPECT_EQ(1, pa.calls);
	EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
	EVP_PKEY_free(back);
}

TEST_F(keyfile, wrong_passphrase)
{
	struct pass_arg pa = { .text = "correct horse battery stapler" };
	EVP_PKEY *back = NULL;

	ASSERT_EQ(0, kc_key_save_private(self->priv, self->key, PASS,
					 strlen(PASS)));
	EXPECT_EQ(-EBADMSG,
		  kc_key_load_private(self->priv, test_pass, &pa, &back));
	EXPECT_EQ(NULL, back);
	/* Asked once, even though OpenSSL tries more than one decoder. */
	EXPECT_EQ(1, pa.calls);
	EXPECT_EQ(0, ERR_peek_error());
}

/* The passphrase callback's own error comes back, not -EBADMSG. */
TEST_F(keyfile, passphrase_source_error)
{
	struct pass_arg pa = { .text = NULL, .err = -ENXIO };
	EVP_PKEY *back = NULL;

	ASSERT_EQ(0, kc_key_save_private(self->priv, self->key, PASS,
					 strlen(PASS)));
	EXPECT_EQ(-ENXIO,
		  kc_key_load_private(self->priv, test_pass, &pa, &back));
	EXPECT_EQ(-ENOKEY, kc_key_load_private(self->priv, NULL, NULL, &back));
	EXPECT_EQ(-ENOKEY, kc_key_load_public(self->priv, &back));
	EXPECT_EQ(NULL, back);
}

/*
 * Reads the AlgorithmIdentifier back from the file's DER: PBES2 with
 * PBKDF2 (PRF hmacWithSHA256, 600000 iterations, 16-byte salt) and
 * AES-256-CBC (RFC 8018 appendix A.2 and A.4).
 */
TEST_F(keyfile, pbes2_parameters)
{
	PBKDF2PARAM *kdf = NULL;
	PBE2PARAM *pbe2 = NULL;
	const X509_ALGOR *alg;
	X509_SIG *p8 = NULL;
	int prf = NID_hmacWithSHA1;
	FILE *f;

	ASSERT_EQ(0, kc_key_save_private(self->priv, self->key, PASS,
					 strlen(PASS)));
	f = fopen(self->priv, "r");
	ASSERT_NE(NULL, f);
	p8 = PEM_read_PKCS8(f, NULL, NULL, NULL);
	fclose(f);
	ASSERT_NE(NULL, p8);
	X509_SIG_get0(p8, &alg, NULL);
	ASSERT_EQ(NID_pbes2, OBJ_obj2nid(alg->algorithm));
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
					 alg->parameter);
	ASSERT_NE(NULL, pbe2);
	EXPECT_EQ(NID_aes_256_cbc, OBJ_obj2nid(pbe2->encryption->algorithm));
	ASSERT_EQ(NID_id_pbkdf2, OBJ_obj2nid(pbe2->keyfunc->algorithm));
	kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
					pbe2->keyfunc->parameter);
	ASSERT_NE(NULL, kdf);
	EXPECT_EQ(KC_PBKDF2_ITER, ASN1_INTEGER_get(kdf->iter));
	EXPECT_EQ(600000, ASN1_INTEGER_get(kdf->iter));
	if (kdf->prf)
		prf = OBJ_obj2nid(kdf->prf->algorithm);
	EXPECT_EQ(NID_hmacWithSHA256, prf);
	ASSERT_EQ(V_ASN1_OCTET_STRING, kdf->salt->type);
	EXPECT_EQ(16, kdf->salt->value.octet_string->length);
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
	X509_SIG_free(p8);
}

TEST_F(keyfile, never_overwrites)
{
	size_t len1, len2;
	char *before, *after;

	ASSERT_EQ(0, kc_key_save_private(self->priv, self->key, PASS,
					 strlen(PASS)));
	before = slurp(self->priv, &len1);
	ASSERT_NE(NULL, before);
	EXPECT_EQ(-EEXIST, kc_key_save_private(self->priv, self->key, "x", 1));
	EXPECT_EQ(-EEXIST, kc_key_save_public(self->priv, self->key));
	after = slurp(self->priv, &len2);
	ASSERT_NE(NULL, after);
	EXPECT_EQ(len1, len2);
	EXPECT_EQ(0, memcmp(before, after, len1));
	free(before);
	free(after);
}

TEST_F(keyfile, empty_passphrase_refused)
{
	EXPECT_EQ(-EINVAL, kc_key_save_private(self->priv, self->key, "", 0));
	EXPECT_EQ(-1, access(self->priv, F_OK));
}

TEST_F(keyfile, public_key_file)
{
	EVP_PKEY *back = NULL;
	struct stat st;

	ASSERT_EQ(0, kc_key_save_public(self->pub, self->key));
	ASSERT_EQ(0, stat(self->pub, &st));
	EXPECT_EQ(0, st.st_mode & 0133); /* at most 0644 */
	ASSERT_EQ(0, kc_key_load_public(self->pub, &back));
	EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
	EVP_PKEY_free(back);
	/* A public key is no private key. */
	EXPECT_EQ(-EBADMSG, kc_key_load_private(self->pub, NULL, NULL, &back));
}

TEST_F(keyfile, certificate_gives_its_key)
{
	X509 *cert = self_signed(self->key);
	EVP_PKEY *back = NULL;
	size_t len;
	char *pem;

	ASSERT_NE(NULL, cert);
	pem = pem_of(write_cert, cert, &len);
	ASSERT_NE(NULL, pem);
	ASSERT_EQ(0, kc_key_parse_public(pem, len, &back));
	EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
	EVP_PKEY_free(back);
	EXPECT_EQ(-EBADMSG, kc_key_parse_private(pem, len, NULL, NULL, &back));
	free(pem);
	X509_free(cert);
}

/* Plain PKCS#8 and traditional RSA PEM, as private and as public. */
TEST_F(keyfile, plain_private_forms)
{
	int (*writers[])(BIO *, void *) = { write_plain_pkcs8,
					    write_traditional };
	unsigned char *der = NULL;
	EVP_PKEY *back = NULL;
	size_t i, len, der_len;
	char *pem;

	for (i = 0; i < 2; i++) {
		pem = pem_of(writers[i], self->key, &len);
		ASSERT_NE(NULL, pem);
		ASSERT_EQ(0, kc_key_parse_private(pem, len, NULL, NULL, &back));
		EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
		EVP_PKEY_free(back);
		back = NULL;
		ASSERT_EQ(0, kc_key_parse_public(pem, len, &back));
		EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
		/* Only the public half came out. */
		EXPECT_EQ(-EINVAL, kc_key_pkcs8_der(back, &der, &der_len));
		EVP_PKEY_free(back);
		back = NULL;
		free(pem);
	}
}

TEST_F(keyfile, traditional_encrypted)
{
	struct pass_arg pa = { .text = PASS };
	struct pass_arg wrong = { .text = "nope" };
	EVP_PKEY *back = NULL;
	size_t len;
	char *pem;

	pem = pem_of(write_traditional_encrypted, self->key, &len);
	ASSERT_NE(NULL, pem);
	ASSERT_NE(NULL, strstr(pem, "ENCRYPTED"));
	EXPECT_EQ(-EBADMSG,
		  kc_key_parse_private(pem, len, test_pass, &wrong, &back));
	EXPECT_EQ(1, wrong.calls);
	EXPECT_EQ(-ENOKEY, kc_key_parse_public(pem, len, &back));
	ASSERT_EQ(0, kc_key_parse_private(pem, len, test_pass, &pa, &back));
	EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
	EVP_PKEY_free(back);
	free(pem);
}

TEST_F(keyfile, pkcs8_der_round_trip)
{
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8;
	unsigned char *der = NULL;
	EVP_PKEY *back;
	size_t len;

	ASSERT_EQ(0, kc_key_pkcs8_der(self->key, &der, &len));
	p = der;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	ASSERT_NE(NULL, p8);
	EXPECT_EQ(der + len, p);
	back = EVP_PKCS82PKEY(p8);
	ASSERT_NE(NULL, back);
	EXPECT_EQ(1, EVP_PKEY_eq(self->key, back));
	EVP_PKEY_free(back);
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_clear_free(der, len);
}

TEST_F(keyfile, refuses_garbage)
{
	static const char *const texts[] = {
		"",
		"hello",
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
		"-----BEGIN FOO-----\nMAA=\n-----END FOO-----\n",
	};
	struct pass_arg pa = { .text = PASS };
	EVP_PKEY *back = NULL;
	size_t i, len;
	char *pem;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		len = strlen(texts[i]);
		EXPECT_EQ(-EBADMSG, kc_key_parse_public(texts[i], len, &back));
		EXPECT_EQ(-EBADMSG, kc_key_parse_private(texts[i], len,
							 test_pass, &pa, &back));
	}
	/* A valid SPKI cut short. */
	pem = pem_of(write_spki, self->key, &len);
	ASSERT_NE(NULL, pem);
	EXPECT_EQ(-EBADMSG, kc_key_parse_public(pem, len / 2, &back));
	EXPECT_EQ(NULL, back);
	EXPECT_EQ(0, pa.calls);
	EXPECT_EQ(-ENOENT, kc_key_load_public("/nonexistent/k.pem", &back));
	EXPECT_EQ(-ENOENT, kc_key_load_private("/nonexistent/k.pem", NULL,
					       NULL, &back));
	free(pem);
}

/* DER with a byte after the SPKI or certificate is not that object. */
TEST_F(keyfile, refuses_trailing_der)
{
	static const char *const labels[] = { "PUBLIC KEY", "CERTIFICATE" };
	X509 *cert = self_signed(self->key);
	unsigned char *der[2] = { NULL, NULL };
	EVP_PKEY *back = NULL;
	int der_len[2], i;
	char *data;
	BIO *bio;
	long n;

	ASSERT_NE(NULL, cert);
	der_len[0] = i2d_PUBKEY(self->key, &der[0]);
	der_len[1] = i2d_X509(cert, &der[1]);
	for (i = 0; i < 2; i++) {
		ASSERT_GT(der_len[i], 0);
		der[i] = OPENSSL_realloc(der[i], der_len[i] + 1);
		ASSERT_NE(NULL, der[i]);
		der[i][der_len[i]] = 0;
		bio = BIO_new(BIO_s_mem());
		ASSERT_NE(NULL, bio);
		/* Positive control first: the exact DER loads. */
		ASSERT_GT(PEM_write_bio(bio, labels[i], "", der[i], der_len[i]), 0);
		n = BIO_get_mem_data(bio, &data);
		ASSERT_EQ(0, kc_key_parse_public(data, (size_t)n, &back));
		EVP_PKEY_free(back);
		back = NULL;
		BIO_reset(bio);
		ASSERT_GT(PEM_write_bio(bio, labels[i], "", der[i],
					der_len[i] + 1), 0);
		n = BIO_get_mem_data(bio, &data);
		EXPECT_EQ(-EBADMSG, kc_key_parse_public(data, (size_t)n, &back));
		BIO_free(bio);
		OPENSSL_free(der[i]);
	}
	X509_free(cert);
}

TEST_HARNESS_MAIN
