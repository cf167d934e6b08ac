/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a TLS client can make once and reuse for every handshake: the
 * credentials (its certificate chain parsed, its private key imported and
 * checked against the certificate) and the parsed priority string. A
 * client that connects once pays for them once either way; the load
 * tool's connection storm would otherwise pay for them on every one of
 * thousands of connections (docs/BENCHMARKS.md, "Where a handshake's
 * CPU goes").
 *
 * kc_tls_client_prepare() in tlsclient.h makes one; a prepared
 * credential is read-only afterwards and may serve several threads'
 * connections at once (GnuTLS allows shared credentials and priority
 * caches).
 */
#ifndef KC_TLSPREP_H
#define KC_TLSPREP_H

#include <stddef.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <openssl/evp.h>

#include "tls/tlscred.h"

struct kc_tls_client_prep {
	gnutls_certificate_credentials_t xcred;
	gnutls_pcert_st *pcerts; /* what the retrieve callback offers */
	unsigned int npcerts;
	gnutls_privkey_t key;
	gnutls_priority_t prio;
};

/* How a prepared credential is made; see kc_tls_client_prepare(). */
struct kc_tls_prep_args {
	const struct kc_tls_client_cred *cred; /* NULL: no certificate */
	EVP_PKEY *sign_key; /* NULL: GnuTLS signs with cred's PKCS#8 key */
	const char *cipher; /* NULL, or the one cipher to offer */
	gnutls_certificate_retrieve_function2 *retrieve;
};

/*
 * 0 or -errno, with a sentence for people in why on failure; *out is
 * NULL then.
 */
int kc_tls_prep_new(const struct kc_tls_prep_args *a,
		    struct kc_tls_client_prep **out, char *why, size_t why_len);
void kc_tls_prep_free(struct kc_tls_client_prep *p);

#endif
