// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user crypto tier (docs/DESIGN.md "Crypto backends", tier 3):
 * OpenSSL in this process, session keys in locked memory (secmem.h), and
 * with a keyring set (set_keyring) a readable copy of each sid-named
 * session's K and Km there as "user" keys, for operators only: the
 * crypto always works on the copy in locked memory.
 *
 * Session handles are (generation << 24 | slot). A slot is reused after
 * session_drop, and the 7-bit generation makes a stale handle miss the new
 * session (until that slot has been reused 128 times) instead of silently
 * opening with its keys. Unwrap keys are in an unwrap_keys.h table, as in
 * the afalg tier: each an EVP_PKEY or, when a keyring was set before
 * load_unwrap_key and the kernel takes the key, the serial of a kernel
 * asymmetric key (rsa_keyring.h) with no private key left in this process.
 *
 * Locking: one rwlock per instance. open_batch and seal_batch hold it for
 * reading for the whole batch, so any number of worker threads run batches
 * at once; creating and dropping sessions take it for writing. The unwrap
 * keys have the table's own lock. The RSA private operation of
 * session_unwrap runs outside both, on a slot that is reserved but not yet
 * live, so a slow unwrap never stalls batches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/crypto_tier.h"
#include "crypto/crypto_user.h"
#include "crypto/keyring.h"
#include "crypto/rsa_keyring.h"
#include "base/secmem.h"
#include "crypto/symm.h"
#include "crypto/unwrap_keys.h"

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK 0x7fu /* handles stay non-negative */
#define LIVE 0x80u
#define MAX_SESSIONS (1u << SLOT_BITS)

/* What a secmem slot holds. */
struct session_keys {
	uint8_t k[KC_KEY_LEN];	/* AES-256 key */
	uint8_t km[KC_KEY_LEN]; /* HMAC-SHA256 key */
};

struct user_crypto {
	struct kc_crypto base;
	pthread_rwlock_t lock;
	struct kc_secmem *keys;
	uint8_t *state; /* per slot: LIVE | generation */
	uint32_t state_cap;
	struct kc_unwrap_keys unwrap_keys;
	/* Optional mirror of session keys in the kernel keyring. */
	struct kc_keyring *keyring;
	unsigned int keyring_ttl;
	key_serial_t (*serials)[2]; /* per slot: enc, mac; 0 = none */
};

static struct user_crypto *to_user(struct kc_crypto *c)
{
	return (struct user_crypto *)c;
}

static void keyring_withdraw(struct user_crypto *u, uint32_t idx);

static int user_create(struct kc_crypto **out)
{
	struct user_crypto *u = calloc(1, sizeof(*u));
	pthread_rwlockattr_t attr;
	int ret;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	ret = kc_secmem_create(sizeof(struct session_keys), MAX_SESSIONS,
			       &u->keys);
	if (ret)
		goto err_free;
	/* Batches come back to back; writers must not starve behind them. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = -pthread_rwlock_init(&u->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret)
		goto err_secmem;
	ret = kc_unwrap_keys_init(&u->unwrap_keys);
	if (ret)
		goto err_lock;
	u->base.ops = &kc_crypto_user_ops;
	*out = &u->base;
	return 0;
err_lock:
	pthread_rwlock_destroy(&u->lock);
err_secmem:
	kc_secmem_destroy(u->keys);
err_free:
	free(u);
	return ret;
}

static void user_destroy(struct kc_crypto *c)
{
	struct user_crypto *u;
	uint32_t i;

	if (!c)
		return;
	u = to_user(c);
	for (i = 0; i < u->state_cap; i++)
		if (u->state[i] & LIVE)
			keyring_withdraw(u, i);
	kc_unwrap_keys_destroy(&u->unwrap_keys);
	kc_secmem_destroy(u->keys); /* wipes every K and Km */
	free(u->state);
	free(u->serials);
	pthread_rwlock_destroy(&u->lock);
	free(u);
}

/* Unwrap keys. */

static int user_load_unwrap_key(struct kc_crypto *c, const uint8_t *pkcs8_der,
				size_t len, kc_handle_t *out)
{
	struct user_crypto *u = to_user(c);
	key_serial_t ring;

	/* With a keyring the kernel may take the key (rsa_keyring.h). */
	pthread_rwlock_rdlock(&u->lock);
	ring = u->keyring ? u->keyring->ring : 0;
	pthread_rwlock_unlock(&u->lock);
	return kc_unwrap_keys_add(&u->unwrap_keys, ring, pkcs8_der, len, out);
}

static void user_unload_key(struct kc_crypto *c, kc_handle_t key)
{
	kc_unwrap_keys_remove(&to_user(c)->unwrap_keys, key);
}

static int user_unwrap_key_serial(struct kc_crypto *c, kc_handle_t key)
{
	return kc_unwrap_keys_where(&to_user(c)->unwrap_keys, key);
}

/* Sessions. */

/* Under the write lock: one pair of key serials per slot. */
static int grow_serials(struct user_crypto *u, uint32_t cap)
{
	key_serial_t(*serials)[2];

	serials = realloc(u->serials, cap * sizeof(*serials));
	if (!serials)
		return -ENOMEM;
	memset(serials + u->state_cap, 0,
	       (cap - u->state_cap) * sizeof(*serials));
	u->serials = serials;
	return 0;
}

/* Under the write lock: state[] covers every slot secmem has mapped. */
static int grow_state(struct user_crypto *u)
{
	uint32_t cap = kc_secmem_capacity(u->keys);
	uint8_t *state;

	if (cap <= u->state_cap)
		return 0;
	state = realloc(u->state, cap);
	if (!state)
		return -ENOMEM;
	memset(state + u->state_cap, 0, cap - u->state_cap);
	u->state = state;
	if (grow_serials(u, cap))
		return -ENOMEM; /* state[] grew; harmless, retried next time */
	u->state_cap = cap;
	return 0;
}

/* A zeroed key slot that no lookup finds until session_publish. */
static int session_reserve(struct user_crypto *u, uint32_t *idx,
			   struct session_keys **keys)
{
	int ret;

	pthread_rwlock_wrlock(&u->lock);
	ret = kc_secmem_alloc(u->keys, idx);
	if (!ret) {
		ret = grow_state(u);
		if (ret)
			kc_secmem_free(u->keys, *idx);
		else
			*keys = kc_secmem_slot(u->keys, *idx);
	}
	pthread_rwlock_unlock(&u->lock);
	return ret;
}

static void session_release(struct user_crypto *u, uint32_t idx)
{
	pthread_rwlock_wrlock(&u->lock);
	kc_secmem_free(u->keys, idx);
	pthread_rwlock_unlock(&u->lock);
}

/*
 * Mirrors K and Km into the keyring as "user" keys named after the sid, so
 * an operator sees live sessions with keyctl. A full quota (EDQUOT) is
 * counted and logged once by keyring.c; the keys then live only here.
 */
static void keyring_publish(struct user_crypto *u, uint32_t idx,
			    const uint8_t *sid, const struct session_keys *keys)
{
	key_serial_t *serial = u->serials[idx];

	if (!u->keyring || !sid)
		return;
	if (kc_keyring_add(u->keyring, "user", sid, "enc", keys->k, KC_KEY_LEN,
			   u->keyring_ttl, &serial[0]))
		serial[0] = 0;
	if (kc_keyring_add(u->keyring, "user", sid, "mac", keys->km,
			   KC_KEY_LEN, u->keyring_ttl, &serial[1]))
		serial[1] = 0;
}

/* Under the write lock. */
static void keyring_withdraw(struct user_crypto *u, uint32_t idx)
{
	key_serial_t *serial = u->serials[idx];

	if (!u->keyring)
		return;
	kc_keyring_unlink(u->keyring, serial[0]);
	kc_keyring_unlink(u->keyring, serial[1]);
	serial[0] = serial[1] = 0;
}

static int user_set_keyring(struct kc_crypto *c, struct kc_keyring *kr,
			    unsigned int ttl_s)
{
	struct user_crypto *u = to_user(c);

	pthread_rwlock_wrlock(&u->lock);
	u->keyring = kr;
	u->keyring_ttl = ttl_s;
	pthread_rwlock_unlock(&u->lock);
	return 0;
}

static kc_handle_t session_publish(struct user_crypto *u, uint32_t idx)
{
	uint32_t gen;

	pthread_rwlock_wrlock(&u->lock);
	gen = (u->state[idx] + 1) & GEN_MASK;
	u->state[idx] = (uint8_t)(LIVE | gen);
	pthread_rwlock_unlock(&u->lock);
	return (kc_handle_t)(gen << SLOT_BITS | idx);
}

/* Under the lock (either side): the live session's keys, or NULL. */
static struct session_keys *session_find(struct user_crypto *u, kc_handle_t h)
{
	uint32_t idx = (uint32_t)h & SLOT_MASK;
	uint32_t gen = (uint32_t)h >> SLOT_BITS;

	if (h < 0 || idx >= u->state_cap || u->state[idx] != (LIVE | gen))
		return NULL;
	return kc_secmem_slot(u->keys, idx);
}

static int user_session_install(struct kc_crypto *c, const uint8_t *sid,
				const uint8_t k[KC_KEY_LEN], kc_handle_t *out)
{
	struct user_crypto *u = to_user(c);
	struct session_keys *keys;
	uint32_t idx;
	int ret;

	ret = session_reserve(u, &idx, &keys);
	if (ret)
		return ret;
	memcpy(keys->k, k, KC_KEY_LEN);
	ret = kc_derive_km(keys->k, keys->km);
	if (ret) {
		session_release(u, idx);
		return ret;
	}
	keyring_publish(u, idx, sid, keys);
	*out = session_publish(u, idx);
	return 0;
}

static int user_session_unwrap(struct kc_crypto *c, kc_handle_t key,
			       const uint8_t *sid,
			       const uint8_t wrapped[KC_RSA_LEN],
			       kc_handle_t *out)
{
	struct user_crypto *u = to_user(c);
	struct kc_unwrap_key ukey;
	struct session_keys *keys;
	uint32_t idx;
	int unwrapped, ret;

	/* A copy, so an unload during the RSA operation is harmless. */
	ret = kc_unwrap_keys_get(&u->unwrap_keys, key, &ukey);
	if (ret)
		return ret;
	ret = session_reserve(u, &idx, &keys);
	if (ret)
		goto cleanup;
	/* On -EBADMSG K is random: the session exists and fails every MAC. */
	unwrapped = kc_unwrap_key_unwrap(&ukey, wrapped, keys->k);
	if (unwrapped == 0 || unwrapped == -EBADMSG)
		ret = kc_derive_km(keys->k, keys->km);
	else
		ret = unwrapped;
	if (ret) {
		session_release(u, idx);
		goto cleanup;
	}
	keyring_publish(u, idx, sid, keys);
	*out = session_publish(u, idx);
	ret = unwrapped;
cleanup:
	kc_unwrap_key_put(&ukey);
	return ret;
}

static void user_session_drop(struct kc_crypto *c, kc_handle_t session)
{
	struct user_crypto *u = to_user(c);

	pthread_rwlock_wrlock(&u->lock);
	if (session_find(u, session)) {
		u->state[(uint32_t)session & SLOT_MASK] &= ~LIVE;
		keyring_withdraw(u, (uint32_t)session & SLOT_MASK);
		kc_secmem_free(u->keys, (uint32_t)session & SLOT_MASK);
	}
	pthread_rwlock_unlock(&u->lock);
}

/* Batches. */

static int open_one(struct kc_symm *s, const struct session_keys *keys,
		    struct kc_open_req *r)
{
	const struct kc_iov macced[] = {
		{ r->aad, r->aad_len },
		{ r->ct, r->ct_len },
	};
	uint8_t mac[KC_MAC_LEN];
	int ret;

	r->pt_len = 0;
	r->mac_ok = false;
	if (!keys)
		return -KC_UNKNOWN_SESSION;
	ret = kc_symm_hmac(s, keys->km, KC_KEY_LEN, macced, 2, mac);
	if (ret)
		goto cleanup;
	/* Encrypt-then-MAC: nothing is decrypted before the tag checks out. */
	if (!kc_equal_ct(mac, r->mac, KC_MAC_LEN)) {
		ret = -KC_BAD_MAC;
		goto cleanup;
	}
	r->mac_ok = true;
	ret = kc_symm_cbc_decrypt(s, keys->k, KC_KEY_LEN, r->iv, r->ct,
				  r->ct_len, r->pt, &r->pt_len);
	/* Bad length or padding is the same failure as a bad MAC. */
	if (ret == -EBADMSG)
		ret = -KC_BAD_MAC;
cleanup:
	/* The valid tag for attacker-chosen bytes must not linger. */
	explicit_bzero(mac, sizeof(mac));
	return ret;
}

static int seal_one(struct kc_symm *s, const struct session_keys *keys,
		    struct kc_seal_req *r)
{
	struct kc_iov macced[2];
	int ret;

	r->ct_len = 0;
	if (!keys)
		return -KC_UNKNOWN_SESSION;
	ret = kc_symm_cbc_encrypt(s, keys->k, KC_KEY_LEN, r->iv, r->pt,
				  r->pt_len, r->ct, &r->ct_len);
	if (ret)
		return ret;
	macced[0] = (struct kc_iov){ r->aad, r->aad_len };
	macced[1] = (struct kc_iov){ r->ct, r->ct_len };
	return kc_symm_hmac(s, keys->km, KC_KEY_LEN, macced, 2, r->mac);
}

/* Does request i of a batch; the request records its own status. */
typedef void (*batch_item_fn)(struct kc_symm *s, struct user_crypto *u,
			      void *reqs, size_t i);

/* One scratch context and one read lock for the whole batch. */
static int run_batch(struct kc_crypto *c, void *reqs, size_t n,
		     batch_item_fn item)
{
	struct user_crypto *u = to_user(c);
	struct kc_symm *s;
	size_t i;

	if (n && !reqs)
		return -EINVAL;
	s = kc_symm_get();
	if (!s)
		return -ENOMEM;
	pthread_rwlock_rdlock(&u->lock);
	for (i = 0; i < n; i++)
		item(s, u, reqs, i);
	pthread_rwlock_unlock(&u->lock);
	kc_symm_scrub(s);
	return 0;
}

static void open_item(struct kc_symm *s, struct user_crypto *u, void *reqs,
		      size_t i)
{
	struct kc_open_req *r = (struct kc_open_req *)reqs + i;

	r->status = open_one(s, session_find(u, r->session), r);
}

static void seal_item(struct kc_symm *s, struct user_crypto *u, void *reqs,
		      size_t i)
{
	struct kc_seal_req *r = (struct kc_seal_req *)reqs + i;

	r->status = seal_one(s, session_find(u, r->session), r);
}

static int user_open_batch(struct kc_crypto *c, struct kc_open_req *r, size_t n)
{
	return run_batch(c, r, n, open_item);
}

static int user_seal_batch(struct kc_crypto *c, struct kc_seal_req *r, size_t n)
{
	return run_batch(c, r, n, seal_item);
}

const struct kc_crypto_ops kc_crypto_user_ops = {
	.name = "user",
	.create = user_create,
	.destroy = user_destroy,
	.load_unwrap_key = user_load_unwrap_key,
	.unwrap_key_serial = user_unwrap_key_serial,
	.unload_key = user_unload_key,
	.session_install = user_session_install,
	.session_unwrap = user_session_unwrap,
	.session_drop = user_session_drop,
	.set_keyring = user_set_keyring,
	.open_batch = user_open_batch,
	.seal_batch = user_seal_batch,
};
