// SPDX-License-Identifier: GPL-2.0
/*
 * Keys for kcourier.ko: finding the caller's keys by serial with the
 * caller's permissions, reading a logon key's bytes inside the kernel,
 * and making the logon keys UNWRAP leaves in the caller's keyring.
 *
 * The keys a file made are remembered (with a reference) until the file
 * is closed, and then invalidated: an agent that dies leaves no session
 * key behind, whatever the timeouts say.
 */
#include <linux/err.h>
#include <linux/key.h>
#include <linux/key-type.h>
#include <linux/ratelimit.h>
#include <linux/string.h>
#include <keys/user-type.h>

#include "kc_internal.h"

/* Keys a file may have made and not yet closed; past it UNWRAP refuses. */
#define KC_MADE_MAX 65536u
/*
 * The dead made keys are swept out when the list has doubled since the
 * last sweep (at least this many): a key unlinked by its session's end
 * must not hold the user's key quota for long, and the sweep, linear in
 * the list, stays amortised constant per UNWRAP.
 */
#define KC_MADE_SWEEP 64u

/* A key gone in any way is one answer to the caller: no such key. */
static int kc_key_gone(int err)
{
	if (err == -EKEYEXPIRED || err == -EKEYREVOKED || err == -ENOENT)
		return -ENOKEY;
	return err;
}

struct key *kc_key_get(key_serial_t serial, const struct key_type *type,
		       enum key_need_perm need)
{
	unsigned long flags = serial < 0 ? KEY_LOOKUP_CREATE : 0;
	struct key *key;
	key_ref_t ref;
	int ret;

	if (!serial)
		return ERR_PTR(-ENOKEY);
	ref = lookup_user_key(serial, flags, need);
	if (IS_ERR(ref))
		return ERR_PTR(kc_key_gone(PTR_ERR(ref)));
	key = key_ref_to_ptr(ref);
	ret = key_validate(key);
	if (!ret && type && key->type != type)
		ret = -ENOKEY;
	if (ret) {
		key_put(key);
		return ERR_PTR(kc_key_gone(ret));
	}
	return key;
}

int kc_key_read_logon(struct key *key, u8 out[KC_KEY_LEN])
{
	const struct user_key_payload *p;
	int ret = -ENOKEY;

	down_read(&key->sem);
	p = user_key_payload_locked(key);
	if (p && p->datalen == KC_KEY_LEN) {
		memcpy(out, p->data, KC_KEY_LEN);
		ret = 0;
	}
	up_read(&key->sem);
	return ret;
}

/* Drops the made keys that expired or were revoked or unlinked away. */
static void kc_made_sweep(struct kc_file *f)
{
	unsigned long serial;
	struct key *key;

	xa_for_each(&f->made, serial, key) {
		if (!key_validate(key) && refcount_read(&key->usage) > 1)
			continue;
		xa_erase(&f->made, serial);
		key_put(key);
		f->nmade--;
		atomic_dec(&kc_counts.keys);
	}
}

/* Under f->lock: remembers key (the caller's reference moves here). */
static int kc_made_add(struct kc_file *f, struct key *key)
{
	struct key *old;

	if (f->nmade >= f->sweep_at) {
		kc_made_sweep(f);
		f->sweep_at = max(KC_MADE_SWEEP, 2 * f->nmade);
	}
	if (f->nmade >= KC_MADE_MAX)
		return -EDQUOT;
	old = xa_store(&f->made, key->serial, key, GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	if (old) {
		/* Same description again: the keyring updated the key. */
		key_put(old);
		return 0;
	}
	f->nmade++;
	atomic_inc(&kc_counts.keys);
	return 0;
}

int kc_key_add_logon(struct kc_file *f, struct key *ring, const u8 *sid,
		     const char *what, const u8 val[KC_KEY_LEN],
		     unsigned int timeout_s, struct key **made)
{
	char desc[64];
	struct key *key;
	key_ref_t ref;
	int ret;

	snprintf(desc, sizeof(desc), "kcourier:%*phN:%s", KCOURIER_SID_LEN,
		 sid, what);
	ref = key_create_or_update(make_key_ref(ring, true), "logon", desc,
				   val, KC_KEY_LEN, KEY_PERM_UNDEF,
				   KEY_ALLOC_IN_QUOTA);
	if (IS_ERR(ref))
		return PTR_ERR(ref);
	key = key_ref_to_ptr(ref);
	if (timeout_s)
		key_set_timeout(key, timeout_s);
	mutex_lock(&f->lock);
	ret = kc_made_add(f, key);
	mutex_unlock(&f->lock);
	if (ret) {
		key_invalidate(key);
		key_put(key);
		return ret;
	}
	/* Borrowed: the made list holds the reference until close. */
	*made = key;
	return 0;
}

void kc_keys_release(struct kc_file *f)
{
	unsigned long serial;
	struct key *key;

	xa_for_each(&f->made, serial, key) {
		key_invalidate(key);
		key_put(key);
		atomic_dec(&kc_counts.keys);
	}
	xa_destroy(&f->made);
	f->nmade = 0;
}
