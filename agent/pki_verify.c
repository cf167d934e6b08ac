// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checking certificates against the agent CA: client certificates
 * presented on a connection, keys against the certificates on disk, and
 * the CA fingerprint clients pin (PROTOCOL.md section 3).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto.h"
#include "gnutls_util.h"
#include "pki.h"

#define DER_UTF8STRING 0x0c
#define OID_MAX 128

/* The certificate's SubjectPublicKeyInfo as DER; gnutls_free() it. */
static int crt_spki(gnutls_x509_crt_t crt, gnutls_datum_t *out)
{
	gnutls_pubkey_t pk = NULL;
	int ret;

	ret = kc_gnutls_err(gnutls_pubkey_init(&pk));
	if (!ret)
		ret = kc_gnutls_err(gnutls_pubkey_import_x509(pk, crt, 0));
	if (!ret)
		ret = kc_gnutls_err(
			gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, out));
	gnutls_pubkey_deinit(pk);
	return ret;
}

int kc_pki_fingerprint(gnutls_x509_crt_t crt, char hex[KC_PKI_FPR_LEN + 1])
{
	gnutls_datum_t spki = { NULL, 0 };
	int ret;

	ret = crt_spki(crt, &spki);
	if (ret)
		return ret;
	kc_spki_fingerprint(spki.data, spki.size, hex);
	gnutls_free(spki.data);
	return hex[0] ? 0 : -EIO;
}

int kc_pki_key_matches(gnutls_x509_crt_t crt, EVP_PKEY *key)
{
	gnutls_datum_t spki = { NULL, 0 };
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = crt_spki(crt, &spki);
	if (!ret)
		ret = kc_spki_der(key, &der, &len);
	if (!ret && (len != spki.size || memcmp(der, spki.data, len)))
		ret = -EKEYREJECTED;
	gnutls_free(spki.data);
	OPENSSL_free(der);
	return ret;
}

/* Signature, validity period and the CA's own constraints. */
static int check_chain(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned int status = 0;

	if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0 || status)
		return -EKEYREJECTED;
	return 0;
}

/* An end entity for TLS client authentication, as issued by us. */
static int check_usage(gnutls_x509_crt_t crt)
{
	unsigned int critical, is_ca = 0, usage = 0, i;
	char oid[OID_MAX];
	size_t len;
	int pathlen, rc;

	rc = gnutls_x509_crt_get_basic_constraints(crt, &critical, &is_ca,
						   &pathlen);
	if ((rc < 0 && rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) || is_ca)
		return -EKEYREJECTED;
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) < 0 ||
	    !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE))
		return -EKEYREJECTED;
	for (i = 0;; i++) {
		len = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len,
							&critical) < 0)
			return -EKEYREJECTED;
		if (!strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT))
			return 0;
	}
}

static int check_key(gnutls_x509_crt_t crt)
{
	gnutls_datum_t spki = { NULL, 0 };
	EVP_PKEY *key = NULL;
	int ret = 0;

	if (crt_spki(crt, &spki))
		return -EKEYREJECTED;
	if (kc_spki_parse(spki.data, spki.size, &key) || kc_rsa_check(key))
		ret = -EKEYREJECTED;
	EVP_PKEY_free(key);
	gnutls_free(spki.data);
	return ret;
}

/* Exactly one CN, DER UTF8String (short form length), a valid client id. */
static int get_client_id(gnutls_x509_crt_t crt, char id[KC_CLIENT_ID_MAX + 1])
{
	uint8_t der[2 + KC_CLIENT_ID_MAX];
	size_t len = sizeof(der), extra = 0;
	size_t n;

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  1, der, &len) < 0)
		return -EKEYREJECTED;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1,
					  1, NULL, &extra) !=
	    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return -EKEYREJECTED;
	if (len < 2 || der[0] != DER_UTF8STRING || der[1] != len - 2)
		return -EKEYREJECTED;
	n = len - 2;
	if (!kc_client_id_valid(der + 2, n))
		return -EKEYREJECTED;
	memcpy(id, der + 2, n);
	id[n] = '\0';
	return 0;
}

/* The DER must be one certificate and nothing after it. */
static int import_exact(gnutls_x509_crt_t crt, const uint8_t *der, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)der, (unsigned int)len };
	gnutls_datum_t out = { NULL, 0 };
	int ret = 0;

	if (len == 0 || len > UINT32_MAX ||
	    gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER) < 0)
		return -EBADMSG;
	if (kc_pki_crt_der(crt, &out))
		return -EBADMSG;
	if (out.size != len || memcmp(out.data, der, len))
		ret = -EBADMSG;
	gnutls_free(out.data);
	return ret;
}

int kc_pki_verify_client(gnutls_x509_crt_t ca, const uint8_t *der, size_t len,
			 char id[KC_CLIENT_ID_MAX + 1])
{
	gnutls_x509_crt_t crt = NULL;
	int ret;

	ret = kc_gnutls_err(gnutls_x509_crt_init(&crt));
	if (!ret)
		ret = import_exact(crt, der, len);
	if (!ret)
		ret = check_chain(crt, ca);
	if (!ret)
		ret = check_usage(crt);
	if (!ret)
		ret = check_key(crt);
	if (!ret)
		ret = get_client_id(crt, id);
	gnutls_x509_crt_deinit(crt);
	return ret;
}
