// SPDX-License-Identifier: GPL-2.0-only
/*
 * Session keys in the kernel keyring: see keyring.h for the naming and the
 * unlink-not-invalidate rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/keyring.h"

static const char key_prefix[] = KC_KEYRING_NAME ":";

void kc_keyring_name(const uint8_t sid[KC_SID_LEN], const char *role,
		     char out[KC_KEYNAME_MAX])
{
	char hex[2 * KC_SID_LEN + 1];

	kc_hex(sid, KC_SID_LEN, hex);
	snprintf(out, KC_KEYNAME_MAX, "%s%s:%s", key_prefix, hex, role);
}

/*
 * Only in the process keyring, never under @u: a key is "possessed" by
 * every process that reaches it from its own thread, process or session
 * keyrings, and every process of the uid reaches @u through its session
 * keyring. Here only this process (all its threads) possesses the ring;
 * the uid gets view and list, for `keyctl show SERIAL` and /proc/keys.
 */
int kc_keyring_open(struct kc_keyring *kr)
{
	long id;

	memset(kr, 0, sizeof(*kr));
	id = keyctl_search(KEY_SPEC_PROCESS_KEYRING, "keyring", KC_KEYRING_NAME,
			   0);
	if (id < 0 && errno != ENOKEY)
		return -errno;
	if (id < 0)
		id = add_key("keyring", KC_KEYRING_NAME, NULL, 0,
			     KEY_SPEC_PROCESS_KEYRING);
	if (id < 0)
		return -errno;
	if (keyctl_setperm(id, KC_KEYRING_PERM) < 0)
		return -errno;
	kr->ring = (key_serial_t)id;
	return 0;
}

int kc_keyring_restrict(key_serial_t key)
{
	return keyctl_setperm(key, KC_KEY_PERM) < 0 ? -errno : 0;
}

static void note_quota_miss(struct kc_keyring *kr)
{
	kr->quota_misses++;
	if (kr->quota_logged)
		return;
	kr->quota_logged = true;
	fprintf(stderr,
		"kcourier: key quota full (EDQUOT): new sessions' keys are "
		"kept in locked memory only; raise "
		"kernel.keys.maxkeys/maxbytes (docs/OPERATIONS.md)\n");
}

int kc_keyring_add(struct kc_keyring *kr, const char *type,
		   const uint8_t sid[KC_SID_LEN], const char *role,
		   const void *key, size_t len, unsigned int ttl_s,
		   key_serial_t *serial)
{
	char name[KC_KEYNAME_MAX];
	key_serial_t id;

	kc_keyring_name(sid, role, name);
	id = add_key(type, name, key, len, kr->ring);
	if (id < 0) {
		int err = errno;

		if (err == EDQUOT)
			note_quota_miss(kr);
		return -err;
	}
	/*
	 * Permissions first: add_key's defaults let the uid read a "user"
	 * key. A key outliving a killed agent still expires with its session.
	 */
	if (kc_keyring_restrict(id) ||
	    (ttl_s && keyctl_set_timeout(id, ttl_s) < 0)) {
		int err = errno;

		keyctl_unlink(id, kr->ring);
		return -err;
	}
	*serial = id;
	return 0;
}

int kc_keyring_add_pair(struct kc_keyring *kr, const char *type,
			const uint8_t sid[KC_SID_LEN], const uint8_t *k,
			const uint8_t *km, size_t len, unsigned int ttl_s,
			key_serial_t *enc, key_serial_t *mac)
{
	int ret = kc_keyring_add(kr, type, sid, "enc", k, len, ttl_s, enc);

	if (ret)
		return ret;
	ret = kc_keyring_add(kr, type, sid, "mac", km, len, ttl_s, mac);
	if (ret)
		kc_keyring_unlink(kr, *enc);
	return ret;
}

void kc_keyring_unlink(struct kc_keyring *kr, key_serial_t serial)
{
	if (serial > 0)
		keyctl_unlink(serial, kr->ring);
}

/* Unlinks `id` if its description starts with "kcourier:". */
static int purge_one(key_serial_t ring, key_serial_t id)
{
	char *desc = NULL;
	int unlinked = 0;

	/* Description is "type;uid;gid;perm;name"; the name is last. */
	if (keyctl_describe_alloc(id, &desc) < 0)
		return 0;
	const char *name = strrchr(desc, ';');

	if (name && strncmp(name + 1, key_prefix, strlen(key_prefix)) == 0 &&
	    keyctl_unlink(id, ring) == 0)
		unlinked = 1;
	free(desc);
	return unlinked;
}

int kc_keyring_purge(struct kc_keyring *kr)
{
	key_serial_t *ids = NULL;
	int n, count = 0;

	n = keyctl_read_alloc(kr->ring, (void **)&ids);
	if (n < 0)
		return -errno;
	for (size_t i = 0; i < (size_t)n / sizeof(*ids); i++)
		count += purge_one(kr->ring, ids[i]);
	free(ids);
	return count;
}
