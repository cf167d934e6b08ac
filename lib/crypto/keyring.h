/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Session keys in the kernel keyring (docs/DESIGN.md "Keys").
 *
 * The agent keeps one keyring named "kcourier" linked into its process
 * keyring only, so no other process possesses it or its keys (not even one
 * of the same uid). Each live session has two keys in it,
 * "kcourier:<sid-hex>:enc" (K) and "kcourier:<sid-hex>:mac" (Km), with a
 * timeout equal to the session TTL. Possessor: everything; the uid: view
 * (and list, for the ring), so an operator sees live sessions with `keyctl
 * show SERIAL` and in /proc/keys but cannot read a key (`keyctl pipe`:
 * EACCES) nor search, link or use it.
 * Keys are unlinked, never invalidated, when a session ends: invalidation
 * is asynchronous in the kernel and the quota is returned only later, which
 * under load reads as a leak.
 *
 * Type "user" for the user tier's readable mirror (its crypto works on its
 * own copy in locked memory); "logon" for the afalg tier, which keys its
 * sockets from the key by serial and has no other copy (logon keys cannot
 * be read back).
 */
#ifndef KC_KEYRING_H
#define KC_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keyutils.h>

#include "wire/wire.h"

#define KC_KEYRING_NAME "kcourier"

struct kc_keyring {
	key_serial_t ring;
	unsigned long quota_misses; /* keys add_key refused with EDQUOT */
	bool quota_logged;
};

/*
 * The uid may also search the ring: `keyctl show SERIAL` resolves the
 * serial with search permission. Harmless, as a search finds only keys
 * the searcher may search, and the uid may not search ours.
 */
#define KC_KEYRING_PERM                                                       \
	(KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH)
#define KC_KEY_PERM                                                           \
	(KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH |       \
	 KEY_POS_LINK | KEY_POS_SETATTR | KEY_USR_VIEW)

/*
 * Finds the "kcourier" keyring in this process's keyring, creating it
 * there (KC_KEYRING_PERM) if absent.
 */
int kc_keyring_open(struct kc_keyring *kr);

/* Gives a key the agent made KC_KEY_PERM. 0 or -errno. */
int kc_keyring_restrict(key_serial_t key);

/*
 * Adds kcourier:<sid-hex>:<role> of `type` with a timeout of ttl_s seconds.
 * Returns 0 with *serial set, -EDQUOT when the user's key quota is full
 * (counted, and logged once per struct kc_keyring: both tiers then keep
 * the session's keys in locked memory only),
 * or another -errno.
 */
int kc_keyring_add(struct kc_keyring *kr, const char *type,
		   const uint8_t sid[KC_SID_LEN], const char *role,
		   const void *key, size_t len, unsigned int ttl_s,
		   key_serial_t *serial);

/*
 * K and Km of a session as kcourier:<sid-hex>:enc and :mac of `type`
 * (kc_keyring_add each), both or neither: 0 with *enc and *mac set, or
 * the -errno of the one that failed.
 */
int kc_keyring_add_pair(struct kc_keyring *kr, const char *type,
			const uint8_t sid[KC_SID_LEN], const uint8_t *k,
			const uint8_t *km, size_t len, unsigned int ttl_s,
			key_serial_t *enc, key_serial_t *mac);

/* Unlinks one key from the ring; a key already gone is not an error. */
void kc_keyring_unlink(struct kc_keyring *kr, key_serial_t serial);

/*
 * Unlinks every kcourier:* key in the ring: what a killed earlier run left.
 * Returns the number unlinked or -errno.
 */
int kc_keyring_purge(struct kc_keyring *kr);

/* Name of a session key: "kcourier:<32 hex>:<role>". */
#define KC_KEYNAME_MAX 64
void kc_keyring_name(const uint8_t sid[KC_SID_LEN], const char *role,
		     char out[KC_KEYNAME_MAX]);

#endif
