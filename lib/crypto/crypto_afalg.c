// SPDX-License-Identifier: GPL-2.0-only
/*
 * The afalg crypto tier (docs/DESIGN.md "Crypto backends", tier 2):
 * AES-256-CBC as the kernel's cbc(aes) and HMAC-SHA256 as hmac(sha256),
 * over AF_ALG (afalg_sock.h), keyed from the kernel keyring.
 *
 * A session is two logon keys, kcourier:<sid-hex>:enc (K) and :mac (Km),
 * in the "kcourier" keyring (keyring.h). Logon keys cannot be read back
 * from user space; the sockets are keyed with ALG_SET_KEY_BY_KEY_SERIAL,
 * so once installed K and Km exist only in the kernel. This process holds
 * them briefly while installing: session_install's caller hands K over,
 * session_unwrap decrypts K and Km is derived here; every copy is wiped
 * once the keys are in the keyring. A session without a sid gets a random
 * one for its key names.
 *
 * The RSA seal keys are in an unwrap_keys.h table, as in the user tier,
 * but this tier always has a keyring (its own "kcourier" one until
 * set_keyring), so load_unwrap_key hands the key to the kernel whenever
 * the kernel takes it (pkcs8_key_parser loaded, rsa_keyring.h): the RSA
 * is then keyctl pkey_decrypt and no private key stays in this process.
 * Where the kernel cannot, the key stays with OpenSSL here, and
 * unwrap_key_serial says why.
 *
 * The keyring is the only store: when a key cannot be added (quota full,
 * EDQUOT) the session is refused, never kept in memory instead. Keys live
 * as long as the session, or ttl_s (set_keyring; DEFAULT_TTL before that,
 * so a process that dies leaves no key behind for long) if that ends
 * first: then the session answers UNKNOWN_SESSION, once a thread has to
 * key its sockets from them again.
 *
 * Handles are (generation << 24 | slot) as in the user tier, so a stale
 * handle misses the slot's next session. Each session also gets a key id
 * that is never reused, which is what a thread's sockets remember keying:
 * consecutive requests of one session re-key nothing, and a dropped
 * session's key can never be mistaken for a newer one. (A thread's tfm
 * socket keeps the last key it held, in kernel memory, until it is keyed
 * again or the thread exits.)
 *
 * Locking as in the user tier: a rwlock, batches under the read lock,
 * session changes under the write lock, and every syscall on the keyring
 * outside it; the unwrap keys have the table's own lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/afalg_probe.h"
#include "crypto/afalg_sock.h"
#include "crypto/crypto.h"
#include "crypto/crypto_afalg.h"
#include "crypto/crypto_tier.h"
#include "crypto/keyring.h"
#include "crypto/rsa_keyring.h"
#include "base/status.h"
#include "crypto/unwrap_keys.h"

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK 0x7fu /* handles stay non-negative */
#define LIVE 0x80u
#define MAX_SESSIONS (1u << SLOT_BITS)
#define DEFAULT_TTL 3600 /* s: the agent's default session_ttl */

struct afalg_session {
	key_serial_t enc, mac;
	uint64_t key_id;
	struct kc_keyring *ring; /* where enc and mac are linked */
};

struct afalg_crypto {
	struct kc_crypto base;
	pthread_rwlock_t lock;
	struct afalg_session *sessions;
	uint8_t *state; /* per slot: LIVE | generation */
	uint32_t *free_slots;
	uint32_t nfree, used, cap;
	struct kc_unwrap_keys unwrap_keys;
	struct kc_keyring own_ring;
	struct kc_keyring *ring; /* own_ring until set_keyring */
	unsigned int ttl;
};

static struct afalg_crypto *to_afalg(struct kc_crypto *c)
{
	return (struct afalg_crypto *)c;
}

static int afalg_create(struct kc_crypto **out)
{
	struct afalg_crypto *a;
	pthread_rwlockattr_t attr;
	int ret;

	*out = NULL;
	ret = kc_afalg_probe(NULL, 0);
	if (ret)
		return ret;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	ret = kc_keyring_open(&a->own_ring);
	if (ret)
		goto err_free;
	a->ring = &a->own_ring;
	a->ttl = DEFAULT_TTL;
	/* Batches come back to back; writers must not starve behind them. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = -pthread_rwlock_init(&a->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret)
		goto err_free;
	ret = kc_unwrap_keys_init(&a->unwrap_keys);
	if (ret)
		goto err_lock;
	a->base.ops = &kc_crypto_afalg_ops;
	*out = &a->base;
	return 0;
err_lock:
	pthread_rwlock_destroy(&a->lock);
err_free:
	free(a);
	return ret;
}

static void keys_unlink(const struct afalg_session *s)
{
	kc_keyring_unlink(s->ring, s->enc);
	kc_keyring_unlink(s->ring, s->mac);
}

static void afalg_destroy(struct kc_crypto *c)
{
	struct afalg_crypto *a;
	uint32_t i;

	if (!c)
		return;
	a = to_afalg(c);
	for (i = 0; i < a->used; i++)
		if (a->state[i] & LIVE)
			keys_unlink(&a->sessions[i]);
	kc_unwrap_keys_destroy(&a->unwrap_keys);
	free(a->sessions);
	free(a->state);
	free(a->free_slots);
	pthread_rwlock_destroy(&a->lock);
	free(a);
}

/* Unwrap keys. */

static int afalg_load_unwrap_key(struct kc_crypto *c, const uint8_t *pkcs8_der,
				 size_t len, kc_handle_t *out)
{
	struct afalg_crypto *a = to_afalg(c);
	key_serial_t ring;

	/* The keyring sessions go to; add_key itself runs outside the lock. */
	pthread_rwlock_rdlock(&a->lock);
	ring = a->ring->ring;
	pthread_rwlock_unlock(&a->lock);
	return kc_unwrap_keys_add(&a->unwrap_keys, ring, pkcs8_der, len, out);
}

static void afalg_unload_key(struct kc_crypto *c, kc_handle_t key)
{
	kc_unwrap_keys_remove(&to_afalg(c)->unwrap_keys, key);
}

static int afalg_unwrap_key_serial(struct kc_crypto *c, kc_handle_t key)
{
	return kc_unwrap_keys_where(&to_afalg(c)->unwrap_keys, key);
}

/* Session slots. */

/* Under the write lock: room for one more slot. */
static int slots_grow(struct afalg_crypto *a)
{
	uint32_t cap = a->cap ? 2 * a->cap : 64;
	struct afalg_session *sessions;
	uint32_t *free_slots;
	uint8_t *state;

	if (cap > MAX_SESSIONS)
		cap = MAX_SESSIONS;
	if (cap == a->cap)
		return -ENOSPC;
	sessions = realloc(a->sessions, cap * sizeof(*sessions));
	if (sessions)
		a->sessions = sessions;
	state = realloc(a->state, cap);
	if (state)
		a->state = state;
	free_slots = realloc(a->free_slots, cap * sizeof(*free_slots));
	if (free_slots)
		a->free_slots = free_slots;
	if (!sessions || !state || !free_slots)
		return -ENOMEM; /* what did grow is kept, harmlessly */
	memset(state + a->cap, 0, cap - a->cap);
	a->cap = cap;
	return 0;
}

/* A slot no lookup finds until slot_publish; *ring and *ttl to add keys. */
static int slot_reserve(struct afalg_crypto *a, uint32_t *idx,
			struct kc_keyring **ring, unsigned int *ttl)
{
	int ret = 0;

	pthread_rwlock_wrlock(&a->lock);
	if (a->nfree) {
		*idx = a->free_slots[--a->nfree];
	} else {
		if (a->used == a->cap)
			ret = slots_grow(a);
		if (!ret)
			*idx = a->used++;
	}
	*ring = a->ring;
	*ttl = a->ttl;
	pthread_rwlock_unlock(&a->lock);
	return ret;
}

/* Under the write lock. */
static void slot_free(struct afalg_crypto *a, uint32_t idx)
{
	memset(&a->sessions[idx], 0, sizeof(a->sessions[idx]));
	a->free_slots[a->nfree++] = idx;
}

static void slot_release(struct afalg_crypto *a, uint32_t idx)
{
	pthread_rwlock_wrlock(&a->lock);
	slot_free(a, idx);
	pthread_rwlock_unlock(&a->lock);
}

static kc_handle_t slot_publish(struct afalg_crypto *a, uint32_t idx,
				const struct afalg_session *s)
{
	uint32_t gen;

	pthread_rwlock_wrlock(&a->lock);
	a->sessions[idx] = *s;
	gen = (a->state[idx] + 1) & GEN_MASK;
	a->state[idx] = (uint8_t)(LIVE | gen);
	pthread_rwlock_unlock(&a->lock);
	return (kc_handle_t)(gen << SLOT_BITS | idx);
}

/* Under the lock (either side): the live session, or NULL. */
static const struct afalg_session *session_find(struct afalg_crypto *a,
						kc_handle_t h)
{
	uint32_t idx = (uint32_t)h & SLOT_MASK;
	uint32_t gen = (uint32_t)h >> SLOT_BITS;

	if (h < 0 || idx >= a->used || a->state[idx] != (LIVE | gen))
		return NULL;
	return &a->sessions[idx];
}

/* Sessions. */

/* K and Km into the keyring as logon keys; the caller wipes its copies. */
static int keys_add(struct afalg_session *s, const uint8_t *sid,
		    unsigned int ttl, const uint8_t k[KC_KEY_LEN],
		    const uint8_t km[KC_KEY_LEN])
{
	int ret;

	ret = kc_keyring_add(s->ring, "logon", sid, "enc", k, KC_KEY_LEN, ttl,
			     &s->enc);
	if (ret)
		return ret;
	ret = kc_keyring_add(s->ring, "logon", sid, "mac", km, KC_KEY_LEN, ttl,
			     &s->mac);
	if (ret)
		kc_keyring_unlink(s->ring, s->enc);
	return ret;
}

static int session_add(struct afalg_crypto *a, const uint8_t *sid,
		       const uint8_t k[KC_KEY_LEN],
		       const uint8_t km[KC_KEY_LEN], kc_handle_t *out)
{
	struct afalg_session s = { 0 };
	uint8_t random_sid[KC_SID_LEN];
	unsigned int ttl;
	uint32_t idx;
	int ret;

	if (!sid) {
		kc_random(random_sid, sizeof(random_sid));
		sid = random_sid;
	}
	ret = slot_reserve(a, &idx, &s.ring, &ttl);
	if (ret)
		return ret;
	ret = keys_add(&s, sid, ttl, k, km);
	if (ret) {
		slot_release(a, idx);
		return ret;
	}
	s.key_id = kc_afalg_key_id();
	*out = slot_publish(a, idx, &s);
	return 0;
}

static int afalg_session_install(struct kc_crypto *c, const uint8_t *sid,
				 const uint8_t k[KC_KEY_LEN], kc_handle_t *out)
{
	uint8_t km[KC_KEY_LEN];
	int ret;

	ret = kc_derive_km(k, km);
	if (!ret)
		ret = session_add(to_afalg(c), sid, k, km, out);
	explicit_bzero(km, sizeof(km));
	return ret;
}

static int afalg_session_unwrap(struct kc_crypto *c, kc_handle_t key,
				const uint8_t *sid,
				const uint8_t wrapped[KC_RSA_LEN],
				kc_handle_t *out)
{
	struct afalg_crypto *a = to_afalg(c);
	struct kc_unwrap_key ukey;
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN];
	int unwrapped, ret;

	/* A copy, so an unload during the RSA operation is harmless. */
	ret = kc_unwrap_keys_get(&a->unwrap_keys, key, &ukey);
	if (ret)
		return ret;
	/* On -EBADMSG K is random: the session exists and fails every MAC. */
	unwrapped = kc_unwrap_key_unwrap(&ukey, wrapped, k);
	if (unwrapped == 0 || unwrapped == -EBADMSG)
		ret = kc_derive_km(k, km);
	else
		ret = unwrapped;
	if (!ret)
		ret = session_add(a, sid, k, km, out);
	if (!ret)
		ret = unwrapped;
	explicit_bzero(k, sizeof(k));
	explicit_bzero(km, sizeof(km));
	kc_unwrap_key_put(&ukey);
	return ret;
}

static void afalg_session_drop(struct kc_crypto *c, kc_handle_t session)
{
	struct afalg_crypto *a = to_afalg(c);
	const struct afalg_session *found;
	struct afalg_session s = { 0 };

	pthread_rwlock_wrlock(&a->lock);
	found = session_find(a, session);
	if (found) {
		s = *found;
		a->state[(uint32_t)session & SLOT_MASK] &= ~LIVE;
		slot_free(a, (uint32_t)session & SLOT_MASK);
	}
	pthread_rwlock_unlock(&a->lock);
	if (found)
		keys_unlink(&s);
}

static int afalg_set_keyring(struct kc_crypto *c, struct kc_keyring *kr,
			     unsigned int ttl_s)
{
	struct afalg_crypto *a = to_afalg(c);

	pthread_rwlock_wrlock(&a->lock);
	a->ring = kr ? kr : &a->own_ring;
	a->ttl = ttl_s;
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

/* Batches. */

/*
 * Keys a socket pair for this session unless it holds its key already. A
 * key gone from the keyring (expired with its TTL, unlinked by an
 * operator) means the session is gone.
 */
static int pair_key(struct kc_alg *pair, key_serial_t serial, uint64_t key_id)
{
	int ret;

	if (pair->key_id == key_id)
		return 0;
	ret = kc_alg_key_serial(pair, serial, key_id);
	if (ret == -ENOKEY || ret == -EKEYEXPIRED || ret == -EKEYREVOKED)
		ret = -KC_UNKNOWN_SESSION;
	return ret;
}

static int decrypt(struct kc_afalg_thread *t, const struct afalg_session *s,
		   struct kc_open_req *r)
{
	const struct kc_iov ct = { r->ct, r->ct_len };
	size_t pad;
	int ret;

	/* Bad length or padding is the same failure as a bad MAC. */
	if (!r->ct_len || r->ct_len % KC_AES_BLOCK)
		return -KC_BAD_MAC;
	ret = pair_key(&t->cbc, s->enc, s->key_id);
	if (!ret)
		ret = kc_alg_cbc(&t->cbc, false, r->iv, &ct, 1, r->pt);
	if (ret)
		return ret;
	pad = kc_pkcs7_pad_len(r->pt, r->ct_len);
	if (!pad) {
		explicit_bzero(r->pt, r->ct_len);
		return -KC_BAD_MAC;
	}
	r->pt_len = r->ct_len - pad;
	return 0;
}

static int open_one(struct kc_afalg_thread *t, const struct afalg_session *s,
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
	if (!s)
		return -KC_UNKNOWN_SESSION;
	ret = pair_key(&t->hmac, s->mac, s->key_id);
	if (!ret)
		ret = kc_alg_hmac(&t->hmac, macced, 2, mac);
	if (ret)
		goto cleanup;
	/* Encrypt-then-MAC: nothing is decrypted before the tag checks out. */
	if (!kc_equal_ct(mac, r->mac, KC_MAC_LEN)) {
		ret = -KC_BAD_MAC;
		goto cleanup;
	}
	r->mac_ok = true;
	ret = decrypt(t, s, r);
cleanup:
	/* The valid tag for attacker-chosen bytes must not linger. */
	explicit_bzero(mac, sizeof(mac));
	return ret;
}

static int seal_one(struct kc_afalg_thread *t, const struct afalg_session *s,
		    struct kc_seal_req *r)
{
	size_t full = r->pt_len - r->pt_len % KC_AES_BLOCK;
	size_t pad = KC_AES_BLOCK - r->pt_len % KC_AES_BLOCK;
	uint8_t last[KC_AES_BLOCK];
	struct kc_iov in[2] = { { r->pt, full }, { last, sizeof(last) } };
	int ret;

	r->ct_len = 0;
	if (!s)
		return -KC_UNKNOWN_SESSION;
	/* PKCS#7: the kernel's cbc(aes) takes whole blocks only. */
	if (pad < KC_AES_BLOCK)
		memcpy(last, r->pt + full, KC_AES_BLOCK - pad);
	memset(last + KC_AES_BLOCK - pad, (int)pad, pad);
	ret = pair_key(&t->cbc, s->enc, s->key_id);
	if (!ret)
		ret = kc_alg_cbc(&t->cbc, true, r->iv, in, 2, r->ct);
	explicit_bzero(last, sizeof(last));
	if (ret)
		return ret;
	r->ct_len = full + KC_AES_BLOCK;
	in[0] = (struct kc_iov){ r->aad, r->aad_len };
	in[1] = (struct kc_iov){ r->ct, r->ct_len };
	ret = pair_key(&t->hmac, s->mac, s->key_id);
	if (!ret)
		ret = kc_alg_hmac(&t->hmac, in, 2, r->mac);
	return ret;
}

static int afalg_open_batch(struct kc_crypto *c, struct kc_open_req *r,
			    size_t n)
{
	struct afalg_crypto *a = to_afalg(c);
	struct kc_afalg_thread *t;
	size_t i;
	int ret;

	if (n && !r)
		return -EINVAL;
	t = kc_afalg_thread_get(&ret);
	if (!t)
		return ret;
	pthread_rwlock_rdlock(&a->lock);
	for (i = 0; i < n; i++)
		r[i].status = open_one(t, session_find(a, r[i].session), &r[i]);
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

static int afalg_seal_batch(struct kc_crypto *c, struct kc_seal_req *r,
			    size_t n)
{
	struct afalg_crypto *a = to_afalg(c);
	struct kc_afalg_thread *t;
	size_t i;
	int ret;

	if (n && !r)
		return -EINVAL;
	t = kc_afalg_thread_get(&ret);
	if (!t)
		return ret;
	pthread_rwlock_rdlock(&a->lock);
	for (i = 0; i < n; i++)
		r[i].status = seal_one(t, session_find(a, r[i].session), &r[i]);
	pthread_rwlock_unlock(&a->lock);
	return 0;
}

const struct kc_crypto_ops kc_crypto_afalg_ops = {
	.name = "afalg",
	.create = afalg_create,
	.destroy = afalg_destroy,
	.load_unwrap_key = afalg_load_unwrap_key,
	.unwrap_key_serial = afalg_unwrap_key_serial,
	.unload_key = afalg_unload_key,
	.session_install = afalg_session_install,
	.session_unwrap = afalg_session_unwrap,
	.session_drop = afalg_session_drop,
	.set_keyring = afalg_set_keyring,
	.open_batch = afalg_open_batch,
	.seal_batch = afalg_seal_batch,
};
