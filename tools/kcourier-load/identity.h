/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The load tool's clients: registered through the agent's own enrollment
 * (lib/enroll.h) the first time, then cached, one directory each:
 *
 *   CACHE/<ca pin>/<n>/   a kcourier home (lib/home.h): config.json,
 *                         client.crt, ca.crt, seal.crt, and the id and enc
 *                         keys as plain PKCS#8 PEM, mode 0600; once it
 *                         has sent, send-counter (lib/client/counter.h)
 *
 * The keys are not encrypted: these identities exist only to load an agent,
 * and unlocking 64 of them at PBKDF2 600k on every run would cost a minute.
 * --help and docs/BENCHMARKS.md say so.
 */
#ifndef KC_LOAD_IDENTITY_H
#define KC_LOAD_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/home.h"
#include "load.h"
#include "wire/wire.h"

struct load_identity {
	struct kc_home home; /* its cache directory */
	char id[KC_CLIENT_ID_MAX + 1];
	EVP_PKEY *id_key, *enc_key;
	uint8_t *cert, *ca, *seal; /* DER */
	size_t cert_len, ca_len, seal_len;
};

/*
 * Fills ids[0..n-1] from the cache, enrolling the missing ones with tokens
 * from --tokens or --dir. 0, or -1 after a message.
 */
int identities_get(const struct load_opts *o, struct load_identity *ids,
		   size_t n);
void identity_clear(struct load_identity *id);

/*
 * Connects as this client (mutual TLS, CA pin). 0 or -errno; the reason
 * is then kc_tls_client_strerror().
 */
struct kc_client;
int identity_connect(const struct load_opts *o, const struct load_identity *id,
		     struct kc_client **out);

/*
 * For many connections as this client: its TLS credential made once, the
 * id key signing through OpenSSL (tls/extkey.h), several times cheaper
 * than GnuTLS's own RSA, so the load tool is not what limits a storm.
 * 0, or -1 after a message.
 */
struct kc_tls_client_prep;
int identity_prepare_tls(const struct load_identity *id,
			 struct kc_tls_client_prep **out);

#endif
