// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client certificate judgement (PROTOCOL.md section 3): see tls_peer.h.
 * Every check reports -EACCES with a reason meant for the agent's log; the
 * client itself only ever hears ERROR UNAUTHORIZED.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/x509.h>

#include "conn/peer_cache.h"
#include "conn/tls_peer.h"
#include "wire/wire.h"

_Static_assert(KC_TLS_ID_SIZE == KC_PEER_ID_SIZE,
	       "the cache keeps ids of the size judged here");

#define OID_TEXT_MAX 128

static int refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	/* GnuTLS's status texts end in a space. */
	len = strlen(why);
	while (len && why[len - 1] == ' ')
		why[--len] = '\0';
	return -EACCES;
}

/*
 * Chain to the CA in the credentials' trust list, dates, signatures, and
 * an extendedKeyUsage that, if present anywhere in the chain, allows
 * clientAuth. No host name: a client is named by its CN, checked below.
 */
static int verify_chain(gnutls_session_t session, char *why, size_t why_len)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	gnutls_datum_t text = { NULL, 0 };
	unsigned int status = 0;
	int ret;

	ret = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
	if (ret < 0)
		return refuse(why, why_len, "client certificate: %s",
			      gnutls_strerror(ret));
	if (!status)
		return 0;
	ret = gnutls_certificate_verification_status_print(
		status, GNUTLS_CRT_X509, &text, 0);
	refuse(why, why_len, "client certificate: %s",
	       ret < 0 ? "does not verify" : (const char *)text.data);
	gnutls_free(text.data);
	return -EACCES;
}

/* GnuTLS accepts a certificate without extendedKeyUsage; we do not. */
static int has_client_auth(gnutls_x509_crt_t crt)
{
	char oid[OID_TEXT_MAX];
	size_t size;
	unsigned int i;
	int ret;

	for (i = 0;; i++) {
		size = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size,
							  NULL);
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* longer than any OID we look for */
		if (ret < 0)
			return 0;
		if (!strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT))
			return 1;
	}
}

static int check_usage(gnutls_x509_crt_t crt, char *why, size_t why_len)
{
	unsigned int usage = 0;

	if (!has_client_auth(crt))
		return refuse(why, why_len,
			      "client certificate lacks the clientAuth EKU");
	if (gnutls_x509_crt_get_key_usage(crt, &usage, NULL) < 0 ||
	    !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE))
		return refuse(
			why, why_len,
			"client certificate lacks digitalSignature usage");
	return 0;
}

/* PROTOCOL.md section 1: RSA means 2048 bits and e = 65537, nothing else. */
static int check_rsa_key(gnutls_x509_crt_t crt, char *why, size_t why_len)
{
	static const unsigned char f4[] = { 0x01, 0x00, 0x01 };
	gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };
	const unsigned char *ep;
	unsigned int bits = 0, elen;
	int ok;

	if (gnutls_x509_crt_get_pk_algorithm(crt, &bits) != GNUTLS_PK_RSA ||
	    bits != 2048)
		return refuse(why, why_len,
			      "client key is not RSA-2048 (%u bits)", bits);
	if (gnutls_x509_crt_get_pk_rsa_raw(crt, &m, &e) < 0)
		return refuse(why, why_len, "client key unreadable");
	ep = e.data;
	elen = e.size;
	while (elen && !*ep) { /* an INTEGER may carry a leading zero */
		ep++;
		elen--;
	}
	ok = elen == sizeof(f4) && !memcmp(ep, f4, sizeof(f4));
	gnutls_free(m.data);
	gnutls_free(e.data);
	if (!ok)
		return refuse(why, why_len, "client key exponent is not 65537");
	return 0;
}

static int read_client_id(gnutls_x509_crt_t crt, char id[KC_TLS_ID_SIZE],
			  char *why, size_t why_len)
{
	char extra[KC_TLS_ID_SIZE];
	size_t size = KC_TLS_ID_SIZE, extra_size = sizeof(extra);
	int ret;

	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					    0, id, &size);
	if (ret < 0)
		return refuse(why, why_len, "client certificate CN: %s",
			      gnutls_strerror(ret));
	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1,
					    0, extra, &extra_size);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return refuse(why, why_len, "client certificate has two CNs");
	if (size >= KC_TLS_ID_SIZE ||
	    !kc_client_id_valid((const uint8_t *)id, size))
		return refuse(why, why_len,
			      "client certificate CN is not a client id");
	id[size] = '\0';
	return 0;
}

/* The checks of the leaf itself; *valid is its validity, for the cache. */
static int judge_leaf(const gnutls_datum_t *der, char id[KC_TLS_ID_SIZE],
		      time_t valid[2], char *why, size_t why_len)
{
	gnutls_x509_crt_t crt = NULL;
	int ret;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	ret = -EACCES;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
		refuse(why, why_len, "client certificate does not parse");
		goto cleanup;
	}
	ret = check_usage(crt, why, why_len);
	if (!ret)
		ret = check_rsa_key(crt, why, why_len);
	if (!ret)
		ret = read_client_id(crt, id, why, why_len);
	valid[0] = gnutls_x509_crt_get_activation_time(crt);
	valid[1] = gnutls_x509_crt_get_expiration_time(crt);
cleanup:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int kc_tls_judge_peer(gnutls_session_t session, struct kc_peer_cache *cache,
		      char id[KC_TLS_ID_SIZE], char *why, size_t why_len)
{
	uint8_t key[KC_PEER_HASH_LEN];
	const gnutls_datum_t *certs;
	time_t now = time(NULL), valid[2];
	unsigned int n = 0;
	bool keyed;
	int ret;

	id[0] = '\0';
	certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || !n)
		return -ENOENT;
	keyed = cache && !kc_peer_cache_key(certs, n, key);
	if (keyed && kc_peer_cache_get(cache, key, now, id))
		return 0;
	ret = verify_chain(session, why, why_len);
	if (!ret)
		ret = judge_leaf(&certs[0], id, valid, why, why_len);
	if (ret)
		explicit_bzero(id, KC_TLS_ID_SIZE);
	else if (keyed)
		kc_peer_cache_put(cache, key, id, valid[0], valid[1], now);
	return ret;
}
