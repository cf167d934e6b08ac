// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the crypto tiers share (tier_core.h), on a made-up tier that counts
 * what the core asks of it: its keys live in this file, its MAC and CBC
 * are crypto.h's one-shot calls, and its failures come when a test asks.
 * So the core's own promises are checked where no real tier could show
 * them, and on any machine (test_crypto_ops runs the real tiers):
 *   - the MAC is checked before anything is decrypted (cbc is never asked
 *     to decrypt after a bad MAC), and a bad MAC and a bad padding are the
 *     same -KC_BAD_MAC;
 *   - keys_install gets K and Km = kc_derive_km(K), the sid, and the ring
 *     and TTL set_keyring left (the tier's default ring before, and again
 *     after set_keyring(NULL));
 *   - a dropped or stale handle finds nothing, keys_uninstall runs once per
 *     session (on drop or at destroy), a refused install uses up no slot;
 *   - session_unwrap: the wrapped K, a random K for a bad wrap (-EBADMSG,
 *     the session made all the same), nothing for an unknown key;
 *   - a batch is one batch_begin and one batch_end, and one that cannot
 *     begin touches no request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"
#include "lib/keycache.h"

#include "base/status.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "crypto/keyring.h"
#include "crypto/tier_core.h"

#define MOCK_KEYS 4096

/* The made-up tier's keys, named by the id in its session record. */
struct mock_keys {
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN];
	uint8_t sid[KC_SID_LEN];
	bool has_sid, installed;
	struct kc_keyring *ring;
	unsigned int ttl;
};

struct mock_session {
	uint32_t id;
};

struct mock_crypto {
	struct kc_tier tier; /* first */
	struct mock_keys keys[MOCK_KEYS];
	uint32_t next_id;
	int install_err, begin_err;
	unsigned int installs, uninstalls, begins, ends, macs, decrypts;
};

/*
 * Rings the core only passes along; serial 0, so an unwrap key loaded
 * "into" them stays with OpenSSL (unwrap_keys.h).
 */
static struct kc_keyring default_ring, other_ring;
static const struct kc_tier_primitives mock_primitives;
static const struct kc_crypto_ops mock_ops;

/*
 * batch_begin has no tier argument, as a real tier's per-thread context
 * needs none; the tests run one instance at a time on one thread.
 */
static struct mock_crypto *current;

static struct mock_crypto *to_mock(struct kc_tier *t)
{
	return (struct mock_crypto *)t;
}

static const struct mock_keys *keys_of(const void *session)
{
	const struct mock_session *s = session;

	return &current->keys[s->id];
}

static int mock_create(struct kc_crypto **out)
{
	struct mock_crypto *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	ret = kc_tier_init(&m->tier, &mock_ops, &mock_primitives, &default_ring,
			   3600);
	if (ret) {
		free(m);
		return ret;
	}
	current = m;
	*out = &m->tier.base;
	return 0;
}

static void mock_destroy(struct kc_crypto *c)
{
	kc_tier_fini(&((struct mock_crypto *)c)->tier);
	free(c);
	current = NULL;
}

static int mock_keys_install(struct kc_tier *t, void *session,
			     const struct kc_tier_keys *keys)
{
	struct mock_crypto *m = to_mock(t);
	struct mock_session *s = session;
	struct mock_keys *mk;

	if (m->install_err)
		return m->install_err;
	if (m->next_id == MOCK_KEYS)
		return -ENOSPC;
	s->id = m->next_id++;
	mk = &m->keys[s->id];
	memcpy(mk->k, keys->k, KC_KEY_LEN);
	memcpy(mk->km, keys->km, KC_KEY_LEN);
	mk->has_sid = keys->sid != NULL;
	if (keys->sid)
		memcpy(mk->sid, keys->sid, KC_SID_LEN);
	mk->ring = keys->ring;
	mk->ttl = keys->ttl;
	mk->installed = true;
	m->installs++;
	return 0;
}

static void mock_keys_uninstall(struct kc_tier *t, void *session)
{
	struct mock_crypto *m = to_mock(t);
	struct mock_keys *mk = &m->keys[((struct mock_session *)session)->id];

	mk->installed = false;
	explicit_bzero(mk->k, sizeof(mk->k));
	explicit_bzero(mk->km, sizeof(mk->km));
	m->uninstalls++;
}

static void *mock_batch_begin(int *err)
{
	current->begins++;
	*err = current->begin_err;
	return *err ? NULL : current;
}

static void mock_batch_end(void *batch)
{
	((struct mock_crypto *)batch)->ends++;
}

static int mock_mac(void *batch, const void *session, const struct kc_iov *iov,
		    size_t n, uint8_t out[KC_MAC_LEN])
{
	current->macs++;
	return kc_hmac_sha256(keys_of(session)->km, KC_KEY_LEN, iov, n, out);
}

static int mock_cbc(void *batch, const void *session, bool encrypt,
		    const uint8_t iv[KC_IV_LEN], const uint8_t *in, size_t len,
		    uint8_t *out, size_t *out_len)
{
	const uint8_t *k = keys_of(session)->k;

	if (encrypt)
		return kc_cbc_encrypt(k, KC_KEY_LEN, iv, in, len, out, out_len);
	current->decrypts++;
	return kc_cbc_decrypt(k, KC_KEY_LEN, iv, in, len, out, out_len);
}

static const struct kc_tier_primitives mock_primitives = {
	.session_size = sizeof(struct mock_session),
	.keys_install = mock_keys_install,
	.keys_uninstall = mock_keys_uninstall,
	.batch_begin = mock_batch_begin,
	.batch_end = mock_batch_end,
	.mac = mock_mac,
	.cbc = mock_cbc,
};

static const struct kc_crypto_ops mock_ops = {
	.name = "mock",
	.create = mock_create,
	.destroy = mock_destroy,
	KC_TIER_SHARED_OPS,
};

/* What the latest install handed the tier. */
static const struct mock_keys *installed_last(void)
{
	return &current->keys[current->next_id - 1];
}

/* One message of 40 bytes, sealed under session s. */
struct msg {
	uint8_t aad[24], iv[KC_IV_LEN], pt[40], ct[48], mac[KC_MAC_LEN];
	size_t ct_len;
};

static int seal(struct kc_crypto *c, kc_handle_t s, struct msg *m)
{
	struct kc_seal_req r = {
		.session = s,
		.aad = m->aad,
		.aad_len = sizeof(m->aad),
		.iv = m->iv,
		.pt = m->pt,
		.pt_len = sizeof(m->pt),
		.ct = m->ct,
	};
	int ret;

	kc_random(m->aad, sizeof(m->aad));
	kc_random(m->iv, sizeof(m->iv));
	kc_random(m->pt, sizeof(m->pt));
	ret = kc_seal_batch(c, &r, 1);
	if (!ret)
		ret = r.status;
	m->ct_len = r.ct_len;
	memcpy(m->mac, r.mac, KC_MAC_LEN);
	return ret;
}

/* A valid MAC for whatever m holds now, under the first session's Km. */
static void remac(struct msg *m)
{
	const struct kc_iov macced[] = {
		{ m->aad, sizeof(m->aad) },
		{ m->ct, m->ct_len },
	};

	kc_hmac_sha256(current->keys[0].km, KC_KEY_LEN, macced, 2, m->mac);
}

static struct kc_open_req open_req(kc_handle_t s, const struct msg *m,
				   uint8_t *pt)
{
	return (struct kc_open_req){
		.session = s,
		.aad = m->aad,
		.aad_len = sizeof(m->aad),
		.iv = m->iv,
		.ct = m->ct,
		.ct_len = m->ct_len,
		.mac = m->mac,
		.pt = pt,
		.status = 12345,
	};
}

/* Status of opening m under s, and whether the MAC passed. */
static int open_status(struct kc_crypto *c, kc_handle_t s, const struct msg *m,
		       bool *mac_ok)
{
	uint8_t pt[sizeof(m->ct)];
	struct kc_open_req r = open_req(s, m, pt);
	int ret = kc_open_batch(c, &r, 1);

	*mac_ok = r.mac_ok;
	if (!ret && !r.status &&
	    (r.pt_len != sizeof(m->pt) || memcmp(pt, m->pt, r.pt_len)))
		return -EIO;
	return ret ? ret : r.status;
}

FIXTURE(core)
{
	struct kc_crypto *c;
	uint8_t k[KC_KEY_LEN];
	kc_handle_t s;
};

FIXTURE_SETUP(core)
{
	ASSERT_EQ(0, mock_ops.create(&self->c));
	kc_random(self->k, sizeof(self->k));
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &self->s));
}

FIXTURE_TEARDOWN(core)
{
	mock_ops.destroy(self->c);
}

TEST_F(core, install_hands_k_and_km_to_the_tier)
{
	const uint8_t sid[KC_SID_LEN] = { 1, 2, 3 };
	const struct mock_keys *mk = installed_last();
	uint8_t km[KC_KEY_LEN];
	kc_handle_t h;

	ASSERT_EQ(0, kc_derive_km(self->k, km));
	EXPECT_EQ(0, memcmp(mk->k, self->k, KC_KEY_LEN));
	EXPECT_EQ(0, memcmp(mk->km, km, KC_KEY_LEN));
	EXPECT_FALSE(mk->has_sid);
	EXPECT_EQ(&default_ring, mk->ring);
	EXPECT_EQ(3600, mk->ttl);

	ASSERT_EQ(0, self->c->ops->set_keyring(self->c, &other_ring, 60));
	ASSERT_EQ(0, kc_session_install(self->c, sid, self->k, &h));
	mk = installed_last();
	EXPECT_TRUE(mk->has_sid);
	EXPECT_EQ(0, memcmp(mk->sid, sid, KC_SID_LEN));
	EXPECT_EQ(&other_ring, mk->ring);
	EXPECT_EQ(60, mk->ttl);

	/* NULL goes back to the tier's own ring, with the TTL given. */
	ASSERT_EQ(0, self->c->ops->set_keyring(self->c, NULL, 30));
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h));
	EXPECT_EQ(&default_ring, installed_last()->ring);
	EXPECT_EQ(30, installed_last()->ttl);
	explicit_bzero(km, sizeof(km));
}

TEST_F(core, mac_before_decrypt_and_one_error)
{
	struct msg m;
	bool mac_ok;

	ASSERT_EQ(0, seal(self->c, self->s, &m));
	ASSERT_EQ(sizeof(m.ct), m.ct_len);
	EXPECT_EQ(0, open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_TRUE(mac_ok);
	EXPECT_EQ(1, current->decrypts);

	/* A bad MAC: nothing is decrypted. */
	m.mac[7] ^= 1;
	EXPECT_EQ(-KC_BAD_MAC, open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_FALSE(mac_ok);
	m.mac[7] ^= 1;
	m.ct[3] ^= 1;
	EXPECT_EQ(-KC_BAD_MAC, open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_FALSE(mac_ok);
	m.ct[3] ^= 1;
	EXPECT_EQ(1, current->decrypts);

	/* A good MAC over bad padding or length: the same error. */
	m.ct[31] ^= 1; /* the last byte of the padding, 8, becomes 9 */
	remac(&m);
	EXPECT_EQ(-KC_BAD_MAC, open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_TRUE(mac_ok);
	m.ct_len = 40;
	remac(&m);
	EXPECT_EQ(-KC_BAD_MAC, open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_TRUE(mac_ok);
	EXPECT_EQ(3, current->decrypts);
}

TEST_F(core, dropped_and_stale_handles)
{
	struct msg m;
	kc_handle_t h;
	bool mac_ok;

	ASSERT_EQ(0, seal(self->c, self->s, &m));
	kc_session_drop(self->c, self->s);
	EXPECT_EQ(1, current->uninstalls);
	EXPECT_FALSE(current->keys[0].installed);
	EXPECT_EQ(-KC_UNKNOWN_SESSION,
		  open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_FALSE(mac_ok);

	/* The slot is reused under a new generation. */
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h));
	EXPECT_NE(self->s, h);
	EXPECT_EQ(self->s & 0xffffff, h & 0xffffff);
	EXPECT_EQ(-KC_UNKNOWN_SESSION,
		  open_status(self->c, self->s, &m, &mac_ok));
	EXPECT_EQ(0, open_status(self->c, h, &m, &mac_ok));

	/* Dropping a stale or unknown handle touches nothing. */
	kc_session_drop(self->c, self->s);
	kc_session_drop(self->c, KC_HANDLE_NONE);
	kc_session_drop(self->c, h + 1);
	EXPECT_EQ(1, current->uninstalls);
	EXPECT_EQ(-KC_UNKNOWN_SESSION,
		  open_status(self->c, KC_HANDLE_NONE, &m, &mac_ok));
	/* The seal and the one open that found its session. */
	EXPECT_EQ(2, current->macs);
}

TEST_F(core, refused_install_uses_no_slot)
{
	kc_handle_t h = KC_HANDLE_NONE, h2;

	current->install_err = -EDQUOT;
	EXPECT_EQ(-EDQUOT, kc_session_install(self->c, NULL, self->k, &h));
	EXPECT_EQ(KC_HANDLE_NONE, h);
	current->install_err = 0;
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h));
	kc_session_drop(self->c, h);
	/* The freed slot is the next one used: nothing leaked in between. */
	current->install_err = -ENOMEM;
	EXPECT_EQ(-ENOMEM, kc_session_install(self->c, NULL, self->k, &h2));
	current->install_err = 0;
	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h2));
	EXPECT_EQ(h & 0xffffff, h2 & 0xffffff);
	EXPECT_EQ(3, current->installs);
}

TEST_F(core, many_sessions_and_destroy_uninstalls_the_rest)
{
	enum { N = 1000 };
	kc_handle_t h[N];
	struct msg m;
	bool mac_ok;
	int i;

	for (i = 0; i < N; i++)
		ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h[i]));
	ASSERT_EQ(0, seal(self->c, self->s, &m));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, open_status(self->c, h[i], &m, &mac_ok))
	TH_LOG("session %d", i);
	for (i = 0; i < N; i += 2)
		kc_session_drop(self->c, h[i]);
	EXPECT_EQ(N / 2, current->uninstalls);
	/* Teardown destroys the instance: the rest and self->s go then. */
}

TEST(destroy_uninstalls_every_live_session)
{
	struct kc_crypto *c;
	struct mock_crypto *m;
	uint8_t k[KC_KEY_LEN] = { 0 };
	kc_handle_t h[3];
	int i;

	ASSERT_EQ(0, mock_ops.create(&c));
	m = current;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kc_session_install(c, NULL, k, &h[i]));
	kc_session_drop(c, h[1]);
	ASSERT_EQ(1, m->uninstalls);
	/* What destroy leaves is checked before the memory goes. */
	kc_tier_fini(&m->tier);
	EXPECT_EQ(3, m->uninstalls);
	for (i = 0; i < 3; i++)
		EXPECT_FALSE(m->keys[i].installed);
	free(m);
	current = NULL;
}

TEST_F(core, one_begin_and_end_per_batch)
{
	struct kc_open_req r[3];
	uint8_t pt[3][48];
	struct msg m;
	int i;

	ASSERT_EQ(0, seal(self->c, self->s, &m));
	current->begins = current->ends = 0;
	for (i = 0; i < 3; i++)
		r[i] = open_req(self->s, &m, pt[i]);
	ASSERT_EQ(0, kc_open_batch(self->c, r, 3));
	EXPECT_EQ(1, current->begins);
	EXPECT_EQ(1, current->ends);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, r[i].status);

	/* A batch that cannot begin leaves every request as it was. */
	current->begin_err = -EMFILE;
	for (i = 0; i < 3; i++)
		r[i] = open_req(self->s, &m, pt[i]);
	EXPECT_EQ(-EMFILE, kc_open_batch(self->c, r, 3));
	EXPECT_EQ(1, current->ends);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(12345, r[i].status);
	current->begin_err = 0;

	EXPECT_EQ(-EINVAL, kc_open_batch(self->c, NULL, 1));
	EXPECT_EQ(0, kc_open_batch(self->c, NULL, 0));
	EXPECT_EQ(-EINVAL, kc_seal_batch(self->c, NULL, 1));
}

/* The unwrap path: the K wrapped, a random K for junk, nothing unknown. */
FIXTURE(unwrap)
{
	struct kc_crypto *c;
	EVP_PKEY *pkey;
	kc_handle_t key;
	uint8_t k[KC_KEY_LEN];
	uint8_t wrapped[KC_RSA_LEN];
};

FIXTURE_SETUP(unwrap)
{
	PKCS8_PRIV_KEY_INFO *p8;
	uint8_t *der = NULL;
	int len;

	ASSERT_EQ(0, test_cached_rsa_key("tier-core", &self->pkey));
	p8 = EVP_PKEY2PKCS8(self->pkey);
	ASSERT_NE(NULL, p8);
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ASSERT_LT(0, len);
	ASSERT_EQ(0, mock_ops.create(&self->c));
	/* The mock's rings are no kernel keyrings: the key stays on OpenSSL. */
	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, der, (size_t)len,
						   &self->key));
	OPENSSL_clear_free(der, (size_t)len);
	kc_random(self->k, sizeof(self->k));
	ASSERT_EQ(0,
		  kc_oaep_wrap(self->pkey, self->k, KC_KEY_LEN, self->wrapped));
}

FIXTURE_TEARDOWN(unwrap)
{
	mock_ops.destroy(self->c);
	EVP_PKEY_free(self->pkey);
}

TEST_F(unwrap, wrapped_k_random_k_or_nothing)
{
	const uint8_t sid[KC_SID_LEN] = { 9 };
	kc_handle_t h = KC_HANDLE_NONE;

	EXPECT_EQ(-ENOKEY, self->c->ops->unwrap_key_serial(self->c, self->key));
	ASSERT_EQ(0, kc_session_unwrap(self->c, self->key, sid, self->wrapped,
				       &h));
	EXPECT_EQ(0, memcmp(installed_last()->k, self->k, KC_KEY_LEN));
	EXPECT_TRUE(installed_last()->has_sid);

	/* Junk: a session all the same, whose K is nobody's. */
	self->wrapped[100] ^= 1;
	h = KC_HANDLE_NONE;
	EXPECT_EQ(-EBADMSG, kc_session_unwrap(self->c, self->key, sid,
					      self->wrapped, &h));
	EXPECT_NE(KC_HANDLE_NONE, h);
	EXPECT_EQ(2, current->installs);
	EXPECT_NE(0, memcmp(installed_last()->k, self->k, KC_KEY_LEN));

	/* An unknown or unloaded key: no session. */
	self->c->ops->unload_key(self->c, self->key);
	h = KC_HANDLE_NONE;
	EXPECT_EQ(-ENOENT, kc_session_unwrap(self->c, self->key, sid,
					     self->wrapped, &h));
	EXPECT_EQ(-ENOENT,
		  kc_session_unwrap(self->c, 77, sid, self->wrapped, &h));
	EXPECT_EQ(KC_HANDLE_NONE, h);
	EXPECT_EQ(2, current->installs);
}

/*
 * Two unwrap keys after a rotation: K comes out of whichever one it was
 * wrapped for, junk gives a random K under neither, and an old key
 * already unloaded is as if there were one key.
 */
TEST_F(unwrap, either_of_two_keys)
{
	const uint8_t sid[KC_SID_LEN] = { 10 };
	uint8_t k2[KC_KEY_LEN], wrapped2[KC_RSA_LEN], *der = NULL;
	EVP_PKEY *other = NULL;
	kc_handle_t key2, h = KC_HANDLE_NONE;
	size_t len = 0;

	ASSERT_EQ(0, test_cached_rsa_key("tier-core-2", &other));
	ASSERT_EQ(0, kc_key_pkcs8_der(other, &der, &len));
	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, der, len, &key2));
	kc_random(k2, sizeof(k2));
	ASSERT_EQ(0, kc_oaep_wrap(other, k2, KC_KEY_LEN, wrapped2));
	/* key2 new, self->key old: both kinds of client get their K. */
	ASSERT_EQ(0, kc_session_unwrap_either(self->c, key2, self->key, sid,
					      wrapped2, &h));
	EXPECT_EQ(0, memcmp(installed_last()->k, k2, KC_KEY_LEN));
	ASSERT_EQ(0, kc_session_unwrap_either(self->c, key2, self->key, sid,
					      self->wrapped, &h));
	EXPECT_EQ(0, memcmp(installed_last()->k, self->k, KC_KEY_LEN));
	/* Neither: a session with a K of nobody's. */
	wrapped2[7] ^= 1;
	EXPECT_EQ(-EBADMSG, kc_session_unwrap_either(self->c, key2, self->key,
						     sid, wrapped2, &h));
	EXPECT_NE(0, memcmp(installed_last()->k, k2, KC_KEY_LEN));
	EXPECT_NE(0, memcmp(installed_last()->k, self->k, KC_KEY_LEN));
	/* The old key retired: only the new one counts. */
	self->c->ops->unload_key(self->c, self->key);
	EXPECT_EQ(-EBADMSG, kc_session_unwrap_either(self->c, key2, self->key,
						     sid, self->wrapped, &h));
	wrapped2[7] ^= 1;
	EXPECT_EQ(0, kc_session_unwrap_either(self->c, key2, self->key, sid,
					      wrapped2, &h));
	EXPECT_EQ(5, current->installs);
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(other);
}

TEST_HARNESS_MAIN
