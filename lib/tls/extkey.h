/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A GnuTLS private key whose signatures OpenSSL makes. GnuTLS signs with
 * nettle, whose RSA-2048 private operation costs several times OpenSSL's
 * here (docs/BENCHMARKS.md, "Where a handshake's CPU goes"); a client
 * that opens many connections hands its TLS CertificateVerify to OpenSSL
 * through GnuTLS's external-key interface instead. Only what TLS 1.3 asks of an RSA client
 * key is offered: RSA-PSS with the RSAE encoding (RFC 8446 4.2.3), salt as
 * long as the digest.
 */
#ifndef KC_EXTKEY_H
#define KC_EXTKEY_H

#include <gnutls/abstract.h>
#include <openssl/evp.h>

/*
 * *out signs with key, which it holds a reference to until
 * gnutls_privkey_deinit(). 0, -EINVAL for a key that is not RSA, or
 * -ENOMEM.
 */
int kc_privkey_from_evp(EVP_PKEY *key, gnutls_privkey_t *out);

#endif
