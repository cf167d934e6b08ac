/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's certificate authority (PROTOCOL.md section 3), on GnuTLS's
 * x509 API. All certificates are X.509 v3, signed with SHA-256, with a
 * 16-byte random serial (top bit clear: a positive INTEGER, RFC 5280
 * 4.1.2.2), subject key identifier and, below the CA, authority key
 * identifier:
 *
 *   CA      ECDSA P-256, self-signed, CN "kcourier agent CA", 10 years,
 *           basicConstraints CA:TRUE (critical), keyCertSign | cRLSign
 *   TLS     ECDSA P-256, CN "kcourier agent", digitalSignature, serverAuth
 *   seal    RSA-2048 e=65537, CN "kcourier seal", keyEncipherment
 *   client  RSA-2048 e=65537 id key, CN = client id as UTF8String,
 *           digitalSignature, clientAuth, 1 year by default
 *
 * Keys are made and kept at rest by OpenSSL (keyfile.h); GnuTLS receives
 * them as unencrypted PKCS#8 DER in memory, wiped straight after.
 *
 * Functions return 0 or -errno: -EINVAL for unacceptable input (client id
 * grammar, a key that is not RSA-2048/65537), -EBADMSG for bytes that do
 * not parse, -EKEYREJECTED for a certificate this CA does not accept,
 * -ENOMEM, -EIO for any other GnuTLS failure.
 */
#ifndef KC_AGENT_PKI_H
#define KC_AGENT_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>

#include "wire/wire.h"

#define KC_PKI_CA_CN "kcourier agent CA"
#define KC_PKI_TLS_CN "kcourier agent"
#define KC_PKI_SEAL_CN "kcourier seal"
#define KC_PKI_AGENT_DAYS 3653 /* CA, TLS and seal: ten years */
#define KC_PKI_CLIENT_DAYS 365
#define KC_PKI_FPR_LEN 64 /* hex digits of a SHA-256 */

/* The CA's certificate and the key that signs with it. */
struct kc_pki_ca {
	gnutls_x509_crt_t crt;
	gnutls_privkey_t key;
};

/* A fresh ECDSA P-256 key (OpenSSL, ready for kc_key_save_private). */
int kc_pki_ec_generate(EVP_PKEY **out);

/* An OpenSSL private key in GnuTLS's two forms (via PKCS#8 DER). */
int kc_pki_x509_privkey(EVP_PKEY *key, gnutls_x509_privkey_t *out);
int kc_pki_privkey(EVP_PKEY *key, gnutls_privkey_t *out);

/* Self-signed CA for key; on success ca owns a GnuTLS copy of the key. */
int kc_pki_make_ca(EVP_PKEY *key, struct kc_pki_ca *ca);
/* CA key and an existing CA certificate (from disk) as one struct. */
int kc_pki_ca_from(gnutls_x509_crt_t crt, EVP_PKEY *key, struct kc_pki_ca *ca);
/* Frees both members; accepts NULL and a zeroed struct. */
void kc_pki_ca_free(struct kc_pki_ca *ca);

int kc_pki_make_tls_cert(const struct kc_pki_ca *ca, EVP_PKEY *key,
			 gnutls_x509_crt_t *out);
int kc_pki_make_seal_cert(const struct kc_pki_ca *ca, EVP_PKEY *key,
			  gnutls_x509_crt_t *out);

/*
 * Client certificate for id (NUL-terminated, client id grammar) and its
 * id key as DER SubjectPublicKeyInfo (RSA-2048, e = 65537), valid for
 * `days` (0 means KC_PKI_CLIENT_DAYS). *der is freed with gnutls_free().
 */
int kc_pki_issue_client(const struct kc_pki_ca *ca, const char *id,
			const uint8_t *spki, size_t spki_len, unsigned int days,
			gnutls_datum_t *der);

/*
 * Accepts a DER client certificate only if it chains to ca (signature,
 * validity period now), is not itself a CA, carries clientAuth, holds an
 * RSA-2048/65537 key and has exactly one CN, a UTF8String that is a valid
 * client id, copied to id. Returns 0, -EBADMSG or -EKEYREJECTED.
 */
int kc_pki_verify_client(gnutls_x509_crt_t ca, const uint8_t *der, size_t len,
			 char id[KC_CLIENT_ID_MAX + 1]);

/* 0 if crt certifies key's public half, else -EKEYREJECTED. */
int kc_pki_key_matches(gnutls_x509_crt_t crt, EVP_PKEY *key);

/* Lowercase hex SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
int kc_pki_fingerprint(gnutls_x509_crt_t crt, char hex[KC_PKI_FPR_LEN + 1]);

/* DER of a certificate; free der->data with gnutls_free(). */
int kc_pki_crt_der(gnutls_x509_crt_t crt, gnutls_datum_t *der);
/* PEM file, created with O_EXCL and mode 0644 (certificates are public). */
int kc_pki_crt_save(const char *path, gnutls_x509_crt_t crt);
/* One PEM certificate from a file; -EBADMSG if it does not parse. */
int kc_pki_crt_load(const char *path, gnutls_x509_crt_t *out);

#endif
