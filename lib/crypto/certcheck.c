// SPDX-License-Identifier: GPL-2.0-only
/*
 * Certificate checks on the client side; see certcheck.h.
 *
 * The agent is also the CA, so these checks do not protect against a
 * malicious agent (PROTOCOL.md section 5); they stop everything else: a
 * certificate from another CA, one for another id, a seal certificate
 * passed off as an id certificate, an expired one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "crypto/certcheck.h"
#include "crypto/crypto.h"

static void set_why(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_why(char *why, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vsnprintf(why, KC_CERT_WHY_MAX, fmt, ap);
	va_end(ap);
}

static int import_der(struct kc_bytes der, gnutls_x509_crt_t *out)
{
	gnutls_datum_t d = { (unsigned char *)der.p, (unsigned int)der.len };
	int ret;

	*out = NULL;
	if (!der.p || !der.len || der.len > UINT32_MAX)
		return -EINVAL;
	if (gnutls_x509_crt_init(out) < 0)
		return -ENOMEM;
	ret = gnutls_x509_crt_import(*out, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		return ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* Signature by ca, validity dates, ca allowed to sign (CA:TRUE). */
static int check_issued(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca,
			char *why)
{
	gnutls_datum_t text = { NULL, 0 };
	unsigned int status = 0;

	if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0) {
		set_why(why, "certificate could not be verified");
		return -EKEYREJECTED;
	}
	if (!status)
		return 0;
	if (gnutls_certificate_verification_status_print(
		    status, GNUTLS_CRT_X509, &text, 0) >= 0) {
		set_why(why, "%s", (const char *)text.data);
		gnutls_free(text.data);
	} else {
		set_why(why, "certificate not issued by the pinned CA");
	}
	return -EKEYREJECTED;
}

static bool has_purpose(gnutls_x509_crt_t crt, const char *oid)
{
	char buf[128];
	unsigned int i;

	for (i = 0;; i++) {
		size_t size = sizeof(buf);

		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &size,
							NULL) < 0)
			return false;
		if (!strcmp(buf, oid))
			return true;
	}
}

static bool has_usage(gnutls_x509_crt_t crt, unsigned int bit)
{
	unsigned int usage = 0;

	return gnutls_x509_crt_get_key_usage(crt, &usage, NULL) >= 0 &&
	       (usage & bit);
}

static int crt_cn(gnutls_x509_crt_t crt, char *out, size_t cap)
{
	size_t size = cap;
	char extra[8];
	size_t extra_size = sizeof(extra);
	int ret;

	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					    0, 0, out, &size);
	if (ret < 0 || strlen(out) != size)
		return -EKEYREJECTED;
	/* Two CNs would make "the" client id ambiguous. */
	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					    1, 0, extra, &extra_size);
	return ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ? 0 : -EKEYREJECTED;
}

static int check_client(gnutls_x509_crt_t crt, const char *cn, char *why)
{
	char got[KC_CLIENT_ID_MAX + 2];

	if (crt_cn(crt, got, sizeof(got))) {
		set_why(why, "certificate has no single common name");
		return -EKEYREJECTED;
	}
	if (!cn || strcmp(got, cn)) {
		set_why(why, "certificate is for '%s', not '%s'", got,
			cn ? cn : "");
		return -EKEYREJECTED;
	}
	if (!has_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) ||
	    !has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT)) {
		set_why(why, "not a client certificate");
		return -EKEYREJECTED;
	}
	return 0;
}

static int check_role(gnutls_x509_crt_t crt, enum kc_cert_role role,
		      const char *cn, char *why)
{
	if (role == KC_CERT_CLIENT)
		return check_client(crt, cn, why);
	if (!has_usage(crt, GNUTLS_KEY_KEY_ENCIPHERMENT)) {
		set_why(why, "not a seal certificate (no keyEncipherment)");
		return -EKEYREJECTED;
	}
	return 0;
}

int kc_cert_check(struct kc_bytes cert, struct kc_bytes ca,
		  enum kc_cert_role role, const char *cn,
		  char why[KC_CERT_WHY_MAX])
{
	gnutls_x509_crt_t crt = NULL, ca_crt = NULL;
	int ret;

	set_why(why, "not a DER X.509 certificate");
	ret = import_der(cert, &crt);
	if (!ret)
		ret = import_der(ca, &ca_crt);
	if (!ret)
		ret = check_issued(crt, ca_crt, why);
	if (!ret)
		ret = check_role(crt, role, cn, why);
	if (!ret)
		set_why(why, "ok");
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca_crt);
	return ret;
}

int kc_cert_public_key(struct kc_bytes cert, EVP_PKEY **out)
{
	gnutls_datum_t spki = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int ret;

	*out = NULL;
	ret = import_der(cert, &crt);
	if (ret)
		return ret;
	ret = -ENOMEM;
	if (gnutls_pubkey_init(&pub) < 0)
		goto cleanup;
	ret = -EINVAL;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto cleanup;
	ret = kc_spki_parse(spki.data, spki.size, out);
cleanup:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int kc_cert_cn(struct kc_bytes cert, char *out, size_t cap)
{
	gnutls_x509_crt_t crt;
	int ret;

	ret = import_der(cert, &crt);
	if (ret)
		return ret;
	ret = crt_cn(crt, out, cap);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int kc_cert_to_pem(struct kc_bytes der, char **pem, size_t *pem_len)
{
	gnutls_datum_t text = { NULL, 0 };
	gnutls_x509_crt_t crt;
	int ret;

	*pem = NULL;
	ret = import_der(der, &crt);
	if (ret)
		return ret;
	ret = -ENOMEM;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &text) < 0)
		goto cleanup;
	*pem = strndup((const char *)text.data, text.size);
	if (*pem) {
		*pem_len = strlen(*pem);
		ret = 0;
	}
cleanup:
	gnutls_free(text.data);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

int kc_cert_to_der(const uint8_t *buf, size_t len, uint8_t **der,
		   size_t *der_len)
{
	gnutls_datum_t in = { (unsigned char *)buf, (unsigned int)len };
	gnutls_datum_t out = { NULL, 0 };
	gnutls_x509_crt_t crt;
	bool pem = len > 10 && !memcmp(buf, "-----BEGIN", 10);
	int ret;

	*der = NULL;
	if (len > UINT32_MAX)
		return -EINVAL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	ret = -EINVAL;
	if (gnutls_x509_crt_import(crt, &in, pem ? GNUTLS_X509_FMT_PEM :
						   GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out) < 0)
		goto cleanup;
	ret = -ENOMEM;
	*der = malloc(out.size);
	if (*der) {
		memcpy(*der, out.data, out.size);
		*der_len = out.size;
		ret = 0;
	}
cleanup:
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	return ret;
}
