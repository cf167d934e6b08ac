/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client certificates that passed every check of tls_peer.h, remembered
 * by the SHA-256 of the chain the client sent. Clients reconnect with the
 * same certificate again and again; judging it again means parsing it
 * three times and verifying the CA's ECDSA signature on it, a fifth of
 * the agent's CPU per handshake (docs/BENCHMARKS.md, "Where a
 * handshake's CPU goes").
 *
 * What a hit skips depends on the certificate's bytes alone (signature by
 * the CA, usages, key, CN), plus time: an entry is used only while now is
 * inside the certificate's validity and for at most KC_PEER_CACHE_TTL_S
 * after it was judged. Nothing else is skipped: GnuTLS still checks the
 * client's CertificateVerify (it holds the key) in every handshake, and
 * the agent still asks the directory whether the id is registered and not
 * revoked (proto's on_open), so a revocation counts at once. The CA is
 * fixed for the agent's lifetime; a new CA means a new agent.
 *
 * Shared by the workers (one per kc_tls_server), behind a mutex held for
 * a lookup or an insert only. Direct-mapped: a colliding certificate
 * replaces the older one, which is judged again next time.
 */
#ifndef KC_AGENT_PEER_CACHE_H
#define KC_AGENT_PEER_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "wire/wire.h"

/* A client id and its NUL (the size of tls_peer.h's KC_PEER_ID_SIZE). */
#define KC_PEER_ID_SIZE (KC_CLIENT_ID_MAX + 1)

#define KC_PEER_CACHE_SLOTS 4096
#define KC_PEER_CACHE_TTL_S 3600
#define KC_PEER_HASH_LEN 32

struct kc_peer_cache;

/* 0 or -ENOMEM. */
int kc_peer_cache_new(struct kc_peer_cache **out);
void kc_peer_cache_free(struct kc_peer_cache *pc);

/* The key of the chain a client sent: SHA-256 over its DER, in order. */
int kc_peer_cache_key(const gnutls_datum_t *certs, unsigned int n,
		      uint8_t key[KC_PEER_HASH_LEN]);
/* True, with the id, when key passed at a time still valid at now. */
bool kc_peer_cache_get(struct kc_peer_cache *pc,
		       const uint8_t key[KC_PEER_HASH_LEN], time_t now,
		       char id[KC_PEER_ID_SIZE]);
/* key passed as id; valid from not_before to not_after. */
void kc_peer_cache_put(struct kc_peer_cache *pc,
		       const uint8_t key[KC_PEER_HASH_LEN], const char *id,
		       time_t not_before, time_t not_after, time_t now);

#endif
