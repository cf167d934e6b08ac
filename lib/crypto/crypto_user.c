// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user crypto tier (docs/DESIGN.md "Crypto backends"): OpenSSL in this
 * process, session keys in locked memory (secmem.h), and with a keyring
 * set (set_keyring) a readable copy of each sid-named session's K and Km
 * there as "user" keys, for operators only: the crypto always works on the
 * copy in locked memory. A key the keyring refuses (quota full, EDQUOT) is
 * counted and logged once by keyring.c; the session then lives only here.
 *
 * The session table, its locking, the batches and the unwrap keys are
 * tier_core.h's; this tier has no keyring until set_keyring, so its unwrap
 * keys stay with OpenSSL unless one was set before load_unwrap_key. What
 * is here: a session's slot of locked memory, the mirror, and OpenSSL's
 * HMAC and CBC on this thread's contexts (symm.h), scrubbed after every
 * batch.
 *
 * The pool of locked memory is not thread-safe and has its own mutex;
 * batches never touch the pool, only the slots their sessions point to,
 * which stay put until the session is uninstalled.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/secmem.h"
#include "crypto/crypto.h"
#include "crypto/crypto_tier.h"
#include "crypto/crypto_user.h"
#include "crypto/keyring.h"
#include "crypto/symm.h"
#include "crypto/tier_core.h"

/* What a secmem slot holds. */
struct session_keys {
	uint8_t k[KC_KEY_LEN];	/* AES-256 key */
	uint8_t km[KC_KEY_LEN]; /* HMAC-SHA256 key */
};

/* The tier's record of a session in tier_core.c's table. */
struct user_session {
	struct session_keys *keys; /* slot `slot` of the pool */
	uint32_t slot;
	struct kc_keyring *ring; /* where the mirror is; NULL: none */
	key_serial_t mirror[2];	 /* enc, mac; 0 = none */
};

struct user_crypto {
	struct kc_tier tier; /* first */
	pthread_mutex_t pool_lock;
	struct kc_secmem *pool;
};

static const struct kc_tier_primitives user_primitives;

static struct user_crypto *to_user(struct kc_tier *t)
{
	return (struct user_crypto *)t;
}

static int user_create(struct kc_crypto **out)
{
	struct user_crypto *u = calloc(1, sizeof(*u));
	int ret;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	ret = kc_secmem_create(sizeof(struct session_keys),
			       KC_TIER_MAX_SESSIONS, &u->pool);
	if (ret)
		goto err_free;
	ret = -pthread_mutex_init(&u->pool_lock, NULL);
	if (ret)
		goto err_pool;
	ret = kc_tier_init(&u->tier, &kc_crypto_user_ops, &user_primitives,
			   NULL, 0);
	if (ret)
		goto err_lock;
	*out = &u->tier.base;
	return 0;
err_lock:
	pthread_mutex_destroy(&u->pool_lock);
err_pool:
	kc_secmem_destroy(u->pool);
err_free:
	free(u);
	return ret;
}

static void user_destroy(struct kc_crypto *c)
{
	struct user_crypto *u = (struct user_crypto *)c;

	if (!c)
		return;
	kc_tier_fini(&u->tier);
	kc_secmem_destroy(u->pool); /* wipes every K and Km */
	pthread_mutex_destroy(&u->pool_lock);
	free(u);
}

/* Keys. */

/*
 * Mirrors K and Km into the keyring as "user" keys named after the sid, so
 * an operator sees live sessions with keyctl.
 */
static void mirror_publish(struct user_session *s,
			   const struct kc_tier_keys *keys)
{
	s->ring = keys->sid ? keys->ring : NULL;
	if (!s->ring)
		return;
	if (kc_keyring_add(s->ring, "user", keys->sid, "enc", keys->k,
			   KC_KEY_LEN, keys->ttl, &s->mirror[0]))
		s->mirror[0] = 0;
	if (kc_keyring_add(s->ring, "user", keys->sid, "mac", keys->km,
			   KC_KEY_LEN, keys->ttl, &s->mirror[1]))
		s->mirror[1] = 0;
}

static void mirror_withdraw(const struct user_session *s)
{
	if (!s->ring)
		return;
	kc_keyring_unlink(s->ring, s->mirror[0]);
	kc_keyring_unlink(s->ring, s->mirror[1]);
}

static int user_keys_install(struct kc_tier *t, void *session,
			     const struct kc_tier_keys *keys)
{
	struct user_crypto *u = to_user(t);
	struct user_session *s = session;
	int ret;

	pthread_mutex_lock(&u->pool_lock);
	ret = kc_secmem_alloc(u->pool, &s->slot);
	if (!ret)
		s->keys = kc_secmem_slot(u->pool, s->slot);
	pthread_mutex_unlock(&u->pool_lock);
	if (ret)
		return ret;
	memcpy(s->keys->k, keys->k, KC_KEY_LEN);
	memcpy(s->keys->km, keys->km, KC_KEY_LEN);
	mirror_publish(s, keys);
	return 0;
}

static void user_keys_uninstall(struct kc_tier *t, void *session)
{
	struct user_crypto *u = to_user(t);
	const struct user_session *s = session;

	mirror_withdraw(s);
	pthread_mutex_lock(&u->pool_lock);
	kc_secmem_free(u->pool, s->slot); /* wipes K and Km */
	pthread_mutex_unlock(&u->pool_lock);
}

/* Batches. */

static void *user_batch_begin(int *err)
{
	struct kc_symm *s = kc_symm_get();

	if (!s)
		*err = -ENOMEM;
	return s;
}

/* The contexts hold the batch's last key schedule until scrubbed. */
static void user_batch_end(void *batch)
{
	kc_symm_scrub(batch);
}

static int user_mac(void *batch, const void *session, const struct kc_iov *iov,
		    size_t n, uint8_t out[KC_MAC_LEN])
{
	const struct user_session *s = session;

	return kc_symm_hmac(batch, s->keys->km, KC_KEY_LEN, iov, n, out);
}

static int user_cbc(void *batch, const void *session, bool encrypt,
		    const uint8_t iv[KC_IV_LEN], const uint8_t *in, size_t len,
		    uint8_t *out, size_t *out_len)
{
	const struct user_session *s = session;

	if (encrypt)
		return kc_symm_cbc_encrypt(batch, s->keys->k, KC_KEY_LEN, iv,
					   in, len, out, out_len);
	return kc_symm_cbc_decrypt(batch, s->keys->k, KC_KEY_LEN, iv, in, len,
				   out, out_len);
}

_Static_assert(sizeof(struct user_session) <= KC_TIER_SESSION_MAX,
	       "a user session record must fit tier_core.h's slots");

static const struct kc_tier_primitives user_primitives = {
	.session_size = sizeof(struct user_session),
	.keys_install = user_keys_install,
	.keys_uninstall = user_keys_uninstall,
	.batch_begin = user_batch_begin,
	.batch_end = user_batch_end,
	.mac = user_mac,
	.cbc = user_cbc,
};

const struct kc_crypto_ops kc_crypto_user_ops = {
	.name = "user",
	.create = user_create,
	.destroy = user_destroy,
	KC_TIER_SHARED_OPS,
};
