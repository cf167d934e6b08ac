/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A client's TLS credential (tlsclient.h) made from its certificate and
 * its id key as OpenSSL holds it: the key goes to GnuTLS as unencrypted
 * PKCS#8 DER, which lives only as long as the credential and is wiped.
 */
#ifndef KC_CLIENTCRED_H
#define KC_CLIENTCRED_H

#include <stddef.h>

#include <openssl/evp.h>

#include "tls/tlsclient.h"
#include "wire/wire.h"

struct kc_client_cred {
	struct kc_bytes chain;		 /* the certificate, DER (borrowed) */
	struct kc_tls_client_cred cred;	 /* what the connect calls take */
	unsigned char *key_der;
	size_t key_der_len;
};

/* 0 or -errno; cc->cred is usable until kc_client_cred_wipe(). */
int kc_client_cred_init(struct kc_client_cred *cc, const uint8_t *cert,
			size_t cert_len, EVP_PKEY *key);
void kc_client_cred_wipe(struct kc_client_cred *cc);

#endif
