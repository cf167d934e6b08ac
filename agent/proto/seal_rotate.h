/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Seal-key rotation in a running agent (`kcourierd rotate-seal`, through
 * the control socket; docs/OPERATIONS.md "Keys and privilege").
 *
 * The new key goes into every worker's crypto tier and becomes the one
 * OPEN_SESSION unwraps with; GET_SEAL answers its certificate from then
 * on. The key it replaces stays loaded for the longest session TTL, and
 * meanwhile OPEN_SESSION tries both in constant time
 * (kc_session_unwrap_either), so a client that has not yet asked GET_SEAL
 * again still gets its session. Sessions already open need no seal key:
 * they carry on with their K. When the TTL is over, kc_seal_retire
 * unloads the old key everywhere (kernel keys unlinked and invalidated,
 * OpenSSL keys freed).
 *
 * All of it runs on the main thread; the tiers are thread-safe, the
 * workers read the key handles and the certificate atomically.
 */
#ifndef KC_SEAL_ROTATE_H
#define KC_SEAL_ROTATE_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

struct kc_loop;
struct kc_proto;

/* A seal certificate a rotation installed; kept until the agent exits. */
struct kc_seal_cert {
	gnutls_datum_t der;
	struct kc_seal_cert *older;
};

/* The current seal certificate (DER), for GET_SEAL. */
const gnutls_datum_t *kc_seal_cert(struct kc_proto *p);

/*
 * Makes the RSA-2048 PKCS#8 key (and its certificate) the seal key of
 * every worker; a key still kept from an earlier rotation is unloaded
 * now. now_ms is the monotonic clock: the replaced key is retired at
 * now_ms + session_ttl. 0 or -errno (then nothing changed).
 */
int kc_seal_rotate(struct kc_proto *p, struct kc_loop *loop,
		   const uint8_t *pkcs8, size_t len, const uint8_t *cert,
		   size_t cert_len, uint64_t now_ms);

/* Unloads the replaced key once its time is up; true if it did. */
bool kc_seal_retire(struct kc_proto *p, struct kc_loop *loop, uint64_t now_ms);

/* Frees the certificates rotations installed (at exit). */
void kc_seal_certs_free(struct kc_proto *p);

#endif
