// SPDX-License-Identifier: GPL-2.0-only
/*
 * Certificates in and out: DER for the wire, PEM files in the state
 * directory.
 */
#include <errno.h>
#include <stdlib.h>

#include "base/fileio.h"
#include "gnutls_util.h"
#include "pki.h"

/* A PEM certificate is a few kilobytes; anything this size is not one. */
#define CRT_FILE_MAX (64 * 1024)

int kc_pki_crt_der(gnutls_x509_crt_t crt, gnutls_datum_t *der)
{
	der->data = NULL;
	der->size = 0;
	return kc_gnutls_err(
		gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der));
}

int kc_pki_crt_save(const char *path, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = { NULL, 0 };
	int ret;

	ret = kc_gnutls_err(
		gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem));
	if (!ret)
		ret = kc_file_write_new(path, 0644, pem.data, pem.size);
	gnutls_free(pem.data);
	return ret;
}

int kc_pki_crt_load(const char *path, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	size_t len = 0;
	uint8_t *pem = NULL;
	int ret;

	ret = kc_file_read(path, CRT_FILE_MAX, &pem, &len);
	if (ret)
		return ret;
	ret = kc_gnutls_err(gnutls_x509_crt_init(&crt));
	if (ret)
		goto cleanup;
	d.data = pem;
	d.size = (unsigned int)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		ret = -EBADMSG;
		goto cleanup;
	}
	*out = crt;
	crt = NULL;
cleanup:
	gnutls_x509_crt_deinit(crt);
	free(pem);
	return ret;
}
