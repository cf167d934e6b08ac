// SPDX-License-Identifier: GPL-2.0-only
/*
 * Throwaway certificates for tests: see testpki.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "testpki.h"

#define DAY 86400
#define KEY_ID_MAX 64

static int gen_key(struct testpki_cert *out, const struct testpki_profile *p)
{
	gnutls_pk_algorithm_t pk = p->pk ? p->pk : GNUTLS_PK_ECDSA;
	unsigned int bits;

	if (pk == GNUTLS_PK_RSA)
		bits = p->bits ? p->bits : 2048;
	else
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
	if (gnutls_x509_privkey_init(&out->key) < 0)
		return -ENOMEM;
	/* GnuTLS makes RSA keys with e = 65537. */
	if (gnutls_x509_privkey_generate(out->key, pk, bits, 0) < 0)
		return -EINVAL;
	return 0;
}

/* 16 random bytes, kept positive as RFC 5280 4.1.2.2 wants. */
static int set_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];

	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
		return -EIO;
	serial[0] = (serial[0] & 0x7f) | 0x01;
	return gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0
		       ? -EINVAL
		       : 0;
}

static int set_validity(gnutls_x509_crt_t crt, int days)
{
	time_t now = time(NULL), from, until;

	if (!days)
		days = 1;
	if (days > 0) {
		from = now - 3600;
		until = now + (time_t)days * DAY;
	} else {
		until = now + (time_t)days * DAY;
		from = until - DAY;
	}
	if (gnutls_x509_crt_set_activation_time(crt, from) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, until) < 0)
		return -EINVAL;
	return 0;
}

static int set_key_ids(gnutls_x509_crt_t crt, const struct testpki_cert *ca)
{
	unsigned char id[KEY_ID_MAX];
	size_t size = sizeof(id);

	if (gnutls_x509_crt_get_key_id(crt, 0, id, &size) < 0 ||
	    gnutls_x509_crt_set_subject_key_id(crt, id, size) < 0)
		return -EINVAL;
	if (!ca)
		return 0;
	size = sizeof(id);
	if (gnutls_x509_crt_get_subject_key_id(ca->crt, id, &size, NULL) < 0 ||
	    gnutls_x509_crt_set_authority_key_id(crt, id, size) < 0)
		return -EINVAL;
	return 0;
}

static int set_extensions(gnutls_x509_crt_t crt,
			  const struct testpki_profile *p)
{
	if (gnutls_x509_crt_set_basic_constraints(crt, p->is_ca, -1) < 0)
		return -EINVAL;
	if (p->key_usage &&
	    gnutls_x509_crt_set_key_usage(crt, p->key_usage) < 0)
		return -EINVAL;
	if (p->eku && gnutls_x509_crt_set_key_purpose_oid(crt, p->eku, 0) < 0)
		return -EINVAL;
	if (p->dns && gnutls_x509_crt_set_subject_alt_name(
			      crt, GNUTLS_SAN_DNSNAME, p->dns, strlen(p->dns),
			      GNUTLS_FSAN_SET) < 0)
		return -EINVAL;
	return 0;
}

static int fill_crt(struct testpki_cert *out, const struct testpki_cert *ca,
		    const struct testpki_profile *p)
{
	gnutls_x509_crt_t crt = out->crt;
	int ret;

	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  p->cn, strlen(p->cn)) < 0 ||
	    gnutls_x509_crt_set_key(crt, out->key) < 0)
		return -EINVAL;
	ret = set_serial(crt);
	if (!ret)
		ret = set_validity(crt, p->days_valid);
	if (!ret)
		ret = set_extensions(crt, p);
	if (!ret)
		ret = set_key_ids(crt, ca);
	return ret;
}

int testpki_issue(struct testpki_cert *out, const struct testpki_cert *ca,
		  const struct testpki_profile *prof)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = gen_key(out, prof);
	if (ret)
		goto err;
	ret = -ENOMEM;
	if (gnutls_x509_crt_init(&out->crt) < 0)
		goto err;
	ret = fill_crt(out, ca, prof);
	if (ret)
		goto err;
	ret = -EINVAL;
	if (gnutls_x509_crt_sign2(out->crt, ca ? ca->crt : out->crt,
				  ca ? ca->key : out->key, GNUTLS_DIG_SHA256,
				  0) < 0)
		goto err;
	if (gnutls_x509_crt_export2(out->crt, GNUTLS_X509_FMT_DER,
				    &out->der) < 0)
		goto err;
	if (gnutls_x509_privkey_export2_pkcs8(out->key, GNUTLS_X509_FMT_DER,
					      NULL, GNUTLS_PKCS_PLAIN,
					      &out->key_der) < 0)
		goto err;
	return 0;
err:
	testpki_free(out);
	return ret;
}

int testpki_make_ca(struct testpki_cert *ca, const char *cn)
{
	const struct testpki_profile p = {
		.cn = cn,
		.is_ca = true,
		.key_usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
	};

	return testpki_issue(ca, NULL, &p);
}

int testpki_make_server(struct testpki_cert *out, const struct testpki_cert *ca,
			const char *cn)
{
	const struct testpki_profile p = {
		.cn = cn,
		.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
		.eku = GNUTLS_KP_TLS_WWW_SERVER,
		.dns = "localhost", /* for clients that insist on a name */
	};

	return testpki_issue(out, ca, &p);
}

int testpki_make_client(struct testpki_cert *out, const struct testpki_cert *ca,
			const char *cn)
{
	const struct testpki_profile p = {
		.cn = cn,
		.pk = GNUTLS_PK_RSA,
		.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
		.eku = GNUTLS_KP_TLS_WWW_CLIENT,
	};

	return testpki_issue(out, ca, &p);
}

void testpki_free(struct testpki_cert *c)
{
	if (c->key_der.data) {
		explicit_bzero(c->key_der.data, c->key_der.size);
		gnutls_free(c->key_der.data);
	}
	gnutls_free(c->der.data);
	if (c->crt)
		gnutls_x509_crt_deinit(c->crt);
	if (c->key)
		gnutls_x509_privkey_deinit(c->key);
	memset(c, 0, sizeof(*c));
}

static int write_file(const char *path, const gnutls_datum_t *d, int mode)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, d->data, d->size) != (ssize_t)d->size)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int testpki_write_pem(const struct testpki_cert *c, const char *crt_path,
		      const char *key_path)
{
	gnutls_datum_t crt = { NULL, 0 }, key = { NULL, 0 };
	int ret = -EINVAL;

	if (gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &crt) < 0)
		goto cleanup;
	ret = write_file(crt_path, &crt, 0644);
	if (ret || !key_path)
		goto cleanup;
	ret = -EINVAL;
	if (gnutls_x509_privkey_export2_pkcs8(c->key, GNUTLS_X509_FMT_PEM, NULL,
					      GNUTLS_PKCS_PLAIN, &key) < 0)
		goto cleanup;
	ret = write_file(key_path, &key, 0600);
cleanup:
	if (key.data) {
		explicit_bzero(key.data, key.size);
		gnutls_free(key.data);
	}
	gnutls_free(crt.data);
	return ret;
}

int testpki_pin(const gnutls_datum_t *der, char hex[65])
{
	const unsigned char *p = der->data;
	unsigned char *spki = NULL, h[SHA256_DIGEST_LENGTH];
	X509 *x;
	int len, i;

	x = d2i_X509(NULL, &p, der->size);
	if (!x)
		return -EINVAL;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	X509_free(x);
	if (len <= 0)
		return -EINVAL;
	SHA256(spki, (size_t)len, h);
	OPENSSL_free(spki);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	return 0;
}
