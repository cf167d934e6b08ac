/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the crypto tiers share (crypto_tier.h): the session table and its
 * lock, the unwrap keys, the keyring sessions are published in, and the
 * batch runner. A tier brings only its primitives (struct
 * kc_tier_primitives): put a session's keys where the tier keeps them and
 * take them out again, MAC, CBC one way or the other, and what a batch
 * needs (scratch contexts, sockets).
 *
 * Handles are (generation << 24 | slot). A slot is reused after
 * session_drop, and the 7-bit generation makes a stale handle miss the new
 * session (until that slot has been reused 128 times) instead of silently
 * opening with its keys. A slot holds the tier's record of the session
 * (session_size bytes, opaque here).
 *
 * Keys: session_install and session_unwrap derive Km, hand K and Km to the
 * tier's keys_install and wipe their own copies on every path. The RSA of
 * session_unwrap is the unwrap-key table's (unwrap_keys.h), the same for
 * every tier; what differs, whether the tier has a keyring before
 * set_keyring, is the default ring the tier gives kc_tier_init. On
 * -EBADMSG from the unwrap the session is made anyway, with a random K, so
 * it fails every MAC (PROTOCOL.md section 1).
 *
 * Opening is encrypt-then-MAC: the MAC over aad || ct is compared in
 * constant time before anything is decrypted, and a bad length or padding
 * gives the same -KC_BAD_MAC as a bad MAC.
 *
 * Locking: one rwlock per instance. open_batch and seal_batch hold it for
 * reading for the whole batch, so any number of worker threads run batches
 * at once; taking, publishing and freeing a slot and set_keyring take it
 * for writing. Everything slow runs outside it: the RSA unwrap and the
 * tier's keys_install and keys_uninstall (keyring syscalls), the latter
 * only once the session can no longer be found. The unwrap keys have their
 * table's own lock.
 */
#ifndef KC_TIER_CORE_H
#define KC_TIER_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/crypto_tier.h"
#include "crypto/unwrap_keys.h"

/* The largest record a tier may keep per session. */
#define KC_TIER_SESSION_MAX 64
/* Live sessions at most: a handle has 24 bits of slot. */
#define KC_TIER_MAX_SESSIONS (1u << 24)

struct kc_tier;
struct kc_keyring;

/* A new session's keys for keys_install, and where to publish them. */
struct kc_tier_keys {
	const uint8_t *sid;	 /* KC_SID_LEN, or NULL */
	const uint8_t *k;	 /* K, KC_KEY_LEN */
	const uint8_t *km;	 /* Km, KC_KEY_LEN */
	struct kc_keyring *ring; /* set_keyring's, else the default; or NULL */
	unsigned int ttl;	 /* s, for keys added to ring */
};

/*
 * A tier's primitives. `session` is the tier's record of a session in the
 * table; `batch` is what batch_begin returned, for this thread's batch.
 */
struct kc_tier_primitives {
	size_t session_size; /* at most KC_TIER_SESSION_MAX */
	/*
	 * Keeps copies of keys->k and ->km (the caller wipes its own) and
	 * fills the zeroed record. 0 or -errno; on failure nothing is kept.
	 * Runs outside the lock.
	 */
	int (*keys_install)(struct kc_tier *t, void *session,
			    const struct kc_tier_keys *keys);
	/* Wipes or withdraws what keys_install kept; outside the lock. */
	void (*keys_uninstall)(struct kc_tier *t, void *session);
	/* This thread's context for one batch: NULL with *err on failure. */
	void *(*batch_begin)(int *err);
	/* After the batch, e.g. to scrub key material; may be NULL. */
	void (*batch_end)(void *batch);
	int (*mac)(void *batch, const void *session, const struct kc_iov *iov,
		   size_t n, uint8_t out[KC_MAC_LEN]);
	/*
	 * AES-256-CBC under K with PKCS#7, in to out. Encrypting, out has
	 * room for kc_cbc_ct_len(len); decrypting, a bad length or padding
	 * is -EBADMSG with out wiped.
	 */
	int (*cbc)(void *batch, const void *session, bool encrypt,
		   const uint8_t iv[KC_IV_LEN], const uint8_t *in, size_t len,
		   uint8_t *out, size_t *out_len);
	/*
	 * Optional, for a tier whose kernel unwraps (kmod): fills the zeroed
	 * record from OAEP(K) under the kernel's key `seal`, so K never
	 * comes to this process. keys->k and ->km are NULL. 0, or -EBADMSG
	 * with the session made on a random K, or -errno with nothing kept.
	 * Used when the unwrap key is in the kernel (unwrap_key_serial > 0).
	 */
	int (*keys_unwrap)(struct kc_tier *t, void *session, int32_t seal,
			   const uint8_t wrapped[KC_RSA_LEN],
			   const struct kc_tier_keys *keys);
	/*
	 * Optional: a whole batch at once instead of mac and cbc per
	 * request (kmod: one system call). sessions[i] is request i's
	 * record, NULL when unknown; each request gets its status and, for
	 * opens, mac_ok. Under the read lock.
	 */
	void (*open_all)(void *batch, const void *const *sessions,
			 struct kc_open_req *r, size_t n);
	void (*seal_all)(void *batch, const void *const *sessions,
			 struct kc_seal_req *r, size_t n);
};

/* Embedded first in a tier's instance; its fields are tier_core.c's own. */
struct kc_tier {
	struct kc_crypto base; /* first: a kc_crypto * is a kc_tier * */
	const struct kc_tier_primitives *prim;
	pthread_rwlock_t lock;
	uint8_t *sessions; /* cap records of stride bytes */
	size_t stride;
	uint8_t *state; /* per slot: LIVE | generation */
	uint32_t *free_slots;
	uint32_t nfree, used, cap;
	struct kc_unwrap_keys unwrap_keys;
	struct kc_keyring *default_ring; /* may be NULL: none */
	struct kc_keyring *ring;	 /* default_ring until set_keyring */
	unsigned int ttl;
};

/*
 * Sets up the shared part; the tier then answers to ops. default_ring and
 * ttl are what the tier publishes sessions in before set_keyring. 0 or
 * -errno (-EINVAL: session_size too large), with nothing to undo.
 */
int kc_tier_init(struct kc_tier *t, const struct kc_crypto_ops *ops,
		 const struct kc_tier_primitives *prim,
		 struct kc_keyring *default_ring, unsigned int ttl);
/* Uninstalls every live session and frees the shared part. */
void kc_tier_fini(struct kc_tier *t);

/* The entries of struct kc_crypto_ops (crypto_tier.h) every tier shares. */
int kc_tier_load_unwrap_key(struct kc_crypto *c, const uint8_t *pkcs8_der,
			    size_t len, kc_handle_t *out);
int kc_tier_unwrap_key_serial(struct kc_crypto *c, kc_handle_t key);
void kc_tier_unload_key(struct kc_crypto *c, kc_handle_t key);
int kc_tier_session_install(struct kc_crypto *c, const uint8_t *sid,
			    const uint8_t k[KC_KEY_LEN], kc_handle_t *out);
int kc_tier_session_unwrap(struct kc_crypto *c, kc_handle_t key,
			   const uint8_t *sid,
			   const uint8_t wrapped[KC_RSA_LEN], kc_handle_t *out);
int kc_tier_session_unwrap_either(struct kc_crypto *c, kc_handle_t key,
				  kc_handle_t old, const uint8_t *sid,
				  const uint8_t wrapped[KC_RSA_LEN],
				  kc_handle_t *out);
void kc_tier_session_drop(struct kc_crypto *c, kc_handle_t session);
int kc_tier_set_keyring(struct kc_crypto *c, struct kc_keyring *kr,
			unsigned int ttl_s);
int kc_tier_open_batch(struct kc_crypto *c, struct kc_open_req *r, size_t n);
int kc_tier_seal_batch(struct kc_crypto *c, struct kc_seal_req *r, size_t n);

/* A tier's ops table: its name, create and destroy, then this. */
#define KC_TIER_SHARED_OPS                                                     \
	.load_unwrap_key = kc_tier_load_unwrap_key,                            \
	.unwrap_key_serial = kc_tier_unwrap_key_serial,                        \
	.unload_key = kc_tier_unload_key,                                      \
	.session_install = kc_tier_session_install,                            \
	.session_unwrap = kc_tier_session_unwrap,                              \
	.session_unwrap_either = kc_tier_session_unwrap_either,                \
	.session_drop = kc_tier_session_drop,                                  \
	.set_keyring = kc_tier_set_keyring,                                    \
	.open_batch = kc_tier_open_batch,                                      \
	.seal_batch = kc_tier_seal_batch

#endif
