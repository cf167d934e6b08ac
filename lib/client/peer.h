/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Another client's keys as LOOKUP returns them (PROTOCOL.md section 4,
 * KEYS), kept as owned copies so they can be cached in the home directory,
 * and the checks that make them usable:
 *   - id_cert chains to the pinned CA, CN = the id, client certificate;
 *   - enc_sig = PSS(id key, "kcourier/1 enc-key" || str id || str enc_spki)
 *     verifies under the certificate's key, and enc_spki is RSA-2048.
 */
#ifndef KC_PEER_H
#define KC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/certcheck.h"
#include "client/client.h"
#include "wire/wire.h"

struct kc_peer {
	char id[KC_CLIENT_ID_MAX + 1];
	uint8_t *id_cert, *enc_spki, *enc_sig;
	size_t id_cert_len, enc_spki_len, enc_sig_len;
	/* Set by kc_peer_verify(). */
	EVP_PKEY *id_pub, *enc_pub;
	bool cert_ok, enc_sig_ok;
	char why[KC_CERT_WHY_MAX]; /* the first check that failed */
};

/* Copies a KEYS answer (its client_id must be valid). */
int kc_peer_from_keys(const struct kc_keys *k, struct kc_peer *p);
/* Copies raw fields (the cache's form). */
int kc_peer_set(struct kc_peer *p, const char *id, struct kc_bytes id_cert,
		struct kc_bytes enc_spki, struct kc_bytes enc_sig);
void kc_peer_clear(struct kc_peer *p);

/*
 * LOOKUP id on an authenticated connection. -EREMOTEIO with status
 * NOT_FOUND for an unknown id; -EPROTO if the agent answered for another.
 */
int kc_peer_lookup(struct kc_client *c, const char *id, struct kc_peer *p);

/*
 * Runs both checks against the CA certificate (DER). Returns 0 when both
 * pass, -EKEYREJECTED otherwise (why says which), -ENOMEM. cert_ok and
 * enc_sig_ok tell the two apart; id_pub is set whenever cert_ok is.
 */
int kc_peer_verify(struct kc_peer *p, struct kc_bytes ca);

/* True when a and b hold the same certificate and enc key. */
bool kc_peer_same_keys(const struct kc_peer *a, const struct kc_peer *b);

/* Hex SHA-256 fingerprints of the id key (from the certificate) and enc key. */
int kc_peer_fingerprints(const struct kc_peer *p, char id_hex[65],
			 char enc_hex[65]);

#endif
