// SPDX-License-Identifier: GPL-2.0-only
/*
 * GnuTLS private keys signed by OpenSSL; see extkey.h.
 */
#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <openssl/rsa.h>

#include "tls/extkey.h"

/* The digest of a signature scheme we offer, or NULL. */
static const EVP_MD *pss_digest(gnutls_sign_algorithm_t algo)
{
	switch (algo) {
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256:
		return EVP_sha256();
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384:
		return EVP_sha384();
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/*
 * GnuTLS hashes the signed content itself and hands over the digest
 * (GnuTLS 3.7 calls an external key's sign_data only for schemes that do
 * not prehash, EdDSA): the digest is signed as it is.
 */
static int pss_sign_digest(EVP_PKEY *key, const EVP_MD *md,
			   const gnutls_datum_t *digest, gnutls_datum_t *sig)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t len = (size_t)EVP_PKEY_get_size(key);
	int ret = GNUTLS_E_PK_SIGN_FAILED;

	sig->data = gnutls_malloc(len);
	if (!ctx || !sig->data)
		goto out;
	if (digest->size != (unsigned int)EVP_MD_get_size(md) ||
	    EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) !=
		    1 ||
	    EVP_PKEY_sign(ctx, sig->data, &len, digest->data, digest->size) !=
		    1)
		goto out;
	sig->size = (unsigned int)len;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	if (ret) {
		gnutls_free(sig->data);
		sig->data = NULL;
	}
	return ret;
}

static int sign_hash(gnutls_privkey_t pk, gnutls_sign_algorithm_t algo,
		     void *userdata, unsigned int flags,
		     const gnutls_datum_t *digest, gnutls_datum_t *sig)
{
	const EVP_MD *md = pss_digest(algo);

	/* GnuTLS 3.7 leaves GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS out for RSAE. */
	if (!md)
		return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM;
	return pss_sign_digest(userdata, md, digest, sig);
}

/* Everything GnuTLS asks before it picks a scheme for this key. */
static int key_info(gnutls_privkey_t pk, unsigned int flags, void *userdata)
{
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return GNUTLS_PK_RSA;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return EVP_PKEY_get_bits(userdata);
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return pss_digest(GNUTLS_FLAGS_TO_SIGN_ALGO(flags)) != NULL;
	if (flags & GNUTLS_PRIVKEY_INFO_SIGN_ALGO)
		return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	return -1;
}

static void key_deinit(gnutls_privkey_t pk, void *userdata)
{
	EVP_PKEY_free(userdata);
}

int kc_privkey_from_evp(EVP_PKEY *key, gnutls_privkey_t *out)
{
	gnutls_privkey_t pk = NULL;

	*out = NULL;
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		return -EINVAL;
	if (gnutls_privkey_init(&pk) < 0)
		return -ENOMEM;
	if (!EVP_PKEY_up_ref(key)) {
		gnutls_privkey_deinit(pk);
		return -ENOMEM;
	}
	/* Once imported, GnuTLS owns that reference: key_deinit drops it. */
	if (gnutls_privkey_import_ext4(
		    pk, key, NULL, sign_hash, NULL, key_deinit, key_info,
		    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0) {
		EVP_PKEY_free(key);
		gnutls_privkey_deinit(pk);
		return -ENOMEM;
	}
	*out = pk;
	return 0;
}
