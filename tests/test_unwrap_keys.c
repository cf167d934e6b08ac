// SPDX-License-Identifier: GPL-2.0-only
/*
 * The crypto tiers' unwrap-key table (unwrap_keys.h) on its own.
 *
 * table.*: with no keyring (keys stay with OpenSSL), so they run anywhere:
 *   handles are the lowest free index and come back after a remove, an
 *   unknown or removed handle is -ENOENT everywhere, a failed add uses up
 *   nothing, the table grows with handles intact, and a copy from get
 *   keeps unwrapping after its entry is removed, also while other threads
 *   remove and add again.
 * kernel.*: the same table given the "kcourier" keyring, where the kernel
 *   holds the key: where() is its serial, remove takes it out of the
 *   kernel. SKIPs where the kernel has no PKCS#8 parser (runs in the VM
 *   lab, where pkcs8_key_parser is loaded and refusing is a failure).
 *
 * Every unwrap is checked against the K that was wrapped, and against the
 * other keys' wraps, which must not unwrap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"

#include "lib/kernel_keys.h"
#include "lib/keycache.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/rsa_keyring.h"
#include "crypto/unwrap_keys.h"

#define NKEYS 3

/* A few RSA keys, their PKCS#8 DER and a wrap of K under each. */
struct keyset {
	EVP_PKEY *pkey[NKEYS];
	uint8_t *der[NKEYS];
	int der_len[NKEYS];
	uint8_t wrapped[NKEYS][KC_RSA_LEN];
	uint8_t k[KC_KEY_LEN];
};

static int keyset_make(struct keyset *ks)
{
	static const char *const names[NKEYS] = {
		"unwrap-keys-0", "unwrap-keys-1", "unwrap-keys-2",
	};
	PKCS8_PRIV_KEY_INFO *p8;
	int i, ret;

	memset(ks, 0, sizeof(*ks));
	kc_random(ks->k, sizeof(ks->k));
	for (i = 0; i < NKEYS; i++) {
		ret = test_cached_rsa_key(names[i], &ks->pkey[i]);
		if (ret)
			return ret;
		p8 = EVP_PKEY2PKCS8(ks->pkey[i]);
		ks->der_len[i] = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &ks->der[i])
				    : -1;
		PKCS8_PRIV_KEY_INFO_free(p8);
		if (ks->der_len[i] <= 0)
			return -EIO;
		ret = kc_oaep_wrap(ks->pkey[i], ks->k, KC_KEY_LEN,
				   ks->wrapped[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static void keyset_free(struct keyset *ks)
{
	int i;

	for (i = 0; i < NKEYS; i++) {
		EVP_PKEY_free(ks->pkey[i]);
		if (ks->der_len[i] > 0)
			OPENSSL_clear_free(ks->der[i], (size_t)ks->der_len[i]);
	}
	explicit_bzero(ks->k, sizeof(ks->k));
}

static int add(struct kc_unwrap_keys *t, key_serial_t ring,
	       const struct keyset *ks, int which, kc_handle_t *h)
{
	return kc_unwrap_keys_add(t, ring, ks->der[which],
				  (size_t)ks->der_len[which], h);
}

/*
 * Whether handle h unwraps key `which`'s wrap to K and refuses the other
 * keys' wraps (-EBADMSG), through a copy as a tier does.
 */
static bool holds(struct kc_unwrap_keys *t, const struct keyset *ks,
		  kc_handle_t h, int which)
{
	struct kc_unwrap_key copy;
	uint8_t k[KC_KEY_LEN];
	bool ok;
	int i;

	if (kc_unwrap_keys_get(t, h, &copy))
		return false;
	ok = !kc_unwrap_key_unwrap(&copy, ks->wrapped[which], k) &&
	     !memcmp(k, ks->k, KC_KEY_LEN);
	for (i = 0; i < NKEYS; i++)
		if (i != which)
			ok &= kc_unwrap_key_unwrap(&copy, ks->wrapped[i], k) ==
			      -EBADMSG;
	kc_unwrap_key_put(&copy);
	explicit_bzero(k, sizeof(k));
	return ok;
}

/* Every lookup of h answers -ENOENT, and get leaves no copy behind. */
static void expect_gone(struct __test_metadata *_metadata,
			struct kc_unwrap_keys *t, kc_handle_t h)
{
	struct kc_unwrap_key copy;

	memset(&copy, 0xa5, sizeof(copy));
	EXPECT_EQ(-ENOENT, kc_unwrap_keys_get(t, h, &copy)) TH_LOG("h %d", h);
	EXPECT_EQ(NULL, copy.pkey);
	EXPECT_EQ(0, copy.serial);
	EXPECT_EQ(-ENOENT, kc_unwrap_keys_where(t, h)) TH_LOG("h %d", h);
	EXPECT_EQ(-ENOENT, kc_unwrap_keys_remove(t, h)) TH_LOG("h %d", h);
}

FIXTURE(table)
{
	struct keyset ks;
	struct kc_unwrap_keys t;
};

FIXTURE_SETUP(table)
{
	ASSERT_EQ(0, keyset_make(&self->ks));
	ASSERT_EQ(0, kc_unwrap_keys_init(&self->t));
}

FIXTURE_TEARDOWN(table)
{
	kc_unwrap_keys_destroy(&self->t);
	keyset_free(&self->ks);
}

TEST_F(table, handles_come_back)
{
	kc_handle_t h0, h1, h2, again;

	expect_gone(_metadata, &self->t, 0);
	expect_gone(_metadata, &self->t, KC_HANDLE_NONE);
	expect_gone(_metadata, &self->t, INT32_MAX);

	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h0));
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 1, &h1));
	EXPECT_EQ(0, h0);
	EXPECT_EQ(1, h1);
	/* No keyring: OpenSSL in this process, and that is why. */
	EXPECT_EQ(-ENOKEY, kc_unwrap_keys_where(&self->t, h0));
	EXPECT_TRUE(holds(&self->t, &self->ks, h0, 0));
	EXPECT_TRUE(holds(&self->t, &self->ks, h1, 1));

	ASSERT_EQ(0, kc_unwrap_keys_remove(&self->t, h0));
	expect_gone(_metadata, &self->t, h0);
	EXPECT_TRUE(holds(&self->t, &self->ks, h1, 1));

	/* The freed index is the next handle, now with the new key. */
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 2, &again));
	EXPECT_EQ(h0, again);
	EXPECT_TRUE(holds(&self->t, &self->ks, again, 2));
	EXPECT_FALSE(holds(&self->t, &self->ks, again, 0));

	/* A key that is no RSA-2048 PKCS#8 takes no entry. */
	EXPECT_EQ(-EINVAL, kc_unwrap_keys_add(&self->t, 0, self->ks.k,
					      sizeof(self->ks.k), &h2));
	EXPECT_EQ(-EINVAL, kc_unwrap_keys_add(&self->t, 0, self->ks.der[0],
					      (size_t)self->ks.der_len[0] - 1,
					      &h2));
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h2));
	EXPECT_EQ(2, h2);
	EXPECT_TRUE(holds(&self->t, &self->ks, h2, 0));
}

/* Past the first allocation and its doublings, every handle still holds. */
TEST_F(table, grows)
{
	enum { N = 37 };
	kc_handle_t h[N];
	int i;

	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, add(&self->t, 0, &self->ks, i % NKEYS, &h[i]));
		ASSERT_EQ(i, h[i]);
	}
	for (i = 0; i < N; i++)
		EXPECT_TRUE(holds(&self->t, &self->ks, h[i], i % NKEYS))
			TH_LOG("handle %d", h[i]);
	expect_gone(_metadata, &self->t, N);
	/* Holes are filled lowest first. */
	ASSERT_EQ(0, kc_unwrap_keys_remove(&self->t, h[30]));
	ASSERT_EQ(0, kc_unwrap_keys_remove(&self->t, h[5]));
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h[0]));
	EXPECT_EQ(5, h[0]);
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h[0]));
	EXPECT_EQ(30, h[0]);
	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h[0]));
	EXPECT_EQ(N, h[0]);
	/* destroy (teardown) frees all of them. */
}

/* A copy taken before a remove still unwraps: it holds its reference. */
TEST_F(table, copy_outlives_remove)
{
	struct kc_unwrap_key copy;
	uint8_t k[KC_KEY_LEN];
	kc_handle_t h;

	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 1, &h));
	ASSERT_EQ(0, kc_unwrap_keys_get(&self->t, h, &copy));
	ASSERT_EQ(0, kc_unwrap_keys_remove(&self->t, h));
	expect_gone(_metadata, &self->t, h);
	EXPECT_EQ(0, kc_unwrap_key_unwrap(&copy, self->ks.wrapped[1], k));
	EXPECT_EQ(0, memcmp(k, self->ks.k, KC_KEY_LEN));
	kc_unwrap_key_put(&copy);
	EXPECT_EQ(NULL, copy.pkey);
	explicit_bzero(k, sizeof(k));
}

struct user_thread {
	struct kc_unwrap_keys *t;
	const struct keyset *ks;
	const int *done;
	int unwrapped, missed, wrong;
};

static void *user_run(void *arg)
{
	struct user_thread *u = arg;
	struct kc_unwrap_key copy;
	uint8_t k[KC_KEY_LEN];
	int ret;

	while (!__atomic_load_n(u->done, __ATOMIC_ACQUIRE)) {
		ret = kc_unwrap_keys_get(u->t, 0, &copy);
		if (ret == -ENOENT) {
			u->missed++;
			usleep(20);
			continue;
		}
		if (ret || kc_unwrap_key_unwrap(&copy, u->ks->wrapped[0], k) ||
		    memcmp(k, u->ks->k, KC_KEY_LEN))
			u->wrong++;
		else
			u->unwrapped++;
		kc_unwrap_key_put(&copy);
	}
	explicit_bzero(k, sizeof(k));
	return NULL;
}

/*
 * Threads unwrap through handle 0 while it is removed and added again, so
 * removes land while copies are in use (under ASan, a use after free of
 * the key would show): each get finds the key or nothing, and every copy
 * unwraps right.
 */
TEST_F(table, threads_while_removed)
{
	struct user_thread u[4];
	pthread_t th[4];
	kc_handle_t h;
	int i, round, done = 0, unwrapped = 0, missed = 0;

	ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h));
	ASSERT_EQ(0, h);
	for (i = 0; i < 4; i++) {
		u[i] = (struct user_thread){ .t = &self->t, .ks = &self->ks,
					     .done = &done };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, user_run, &u[i]));
	}
	for (round = 0; round < 40; round++) {
		usleep(3000); /* a few unwraps' time with the key there */
		EXPECT_EQ(0, kc_unwrap_keys_remove(&self->t, 0));
		usleep(500); /* and a while without */
		ASSERT_EQ(0, add(&self->t, 0, &self->ks, 0, &h));
		EXPECT_EQ(0, h);
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, u[i].wrong);
		unwrapped += u[i].unwrapped;
		missed += u[i].missed;
	}
	ksft_print_msg("%d unwraps through copies, %d gets found no key\n",
		       unwrapped, missed);
	EXPECT_LT(0, unwrapped);
}

/* ---- kernel: the table given the "kcourier" keyring ---- */

FIXTURE(kernel)
{
	struct keyset ks;
	struct kc_unwrap_keys t;
	struct kc_keyring kr;
	kc_handle_t h;
	int serial;
};

FIXTURE_SETUP(kernel)
{
	ASSERT_EQ(0, keyset_make(&self->ks));
	ASSERT_EQ(0, kc_unwrap_keys_init(&self->t));
	ASSERT_EQ(0, kc_keyring_open(&self->kr));
	ASSERT_EQ(0, add(&self->t, self->kr.ring, &self->ks, 0, &self->h));
	self->serial = kc_unwrap_keys_where(&self->t, self->h);
	if (self->serial < 0 && test_kernel_lacks_parser(self->serial) &&
	    !test_parser_module_loaded())
		SKIP(return,
		     "add_key(\"asymmetric\", PKCS#8 RSA key): %s: this "
		     "kernel has no PKCS#8 key parser (pkcs8_key_parser); "
		     "runs in the VM lab (make check-vm)",
		     strerror(-self->serial));
	ASSERT_LT(0, self->serial) TH_LOG("%s", strerror(-self->serial));
}

FIXTURE_TEARDOWN(kernel)
{
	kc_unwrap_keys_destroy(&self->t);
	keyset_free(&self->ks);
}

TEST_F(kernel, remove_takes_it_out)
{
	struct kc_unwrap_key copy;
	uint8_t k[KC_KEY_LEN];
	kc_handle_t h1;
	int s1;

	EXPECT_TRUE(test_ring_links(self->kr.ring, self->serial));
	EXPECT_TRUE(holds(&self->t, &self->ks, self->h, 0));
	/* A second key is a kernel key of its own. */
	ASSERT_EQ(0, add(&self->t, self->kr.ring, &self->ks, 1, &h1));
	s1 = kc_unwrap_keys_where(&self->t, h1);
	ASSERT_LT(0, s1);
	EXPECT_NE(self->serial, s1);
	EXPECT_TRUE(holds(&self->t, &self->ks, h1, 1));

	/*
	 * A copy holds only the serial: once the entry is removed the kernel
	 * key is gone and the copy's unwrap fails, with no K.
	 */
	ASSERT_EQ(0, kc_unwrap_keys_get(&self->t, self->h, &copy));
	ASSERT_EQ(0, kc_unwrap_keys_remove(&self->t, self->h));
	expect_gone(_metadata, &self->t, self->h);
	EXPECT_FALSE(test_ring_links(self->kr.ring, self->serial));
	EXPECT_GT(0, kc_unwrap_key_unwrap(&copy, self->ks.wrapped[0], k));
	EXPECT_NE(-EBADMSG, kc_unwrap_key_unwrap(&copy, self->ks.wrapped[0],
						 k));
	kc_unwrap_key_put(&copy);
	/* The other key does not notice. */
	EXPECT_TRUE(holds(&self->t, &self->ks, h1, 1));
	EXPECT_TRUE(test_ring_links(self->kr.ring, s1));
	explicit_bzero(k, sizeof(k));
}

/* destroy takes every kernel key out with it. */
TEST_F(kernel, destroy_takes_all_out)
{
	kc_handle_t h1;
	int s1;

	ASSERT_EQ(0, add(&self->t, self->kr.ring, &self->ks, 2, &h1));
	s1 = kc_unwrap_keys_where(&self->t, h1);
	ASSERT_LT(0, s1);
	kc_unwrap_keys_destroy(&self->t);
	EXPECT_FALSE(test_ring_links(self->kr.ring, self->serial));
	EXPECT_FALSE(test_ring_links(self->kr.ring, s1));
	/* Teardown destroys again: an empty table is fine. */
	ASSERT_EQ(0, kc_unwrap_keys_init(&self->t));
}

TEST_HARNESS_MAIN
