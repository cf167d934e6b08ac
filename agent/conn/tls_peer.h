/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who is on the other end of an agent TLS connection: the client
 * certificate rules of PROTOCOL.md section 3, applied once the handshake
 * is complete. Kept apart from the record engine because it is policy:
 * which certificates name a client, not how bytes move.
 */
#ifndef KC_AGENT_TLS_PEER_H
#define KC_AGENT_TLS_PEER_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#define KC_TLS_ID_SIZE 65 /* a client id (at most 64 bytes) and its NUL */
#define KC_TLS_PEER_REASON_MAX 192

/*
 * Judges the certificate the client sent on session (a server session
 * whose credentials trust only the agent CA). Returns 0 and the client id
 * in id, -ENOENT when the client sent none, -EACCES (and a reason in why)
 * when the certificate does not name a client: it must chain to the CA,
 * be valid now, carry clientAuth in extendedKeyUsage and digitalSignature
 * in keyUsage, hold an RSA-2048 e=65537 key, and have exactly one CN,
 * which is a valid client id. Revocation is the store's business.
 * With a cache (peer_cache.h), a chain judged before and still within its
 * time is not judged again; NULL judges every time.
 */
struct kc_peer_cache;
int kc_tls_judge_peer(gnutls_session_t session, struct kc_peer_cache *cache,
		      char id[KC_TLS_ID_SIZE], char *why, size_t why_len);

#endif
