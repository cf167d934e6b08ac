// SPDX-License-Identifier: GPL-2.0-only
/*
 * The afalg crypto tier (docs/DESIGN.md "Crypto backends"): AES-256-CBC as
 * the kernel's cbc(aes) and HMAC-SHA256 as hmac(sha256), over AF_ALG
 * (afalg_sock.h), keyed from the kernel keyring.
 *
 * A session is two logon keys, kcourier:<sid-hex>:enc (K) and :mac (Km),
 * in the "kcourier" keyring (keyring.h). Logon keys cannot be read back
 * from user space; the sockets are keyed with ALG_SET_KEY_BY_KEY_SERIAL,
 * so once installed K and Km exist only in the kernel. This process holds
 * them briefly while installing (tier_core.c wipes its copies once they
 * are in the keyring). A session without a sid gets a random one for its
 * key names.
 *
 * The session table, its locking, the batches and the unwrap keys are
 * tier_core.h's. This tier always has a keyring (its own "kcourier" one
 * until set_keyring), so load_unwrap_key hands the RSA seal key to the
 * kernel whenever the kernel takes it (pkcs8_key_parser loaded,
 * rsa_keyring.h): the RSA is then keyctl pkey_decrypt and no private key
 * stays in this process. Where the kernel cannot, the key stays with
 * OpenSSL here, and unwrap_key_serial says why.
 *
 * The keyring is the store: when a key cannot be added because the user's
 * key quota is full (EDQUOT), the session's K and Km go to locked memory
 * instead, as the user tier keeps them (secmem.h, a pool made on the
 * first such session), and its sockets are keyed from there: one client
 * filling the quota does not stop everyone else's sessions. Keys live
 * as long as the session, or ttl_s (set_keyring; DEFAULT_TTL before that,
 * so a process that dies leaves no key behind for long) if that ends
 * first: then the session answers UNKNOWN_SESSION, once a thread has to
 * key its sockets from them again.
 *
 * Each session also gets a key id that is never reused, which is what a
 * thread's sockets remember keying: consecutive requests of one session
 * re-key nothing, and a dropped session's key can never be mistaken for a
 * newer one. (A thread's tfm socket keeps the last key it held, in kernel
 * memory, until it is keyed again or the thread exits.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/secmem.h"
#include "base/status.h"
#include "crypto/afalg_probe.h"
#include "crypto/afalg_sock.h"
#include "crypto/crypto.h"
#include "crypto/crypto_afalg.h"
#include "crypto/crypto_tier.h"
#include "crypto/keyring.h"
#include "crypto/tier_core.h"

#define DEFAULT_TTL 3600 /* s: the agent's default session_ttl */

/* K and Km of a session the keyring had no room for. */
struct afalg_mem_keys {
	uint8_t k[KC_KEY_LEN];
	uint8_t km[KC_KEY_LEN];
};

/* The tier's record of a session in tier_core.c's table. */
struct afalg_session {
	key_serial_t enc, mac;
	uint64_t key_id;
	struct kc_keyring *ring;     /* where enc and mac are linked */
	struct afalg_mem_keys *mem; /* instead of them: slot `slot` */
	uint32_t slot;
};

struct afalg_crypto {
	struct kc_tier tier; /* first */
	struct kc_keyring own_ring;
	pthread_mutex_t pool_lock;
	struct kc_secmem *pool; /* NULL until the keyring first refuses */
};

static const struct kc_tier_primitives afalg_primitives;

static int afalg_create(struct kc_crypto **out)
{
	struct afalg_crypto *a;
	int ret;

	*out = NULL;
	ret = kc_afalg_probe(NULL, 0);
	if (ret)
		return ret;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->pool_lock, NULL);
	ret = kc_keyring_open(&a->own_ring);
	if (!ret)
		ret = kc_tier_init(&a->tier, &kc_crypto_afalg_ops,
				   &afalg_primitives, &a->own_ring,
				   DEFAULT_TTL);
	if (ret) {
		pthread_mutex_destroy(&a->pool_lock);
		free(a);
		return ret;
	}
	*out = &a->tier.base;
	return 0;
}

static void afalg_destroy(struct kc_crypto *c)
{
	struct afalg_crypto *a = (struct afalg_crypto *)c;

	if (!c)
		return;
	kc_tier_fini(&a->tier);
	kc_secmem_destroy(a->pool); /* wipes every K and Km left */
	pthread_mutex_destroy(&a->pool_lock);
	free(a);
}

/* Keys. */

/* K and Km into the keyring as logon keys. */
static int keys_to_keyring(struct afalg_session *s,
			   const struct kc_tier_keys *keys)
{
	const uint8_t *sid = keys->sid;
	uint8_t random_sid[KC_SID_LEN];
	int ret;

	if (!sid) {
		kc_random(random_sid, sizeof(random_sid));
		sid = random_sid;
	}
	s->ring = keys->ring;
	ret = kc_keyring_add_pair(s->ring, "logon", sid, keys->k, keys->km,
				  KC_KEY_LEN, keys->ttl, &s->enc, &s->mac);
	if (ret)
		return ret;
	return 0;
}

/* The keyring is full: K and Km into a slot of locked memory. */
static int keys_to_memory(struct afalg_crypto *a, struct afalg_session *s,
			  const struct kc_tier_keys *keys)
{
	int ret = 0;

	pthread_mutex_lock(&a->pool_lock);
	if (!a->pool)
		ret = kc_secmem_create(sizeof(struct afalg_mem_keys),
				       KC_TIER_MAX_SESSIONS, &a->pool);
	if (!ret)
		ret = kc_secmem_alloc(a->pool, &s->slot);
	if (!ret)
		s->mem = kc_secmem_slot(a->pool, s->slot);
	pthread_mutex_unlock(&a->pool_lock);
	if (ret)
		return ret;
	memcpy(s->mem->k, keys->k, KC_KEY_LEN);
	memcpy(s->mem->km, keys->km, KC_KEY_LEN);
	s->ring = NULL;
	return 0;
}

/* The caller wipes its copies of K and Km. */
static int afalg_keys_install(struct kc_tier *t, void *session,
			      const struct kc_tier_keys *keys)
{
	struct afalg_session *s = session;
	int ret;

	s->mem = NULL;
	ret = keys_to_keyring(s, keys);
	if (ret == -EDQUOT)
		ret = keys_to_memory((struct afalg_crypto *)t, s, keys);
	if (ret)
		return ret;
	s->key_id = kc_afalg_key_id();
	return 0;
}

static void afalg_keys_uninstall(struct kc_tier *t, void *session)
{
	struct afalg_crypto *a = (struct afalg_crypto *)t;
	const struct afalg_session *s = session;

	if (s->mem) {
		pthread_mutex_lock(&a->pool_lock);
		kc_secmem_free(a->pool, s->slot); /* wipes K and Km */
		pthread_mutex_unlock(&a->pool_lock);
		return;
	}
	kc_keyring_unlink(s->ring, s->enc);
	kc_keyring_unlink(s->ring, s->mac);
}

/* Batches. */

static void *afalg_batch_begin(int *err)
{
	return kc_afalg_thread_get(err);
}

/*
 * Keys a socket pair for this session unless it holds its key already. A
 * key gone from the keyring (expired with its TTL, unlinked by an
 * operator) means the session is gone.
 */
static int pair_key(struct kc_alg *pair, const struct afalg_session *s,
		    bool mac)
{
	int ret;

	if (pair->key_id == s->key_id)
		return 0;
	if (s->mem)
		return kc_alg_key_raw(pair, mac ? s->mem->km : s->mem->k,
				      KC_KEY_LEN, s->key_id);
	ret = kc_alg_key_serial(pair, mac ? s->mac : s->enc, s->key_id);
	if (ret == -ENOKEY || ret == -EKEYEXPIRED || ret == -EKEYREVOKED)
		ret = -KC_UNKNOWN_SESSION;
	return ret;
}

static int afalg_mac(void *batch, const void *session, const struct kc_iov *iov,
		     size_t n, uint8_t out[KC_MAC_LEN])
{
	struct kc_afalg_thread *t = batch;
	const struct afalg_session *s = session;
	int ret;

	ret = pair_key(&t->hmac, s, true);
	if (!ret)
		ret = kc_alg_hmac(&t->hmac, iov, n, out);
	return ret;
}

static int afalg_cbc(void *batch, const void *session, bool encrypt,
		     const uint8_t iv[KC_IV_LEN], const uint8_t *in, size_t len,
		     uint8_t *out, size_t *out_len)
{
	struct kc_afalg_thread *t = batch;
	const struct afalg_session *s = session;
	int ret;

	ret = pair_key(&t->cbc, s, false);
	if (ret)
		return ret;
	if (encrypt)
		return kc_alg_cbc_encrypt_pkcs7(&t->cbc, iv, in, len, out,
						out_len);
	return kc_alg_cbc_decrypt_pkcs7(&t->cbc, iv, in, len, out, out_len);
}

_Static_assert(sizeof(struct afalg_session) <= KC_TIER_SESSION_MAX,
	       "an afalg session record must fit tier_core.h's slots");

static const struct kc_tier_primitives afalg_primitives = {
	.session_size = sizeof(struct afalg_session),
	.keys_install = afalg_keys_install,
	.keys_uninstall = afalg_keys_uninstall,
	.batch_begin = afalg_batch_begin,
	.mac = afalg_mac,
	.cbc = afalg_cbc,
};

const struct kc_crypto_ops kc_crypto_afalg_ops = {
	.name = "afalg",
	.create = afalg_create,
	.destroy = afalg_destroy,
	KC_TIER_SHARED_OPS,
};
