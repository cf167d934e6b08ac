// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session table, batch runner and unwrap keys the crypto tiers share;
 * see tier_core.h for the contract.
 *
 * Invariants: slots [0, used) have been handed out at least once, and
 * free_slots[0..nfree) are the ones among them not in use, their records
 * zeroed; a slot is found (session_find) only while its state has LIVE.
 * The table only grows (up to KC_TIER_MAX_SESSIONS) and may move as it
 * does, so a record is filled on the side and copied in under the write
 * lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/rsa_keyring.h"
#include "crypto/tier_core.h"
#include "crypto/unwrap_keys.h"

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define GEN_MASK 0x7fu /* handles stay non-negative */
#define LIVE 0x80u
_Static_assert(KC_TIER_MAX_SESSIONS == 1u << SLOT_BITS,
	       "a handle names every slot");
#define FIRST_CAP 64u

/* A session's record off the table: while it is made, and once dropped. */
union session_record {
	max_align_t align;
	uint8_t bytes[KC_TIER_SESSION_MAX];
};

static struct kc_tier *to_tier(struct kc_crypto *c)
{
	return (struct kc_tier *)c;
}

int kc_tier_init(struct kc_tier *t, const struct kc_crypto_ops *ops,
		 const struct kc_tier_primitives *prim,
		 struct kc_keyring *default_ring, unsigned int ttl)
{
	const size_t align = alignof(max_align_t);
	pthread_rwlockattr_t attr;
	int ret;

	if (prim->session_size > KC_TIER_SESSION_MAX)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->base.ops = ops;
	t->prim = prim;
	t->stride = (prim->session_size + align - 1) / align * align;
	t->default_ring = t->ring = default_ring;
	t->ttl = ttl;
	/* Batches come back to back; writers must not starve behind them. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = -pthread_rwlock_init(&t->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret)
		return ret;
	ret = kc_unwrap_keys_init(&t->unwrap_keys);
	if (ret)
		pthread_rwlock_destroy(&t->lock);
	return ret;
}

static void *session_at(const struct kc_tier *t, uint32_t idx)
{
	return t->sessions + (size_t)idx * t->stride;
}

void kc_tier_fini(struct kc_tier *t)
{
	uint32_t i;

	for (i = 0; i < t->used; i++)
		if (t->state[i] & LIVE)
			t->prim->keys_uninstall(t, session_at(t, i));
	kc_unwrap_keys_destroy(&t->unwrap_keys);
	free(t->sessions);
	free(t->state);
	free(t->free_slots);
	pthread_rwlock_destroy(&t->lock);
}

/* Unwrap keys. */

int kc_tier_load_unwrap_key(struct kc_crypto *c, const uint8_t *pkcs8_der,
			    size_t len, kc_handle_t *out)
{
	struct kc_tier *t = to_tier(c);
	key_serial_t ring;

	/*
	 * With a keyring the kernel may take the key (rsa_keyring.h); its
	 * add_key runs outside the lock.
	 */
	pthread_rwlock_rdlock(&t->lock);
	ring = t->ring ? t->ring->ring : 0;
	pthread_rwlock_unlock(&t->lock);
	return kc_unwrap_keys_add(&t->unwrap_keys, ring, pkcs8_der, len, out);
}

void kc_tier_unload_key(struct kc_crypto *c, kc_handle_t key)
{
	kc_unwrap_keys_remove(&to_tier(c)->unwrap_keys, key);
}

int kc_tier_unwrap_key_serial(struct kc_crypto *c, kc_handle_t key)
{
	return kc_unwrap_keys_where(&to_tier(c)->unwrap_keys, key);
}

/* Session slots. */

/* Under the write lock: room for one more slot. */
static int slots_grow(struct kc_tier *t)
{
	uint32_t cap = t->cap ? 2 * t->cap : FIRST_CAP;
	uint32_t *free_slots;
	uint8_t *sessions, *state;

	if (cap > KC_TIER_MAX_SESSIONS)
		cap = KC_TIER_MAX_SESSIONS;
	if (cap == t->cap)
		return -ENOSPC;
	sessions = realloc(t->sessions, cap * t->stride);
	if (sessions)
		t->sessions = sessions;
	state = realloc(t->state, cap);
	if (state)
		t->state = state;
	free_slots = realloc(t->free_slots, cap * sizeof(*free_slots));
	if (free_slots)
		t->free_slots = free_slots;
	if (!sessions || !state || !free_slots)
		return -ENOMEM; /* what did grow is kept, harmlessly */
	memset(state + t->cap, 0, cap - t->cap);
	t->cap = cap;
	return 0;
}

/*
 * A slot no lookup finds until slot_publish; keys->ring and ->ttl as
 * set_keyring left them.
 */
static int slot_reserve(struct kc_tier *t, uint32_t *idx,
			struct kc_tier_keys *keys)
{
	int ret = 0;

	pthread_rwlock_wrlock(&t->lock);
	if (t->nfree) {
		*idx = t->free_slots[--t->nfree];
	} else {
		if (t->used == t->cap)
			ret = slots_grow(t);
		if (!ret)
			*idx = t->used++;
	}
	keys->ring = t->ring;
	keys->ttl = t->ttl;
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

/* Under the write lock. */
static void slot_free(struct kc_tier *t, uint32_t idx)
{
	t->state[idx] &= ~LIVE;
	memset(session_at(t, idx), 0, t->stride);
	t->free_slots[t->nfree++] = idx;
}

static void slot_release(struct kc_tier *t, uint32_t idx)
{
	pthread_rwlock_wrlock(&t->lock);
	slot_free(t, idx);
	pthread_rwlock_unlock(&t->lock);
}

static kc_handle_t slot_publish(struct kc_tier *t, uint32_t idx,
				const union session_record *s)
{
	uint32_t gen;

	pthread_rwlock_wrlock(&t->lock);
	memcpy(session_at(t, idx), s, t->prim->session_size);
	gen = (t->state[idx] + 1) & GEN_MASK;
	t->state[idx] = (uint8_t)(LIVE | gen);
	pthread_rwlock_unlock(&t->lock);
	return (kc_handle_t)(gen << SLOT_BITS | idx);
}

/* Under the lock (either side): the live session's record, or NULL. */
static void *session_find(const struct kc_tier *t, kc_handle_t h)
{
	uint32_t idx = (uint32_t)h & SLOT_MASK;
	uint32_t gen = (uint32_t)h >> SLOT_BITS;

	if (h < 0 || idx >= t->used || t->state[idx] != (LIVE | gen))
		return NULL;
	return session_at(t, idx);
}

/* Sessions. */

/* A session from K: Km derived, both to the tier; our copy of Km wiped. */
static int session_add(struct kc_tier *t, const uint8_t *sid,
		       const uint8_t k[KC_KEY_LEN], kc_handle_t *out)
{
	uint8_t km[KC_KEY_LEN];
	struct kc_tier_keys keys = { .sid = sid, .k = k, .km = km };
	union session_record s;
	uint32_t idx;
	int ret;

	ret = kc_derive_km(k, km);
	if (!ret)
		ret = slot_reserve(t, &idx, &keys);
	if (!ret) {
		memset(&s, 0, sizeof(s));
		ret = t->prim->keys_install(t, &s, &keys);
		if (ret)
			slot_release(t, idx);
		else
			*out = slot_publish(t, idx, &s);
	}
	explicit_bzero(km, sizeof(km));
	return ret;
}

int kc_tier_session_install(struct kc_crypto *c, const uint8_t *sid,
			    const uint8_t k[KC_KEY_LEN], kc_handle_t *out)
{
	return session_add(to_tier(c), sid, k, out);
}

/* The session of an unwrap's outcome: made on 0 and -EBADMSG alike. */
static int session_of_unwrap(struct kc_tier *t, const uint8_t *sid,
			     const uint8_t k[KC_KEY_LEN], int unwrapped,
			     kc_handle_t *out)
{
	int ret;

	/* On -EBADMSG K is random: the session exists and fails every MAC. */
	if (unwrapped == 0 || unwrapped == -EBADMSG)
		ret = session_add(t, sid, k, out);
	else
		ret = unwrapped;
	return ret ? ret : unwrapped;
}

/* A session unwrapped by the tier's kernel (keys_unwrap). */
static int session_kernel_unwrap(struct kc_tier *t, int32_t seal,
				 const uint8_t *sid,
				 const uint8_t wrapped[KC_RSA_LEN],
				 kc_handle_t *out)
{
	struct kc_tier_keys keys = { .sid = sid };
	union session_record s;
	uint32_t idx;
	int ret;

	ret = slot_reserve(t, &idx, &keys);
	if (ret)
		return ret;
	memset(&s, 0, sizeof(s));
	ret = t->prim->keys_unwrap(t, &s, seal, wrapped, &keys);
	if (ret && ret != -EBADMSG)
		slot_release(t, idx);
	else
		*out = slot_publish(t, idx, &s);
	return ret;
}

int kc_tier_session_unwrap(struct kc_crypto *c, kc_handle_t key,
			   const uint8_t *sid,
			   const uint8_t wrapped[KC_RSA_LEN], kc_handle_t *out)
{
	struct kc_tier *t = to_tier(c);
	struct kc_unwrap_key ukey;
	uint8_t k[KC_KEY_LEN];
	int ret, seal;

	if (t->prim->keys_unwrap) {
		seal = kc_unwrap_keys_where(&t->unwrap_keys, key);
		if (seal > 0 || seal == -ENOENT)
			return seal > 0 ? session_kernel_unwrap(t, seal, sid,
								wrapped, out)
					: seal;
	}

	/* A copy, so an unload during the RSA operation is harmless. */
	ret = kc_unwrap_keys_get(&t->unwrap_keys, key, &ukey);
	if (ret)
		return ret;
	ret = session_of_unwrap(t, sid, k,
				kc_unwrap_key_unwrap(&ukey, wrapped, k), out);
	explicit_bzero(k, sizeof(k));
	kc_unwrap_key_put(&ukey);
	return ret;
}

/*
 * k = k_old where only the old key unwrapped, else k_new (the new key's K,
 * or its random fallback): a mask, no branch on either outcome. Returns 0
 * when either unwrapped, -EBADMSG when neither did, or the new key's
 * other error.
 */
static int select_either(int r_new, int r_old, uint8_t k[KC_KEY_LEN],
			 const uint8_t k_old[KC_KEY_LEN])
{
	unsigned int take_old = (unsigned int)(r_new != 0) &
				(unsigned int)(r_old == 0);
	unsigned int any = (unsigned int)(r_new == 0) |
			   (unsigned int)(r_old == 0);
	uint8_t mask = (uint8_t)(0u - take_old);

	if (r_new && r_new != -EBADMSG)
		return r_new; /* the kernel or memory failed: no secret in it */
	for (size_t i = 0; i < KC_KEY_LEN; i++)
		k[i] ^= mask & (k[i] ^ k_old[i]);
	return -EBADMSG & (int)(any - 1u);
}

int kc_tier_session_unwrap_either(struct kc_crypto *c, kc_handle_t key,
				  kc_handle_t old, const uint8_t *sid,
				  const uint8_t wrapped[KC_RSA_LEN],
				  kc_handle_t *out)
{
	struct kc_tier *t = to_tier(c);
	struct kc_unwrap_key knew, kold;
	uint8_t k[KC_KEY_LEN], k_old[KC_KEY_LEN];
	int r_new, r_old, ret;

	/* Which keys exist is public; only the outcomes are not. */
	if (kc_unwrap_keys_get(&t->unwrap_keys, old, &kold))
		return kc_tier_session_unwrap(c, key, sid, wrapped, out);
	ret = kc_unwrap_keys_get(&t->unwrap_keys, key, &knew);
	if (!ret) {
		r_new = kc_unwrap_key_unwrap(&knew, wrapped, k);
		r_old = kc_unwrap_key_unwrap(&kold, wrapped, k_old);
		ret = session_of_unwrap(t, sid, k,
					select_either(r_new, r_old, k, k_old),
					out);
		kc_unwrap_key_put(&knew);
	}
	explicit_bzero(k, sizeof(k));
	explicit_bzero(k_old, sizeof(k_old));
	kc_unwrap_key_put(&kold);
	return ret;
}

void kc_tier_session_drop(struct kc_crypto *c, kc_handle_t session)
{
	struct kc_tier *t = to_tier(c);
	union session_record s;
	void *found;

	pthread_rwlock_wrlock(&t->lock);
	found = session_find(t, session);
	if (found) {
		memcpy(&s, found, t->prim->session_size);
		slot_free(t, (uint32_t)session & SLOT_MASK);
	}
	pthread_rwlock_unlock(&t->lock);
	/* No batch can find the session now; the keys go outside the lock. */
	if (found)
		t->prim->keys_uninstall(t, &s);
}

int kc_tier_set_keyring(struct kc_crypto *c, struct kc_keyring *kr,
			unsigned int ttl_s)
{
	struct kc_tier *t = to_tier(c);

	pthread_rwlock_wrlock(&t->lock);
	t->ring = kr ? kr : t->default_ring;
	t->ttl = ttl_s;
	pthread_rwlock_unlock(&t->lock);
	return 0;
}

/* Batches. */

static int open_one(const struct kc_tier_primitives *p, void *batch,
		    const void *session, struct kc_open_req *r)
{
	const struct kc_iov macced[] = {
		{ r->aad, r->aad_len },
		{ r->ct, r->ct_len },
	};
	uint8_t mac[KC_MAC_LEN];
	int ret;

	r->pt_len = 0;
	r->mac_ok = false;
	if (!session)
		return -KC_UNKNOWN_SESSION;
	ret = p->mac(batch, session, macced, 2, mac);
	if (ret)
		goto cleanup;
	/* Encrypt-then-MAC: nothing is decrypted before the tag checks out. */
	if (!kc_equal_ct(mac, r->mac, KC_MAC_LEN)) {
		ret = -KC_BAD_MAC;
		goto cleanup;
	}
	r->mac_ok = true;
	ret = p->cbc(batch, session, false, r->iv, r->ct, r->ct_len, r->pt,
		     &r->pt_len);
	/* Bad length or padding is the same failure as a bad MAC. */
	if (ret == -EBADMSG)
		ret = -KC_BAD_MAC;
cleanup:
	/* The valid tag for attacker-chosen bytes must not linger. */
	explicit_bzero(mac, sizeof(mac));
	return ret;
}

static int seal_one(const struct kc_tier_primitives *p, void *batch,
		    const void *session, struct kc_seal_req *r)
{
	struct kc_iov macced[2];
	int ret;

	r->ct_len = 0;
	if (!session)
		return -KC_UNKNOWN_SESSION;
	ret = p->cbc(batch, session, true, r->iv, r->pt, r->pt_len, r->ct,
		     &r->ct_len);
	if (ret)
		return ret;
	macced[0] = (struct kc_iov){ r->aad, r->aad_len };
	macced[1] = (struct kc_iov){ r->ct, r->ct_len };
	return p->mac(batch, session, macced, 2, r->mac);
}

/* Does request i of a batch; the request records its own status. */
typedef void (*batch_item_fn)(const struct kc_tier *t, void *batch, void *reqs,
			      size_t i);

/* Requests handed to open_all / seal_all at once. */
#define ALL_CHUNK 64

/* The tier's open_all or seal_all over the batch, ALL_CHUNK at a time. */
static void run_all(const struct kc_tier *t, void *batch, void *reqs,
		    size_t n, bool seal)
{
	const void *sessions[ALL_CHUNK];
	struct kc_open_req *o = reqs;
	struct kc_seal_req *s = reqs;
	size_t i, j, m;

	for (i = 0; i < n; i += m) {
		m = n - i < ALL_CHUNK ? n - i : ALL_CHUNK;
		for (j = 0; j < m; j++)
			sessions[j] = session_find(
				t, seal ? s[i + j].session : o[i + j].session);
		if (seal)
			t->prim->seal_all(batch, sessions, s + i, m);
		else
			t->prim->open_all(batch, sessions, o + i, m);
	}
}

/* One batch context and one read lock for the whole batch. */
static int run_batch(struct kc_crypto *c, void *reqs, size_t n,
		     batch_item_fn item, bool seal)
{
	struct kc_tier *t = to_tier(c);
	void *batch;
	size_t i;
	int ret = 0;

	if (n && !reqs)
		return -EINVAL;
	batch = t->prim->batch_begin(&ret);
	if (!batch)
		return ret;
	pthread_rwlock_rdlock(&t->lock);
	if (seal ? t->prim->seal_all != NULL : t->prim->open_all != NULL)
		run_all(t, batch, reqs, n, seal);
	else
		for (i = 0; i < n; i++)
			item(t, batch, reqs, i);
	pthread_rwlock_unlock(&t->lock);
	if (t->prim->batch_end)
		t->prim->batch_end(batch);
	return 0;
}

static void open_item(const struct kc_tier *t, void *batch, void *reqs,
		      size_t i)
{
	struct kc_open_req *r = (struct kc_open_req *)reqs + i;

	r->status = open_one(t->prim, batch, session_find(t, r->session), r);
}

static void seal_item(const struct kc_tier *t, void *batch, void *reqs,
		      size_t i)
{
	struct kc_seal_req *r = (struct kc_seal_req *)reqs + i;

	r->status = seal_one(t->prim, batch, session_find(t, r->session), r);
}

int kc_tier_open_batch(struct kc_crypto *c, struct kc_open_req *r, size_t n)
{
	return run_batch(c, r, n, open_item, false);
}

int kc_tier_seal_batch(struct kc_crypto *c, struct kc_seal_req *r, size_t n)
{
	return run_batch(c, r, n, seal_item, true);
}
