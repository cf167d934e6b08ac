// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key files in the PEM forms OpenSSL and Python's cryptography write, so
 * keys from `openssl genpkey` work unchanged and ours open elsewhere.
 *
 * Private keys are stored as PKCS#8 EncryptedPrivateKeyInfo (RFC 5958)
 * with PBES2 (RFC 8018 section 6.2): PBKDF2-HMAC-SHA256 at KC_PBKDF2_ITER
 * iterations, as OWASP recommends for PBKDF2-SHA256, and AES-256-CBC.
 * OpenSSL's one-call PKCS#8 writers fix the iteration count at 2048, so
 * the PBES2 parameters are built here explicitly.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "base/fileio.h"
#include "crypto/keyfile.h"

/* Far above any RSA key or short certificate chain in PEM. */
#define KEYFILE_MAX (256 * 1024)
/* RFC 8018 asks for at least 64 bits; 128 is the NIST SP 800-132 floor. */
#define PBKDF2_SALT_LEN 16
#define PASS_MAX 1024

/*
 * OpenSSL may ask for the passphrase more than once for one key (its
 * decoder and its legacy PEM reader each try), so the first answer is
 * kept here and the caller's callback, which may prompt a user, runs once.
 */
struct pass_ctx {
	kc_pass_fn fn;
	void *arg;
	int err;
	int len; /* < 0 until asked */
	char cache[PASS_MAX];
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	int n;

	if (pc->err)
		return -1;
	if (pc->len < 0) {
		n = pc->fn ? pc->fn(pc->cache, sizeof(pc->cache), pc->arg)
			   : -ENOKEY;
		if (n < 0) {
			pc->err = n;
			return -1;
		}
		pc->len = n < PASS_MAX ? n : PASS_MAX;
	}
	n = pc->len < size ? pc->len : size;
	memcpy(buf, pc->cache, (size_t)n);
	return n;
}

static void wipe_free(uint8_t *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

int kc_key_parse_private(const char *pem, size_t len, kc_pass_fn pass,
			 void *arg, EVP_PKEY **out)
{
	struct pass_ctx pc = { .fn = pass, .arg = arg, .len = -1 };
	EVP_PKEY *key;
	BIO *bio;

	if (len > INT_MAX)
		return -EBADMSG;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, &pc);
	BIO_free(bio);
	explicit_bzero(pc.cache, sizeof(pc.cache));
	/* Wrong passphrases and garbage leave errors queued; none matter. */
	ERR_clear_error();
	if (!key)
		return pc.err ? pc.err : -EBADMSG;
	*out = key;
	return 0;
}

int kc_key_load_private(const char *path, kc_pass_fn pass, void *arg,
			EVP_PKEY **out)
{
	size_t len;
	uint8_t *pem;
	int ret;

	ret = kc_file_read(path, KEYFILE_MAX, &pem, &len);
	if (ret)
		return ret;
	ret = kc_key_parse_private((const char *)pem, len, pass, arg, out);
	wipe_free(pem, len);
	return ret;
}

int kc_key_public_half(EVP_PKEY *key, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub;
	int len;

	len = i2d_PUBKEY(key, &der);
	if (len <= 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	p = der;
	pub = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	if (!pub) {
		ERR_clear_error();
		return -ENOMEM;
	}
	*out = pub;
	return 0;
}

static int public_from_private(const char *pem, size_t len, EVP_PKEY **out)
{
	EVP_PKEY *priv = NULL;
	int ret;

	/* No callback: an encrypted key comes back as -ENOKEY. */
	ret = kc_key_parse_private(pem, len, NULL, NULL, &priv);
	if (ret)
		return ret;
	ret = kc_key_public_half(priv, out);
	EVP_PKEY_free(priv);
	return ret;
}

/* d2i must consume the whole DER body, with nothing left over. */
static int public_from_spki(const unsigned char *der, long len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *key;

	key = d2i_PUBKEY(NULL, &p, len);
	if (!key)
		return -EBADMSG;
	if (p != der + len) {
		EVP_PKEY_free(key);
		return -EBADMSG;
	}
	*out = key;
	return 0;
}

static int public_from_cert(const unsigned char *der, long len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *key = NULL;
	X509 *cert;

	cert = d2i_X509(NULL, &p, len);
	if (!cert)
		return -EBADMSG;
	if (p == der + len)
		key = X509_get_pubkey(cert);
	X509_free(cert);
	if (!key)
		return -EBADMSG;
	*out = key;
	return 0;
}

static bool is_private_label(const char *name)
{
	return !strcmp(name, PEM_STRING_PKCS8INF) ||
	       !strcmp(name, PEM_STRING_PKCS8) || !strcmp(name, PEM_STRING_RSA);
}

/* The first PEM block decides what the text holds. */
int kc_key_parse_public(const char *pem, size_t len, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	long der_len = 0;
	BIO *bio;
	int ret = -EBADMSG;

	if (len > INT_MAX)
		return -EBADMSG;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	if (!PEM_read_bio(bio, &name, &header, &der, &der_len))
		goto cleanup;
	if (!strcmp(name, PEM_STRING_PUBLIC))
		ret = public_from_spki(der, der_len, out);
	else if (!strcmp(name, PEM_STRING_X509))
		ret = public_from_cert(der, der_len, out);
	else if (is_private_label(name))
		ret = public_from_private(pem, len, out);
cleanup:
	BIO_free(bio);
	OPENSSL_free(name);
	OPENSSL_free(header);
	/* The block may be a plain private key. */
	OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
	ERR_clear_error();
	return ret;
}

int kc_key_load_public(const char *path, EVP_PKEY **out)
{
	size_t len;
	uint8_t *pem;
	int ret;

	ret = kc_file_read(path, KEYFILE_MAX, &pem, &len);
	if (ret)
		return ret;
	ret = kc_key_parse_public((const char *)pem, len, out);
	wipe_free(pem, len);
	return ret;
}

static int write_bio_to_new_file(const char *path, mode_t mode, BIO *bio)
{
	char *data;
	long len;

	len = BIO_get_mem_data(bio, &data);
	if (len <= 0)
		return -EIO;
	return kc_file_write_new(path, mode, data, (size_t)len);
}

/* EncryptedPrivateKeyInfo with the PBES2 parameters described on top. */
static int encrypt_pkcs8(EVP_PKEY *key, const char *pass, size_t pass_len,
			 int iter, X509_SIG **out)
{
	unsigned char salt[PBKDF2_SALT_LEN];
	PKCS8_PRIV_KEY_INFO *p8inf;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	int ret = -EIO;

	p8inf = EVP_PKEY2PKCS8(key);
	if (!p8inf)
		return -EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		goto cleanup;
	/* A NULL iv makes OpenSSL draw a random one. */
	pbe = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), iter, salt,
				sizeof(salt), NULL, NID_hmacWithSHA256);
	if (!pbe)
		goto cleanup;
	p8 = PKCS8_set0_pbe(pass, (int)pass_len, p8inf, pbe);
	if (!p8)
		goto cleanup;
	pbe = NULL; /* now owned by p8 */
	*out = p8;
	ret = 0;
cleanup:
	X509_ALGOR_free(pbe);
	/* Its free function clears the key octets. */
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	ERR_clear_error();
	return ret;
}

int kc_key_save_private(const char *path, EVP_PKEY *key, const char *pass,
			size_t pass_len)
{
	return kc_key_save_private_iter(path, key, pass, pass_len,
					KC_PBKDF2_ITER);
}

int kc_key_save_private_iter(const char *path, EVP_PKEY *key,
			     const char *pass, size_t pass_len,
			     unsigned int iter)
{
	X509_SIG *p8 = NULL;
	BIO *bio = NULL;
	int ret;

	if (pass_len == 0 || pass_len > INT_MAX || iter == 0 || iter > INT_MAX)
		return -EINVAL;
	ret = encrypt_pkcs8(key, pass, pass_len, (int)iter, &p8);
	if (ret)
		return ret;
	ret = -ENOMEM;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		goto cleanup;
	ret = -EIO;
	if (!PEM_write_bio_PKCS8(bio, p8))
		goto cleanup;
	ret = write_bio_to_new_file(path, 0600, bio);
cleanup:
	BIO_free(bio);
	X509_SIG_free(p8);
	ERR_clear_error();
	return ret;
}

int kc_key_save_public(const char *path, EVP_PKEY *key)
{
	BIO *bio;
	int ret = -EIO;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_PUBKEY(bio, key))
		ret = write_bio_to_new_file(path, 0644, bio);
	BIO_free(bio);
	ERR_clear_error();
	return ret;
}

int kc_key_pkcs8_der(EVP_PKEY *key, unsigned char **der, size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8inf;
	unsigned char *buf = NULL;
	int n;

	p8inf = EVP_PKEY2PKCS8(key);
	if (!p8inf) {
		ERR_clear_error();
		return -EINVAL;
	}
	n = i2d_PKCS8_PRIV_KEY_INFO(p8inf, &buf);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	if (n <= 0) {
		ERR_clear_error();
		return -ENOMEM;
	}
	*der = buf;
	*len = (size_t)n;
	return 0;
}
