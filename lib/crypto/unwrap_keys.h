/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The unwrap-key table of a crypto tier: the kc_unwrap_key entries
 * (rsa_keyring.h) behind load_unwrap_key's handles, shared by the user
 * and afalg tiers so both keep their seal keys the same way, in the
 * kernel keyring when the kernel takes them, else with OpenSSL.
 *
 * Handles are indexes into the table (non-negative, as kc_handle_t needs),
 * and an index is reused once its key is removed: unwrap keys are loaded
 * once per tier instance and live as long as it, so a stale handle is a
 * caller bug, not a case worth generations as for sessions. An index that
 * was never handed out, or whose key is gone, gives -ENOENT.
 *
 * The table has its own lock, apart from the tier's, so the tier's batch
 * lock never covers a key operation. Its sections are a few loads and at
 * most a reference count, hence a mutex: nothing to gain from a rwlock's
 * shared side. Keyring syscalls (loading into the kernel, unloading) and
 * the RSA operation itself run outside it.
 */
#ifndef KC_UNWRAP_KEYS_H
#define KC_UNWRAP_KEYS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <keyutils.h>

#include "crypto/crypto_tier.h"
#include "crypto/rsa_keyring.h"

/* Embedded in a tier; its fields are this file's own. */
struct kc_unwrap_keys {
	pthread_mutex_t lock;
	struct kc_unwrap_key *keys; /* free entries are all zero */
	uint32_t cap;
};

int kc_unwrap_keys_init(struct kc_unwrap_keys *t);
/* Frees (and takes out of the kernel) every key left in the table. */
void kc_unwrap_keys_destroy(struct kc_unwrap_keys *t);

/*
 * kc_unwrap_key_load(ring, der, len) into a free entry: -EINVAL for a key
 * that is not RSA-2048 with e = 65537, -ENOMEM or -ENOSPC when the table
 * cannot grow; else 0 with *out. ring 0 keeps the key on OpenSSL.
 */
int kc_unwrap_keys_add(struct kc_unwrap_keys *t, key_serial_t ring,
		       const uint8_t *der, size_t len, kc_handle_t *out);

/* Frees the key and its entry: 0, or -ENOENT for an unknown handle. */
int kc_unwrap_keys_remove(struct kc_unwrap_keys *t, kc_handle_t h);

/*
 * A copy of the key to unwrap with after the lock is dropped
 * (kc_unwrap_key_get): 0, or -ENOENT with copy zeroed. Give it back with
 * kc_unwrap_key_put; a remove meanwhile is harmless (rsa_keyring.h).
 */
int kc_unwrap_keys_get(struct kc_unwrap_keys *t, kc_handle_t h,
		       struct kc_unwrap_key *copy);

/*
 * kc_unwrap_key_where of the key: its kernel serial (> 0), or why the
 * kernel does not hold it (-errno); -ENOENT for an unknown handle.
 */
int kc_unwrap_keys_where(struct kc_unwrap_keys *t, kc_handle_t h);

#endif
