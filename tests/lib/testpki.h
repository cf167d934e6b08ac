/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Throwaway X.509 material for tests, made with GnuTLS's x509 API: a CA,
 * agent TLS certificates and client certificates shaped like the ones
 * PROTOCOL.md section 3 describes, plus deliberately wrong ones (other key
 * type or size, other usages, bad CN) for the negative tests.
 *
 * Pins are computed with OpenSSL (i2d_PUBKEY + SHA-256), not with the
 * GnuTLS code under test, so a test comparing them checks two
 * implementations against each other.
 */
#ifndef KC_TESTPKI_H
#define KC_TESTPKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct testpki_cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t der;	/* the certificate, DER */
	gnutls_datum_t key_der; /* the private key, unencrypted PKCS#8 DER */
};

/* What to put in a certificate; zero fields take the defaults below. */
struct testpki_profile {
	const char *cn;
	gnutls_pk_algorithm_t pk; /* default GNUTLS_PK_ECDSA (P-256) */
	unsigned int bits;	  /* RSA modulus bits, default 2048 */
	bool is_ca;
	unsigned int key_usage; /* GNUTLS_KEY_* bits; 0: none set */
	const char *eku;	/* GNUTLS_KP_* OID; NULL: no EKU extension */
	const char *dns;	/* a subjectAltName dNSName, or NULL */
	int days_valid;		/* default 1; negative: expired that long ago */
};

/* ECDSA P-256, self-signed, CA:TRUE, keyCertSign|cRLSign. */
int testpki_make_ca(struct testpki_cert *ca, const char *cn);
/* ECDSA P-256, serverAuth, digitalSignature, issued by ca. */
int testpki_make_server(struct testpki_cert *out, const struct testpki_cert *ca,
			const char *cn);
/* RSA-2048 e=65537, clientAuth, digitalSignature, issued by ca. */
int testpki_make_client(struct testpki_cert *out, const struct testpki_cert *ca,
			const char *cn);
/* Anything else; ca NULL makes it self-signed. */
int testpki_issue(struct testpki_cert *out, const struct testpki_cert *ca,
		  const struct testpki_profile *prof);
void testpki_free(struct testpki_cert *c);

/* PEM certificate and PEM PKCS#8 key files (key mode 0600). */
int testpki_write_pem(const struct testpki_cert *c, const char *crt_path,
		      const char *key_path);

/* Lowercase hex SHA-256 of the certificate's SubjectPublicKeyInfo. */
int testpki_pin(const gnutls_datum_t *der, char hex[65]);

#endif
