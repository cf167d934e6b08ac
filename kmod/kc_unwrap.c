// SPDX-License-Identifier: GPL-2.0
/*
 * KCOURIER_IOC_UNWRAP: a wrapped session key in, two logon keys out.
 *
 * The order of the work does not depend on the OAEP result: the random
 * fallback is drawn first on every call, the decoding picks K or it with
 * a mask (kc_oaep.c), Km is derived and both keys are added either way.
 * Only KCOURIER_UNWRAP_RANDOM in the result tells the caller, which
 * kcourier's tiers need to answer as the user tier does; the agent does
 * not act on it (PROTOCOL.md section 1).
 */
#include <keys/asymmetric-type.h>
#include <linux/key.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kc_internal.h"

/* K and Km, and the RSA's output, in one wipeable allocation. */
struct kc_unwrap_keys {
	u8 em[KCOURIER_RSA_LEN];
	u8 fallback[KC_KEY_LEN];
	u8 k[KC_KEY_LEN];
	u8 km[KC_KEY_LEN];
};

static int kc_unwrap_check(const struct kcourier_unwrap *u)
{
	if (u->flags & ~KCOURIER_UNWRAP_FLAGS || u->pad || u->reserved[0] ||
	    u->reserved[1] || u->reserved[2])
		return -EINVAL;
	if (u->wrapped_len != KCOURIER_RSA_LEN)
		return -EINVAL;
	return 0;
}

/* K from the wrapped bytes, or the fallback; *bad says which. */
static int kc_unwrap_k(struct key *seal, const u8 *wrapped,
		       struct kc_unwrap_keys *w, u32 *bad)
{
	int ret;

	get_random_bytes(w->fallback, sizeof(w->fallback));
	ret = kc_rsa_decrypt_blinded(seal, wrapped, w->em);
	/* Not below n: public knowledge, decoded as an all-zero EM. */
	if (ret == -ERANGE) {
		memset(w->em, 0, sizeof(w->em));
		ret = 0;
	}
	if (ret)
		return ret;
	kc_oaep_key(w->em, w->fallback, w->k, bad);
	return kc_derive_km(w->k, w->km);
}

/* Both logon keys, or neither: K is taken out again if Km fails. */
static int kc_unwrap_install(struct kc_file *f, struct kcourier_unwrap *u,
			     struct key *ring, const struct kc_unwrap_keys *w)
{
	struct key *enc, *mac;
	int ret;

	ret = kc_key_add_logon(f, ring, u->sid, "enc", w->k, u->timeout_s,
			       &enc);
	if (ret)
		return ret;
	ret = kc_key_add_logon(f, ring, u->sid, "mac", w->km, u->timeout_s,
			       &mac);
	if (ret) {
		key_unlink(ring, enc);
		key_invalidate(enc);
		return ret;
	}
	u->enc_key = enc->serial;
	u->mac_key = mac->serial;
	return 0;
}

int kc_unwrap(struct kc_file *f, void __user *arg)
{
	struct kcourier_unwrap u;
	struct kc_unwrap_keys *w;
	struct key *seal, *ring;
	u8 *wrapped = NULL;
	u32 bad = 0;
	int ret;

	if (copy_from_user(&u, arg, sizeof(u)))
		return -EFAULT;
	ret = kc_unwrap_check(&u);
	if (ret)
		return ret;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	wrapped = memdup_user(u64_to_user_ptr(u.wrapped), KCOURIER_RSA_LEN);
	if (IS_ERR(wrapped)) {
		ret = PTR_ERR(wrapped);
		goto out_w;
	}
	/* Both keys first: a request that cannot finish costs no RSA. */
	ring = kc_key_get(u.keyring, &key_type_keyring, KEY_NEED_WRITE);
	if (IS_ERR(ring)) {
		ret = PTR_ERR(ring);
		goto out;
	}
	seal = kc_key_get(u.seal_key, &key_type_asymmetric, KEY_NEED_SEARCH);
	if (IS_ERR(seal)) {
		ret = PTR_ERR(seal);
		goto out_ring;
	}
	ret = kc_unwrap_k(seal, wrapped, w, &bad);
	key_put(seal);
	if (!ret)
		ret = kc_unwrap_install(f, &u, ring, w);
	if (!ret) {
		u.result = bad * KCOURIER_UNWRAP_RANDOM;
		if (copy_to_user(arg, &u, sizeof(u)))
			ret = -EFAULT;
	}
out_ring:
	key_put(ring);
out:
	kfree(wrapped);
out_w:
	kfree_sensitive(w);
	return ret;
}
