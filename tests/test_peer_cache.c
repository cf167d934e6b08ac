// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's cache of judged client certificates (agent/conn/peer_cache.h):
 * a chain is found only by its own bytes, only inside its validity and
 * the cache's TTL, and a colliding chain replaces the older one. The
 * agent's use of it (a revoked client is refused even when its
 * certificate is cached) is test_agent_auth's and test_agent_many's.
 */
#include <string.h>

#include "kselftest_harness.h"

#include "conn/peer_cache.h"

#define NOW ((time_t)1800000000)

static void key_of(const char *der, uint8_t key[KC_PEER_HASH_LEN])
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)strlen(der) };

	kc_peer_cache_key(&d, 1, key);
}

FIXTURE(cache)
{
	struct kc_peer_cache *pc;
};

FIXTURE_SETUP(cache)
{
	ASSERT_EQ(0, kc_peer_cache_new(&self->pc));
}

FIXTURE_TEARDOWN(cache)
{
	kc_peer_cache_free(self->pc);
}

TEST_F(cache, found_by_its_own_bytes_only)
{
	uint8_t a[KC_PEER_HASH_LEN], b[KC_PEER_HASH_LEN];
	char id[KC_PEER_ID_SIZE] = "";

	key_of("certificate of alice", a);
	key_of("certificate of alicf", b);
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW, id));
	kc_peer_cache_put(self->pc, a, "alice", NOW - 10, NOW + 86400, NOW);
	ASSERT_TRUE(kc_peer_cache_get(self->pc, a, NOW + 1, id));
	EXPECT_STREQ("alice", id);
	EXPECT_FALSE(kc_peer_cache_get(self->pc, b, NOW + 1, id));
}

TEST_F(cache, chain_order_and_split_matter)
{
	gnutls_datum_t ab[2] = { { (unsigned char *)"ab", 2 },
				 { (unsigned char *)"c", 1 } };
	gnutls_datum_t a_bc[2] = { { (unsigned char *)"a", 1 },
				   { (unsigned char *)"bc", 2 } };
	uint8_t k1[KC_PEER_HASH_LEN], k2[KC_PEER_HASH_LEN];

	ASSERT_EQ(0, kc_peer_cache_key(ab, 2, k1));
	ASSERT_EQ(0, kc_peer_cache_key(a_bc, 2, k2));
	EXPECT_NE(0, memcmp(k1, k2, KC_PEER_HASH_LEN));
}

TEST_F(cache, only_inside_validity_and_ttl)
{
	uint8_t a[KC_PEER_HASH_LEN], b[KC_PEER_HASH_LEN];
	char id[KC_PEER_ID_SIZE];

	key_of("short-lived", a);
	kc_peer_cache_put(self->pc, a, "alice", NOW - 10, NOW + 60, NOW);
	EXPECT_TRUE(kc_peer_cache_get(self->pc, a, NOW + 59, id));
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW + 60, id));
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW - 11, id));

	key_of("long-lived", b);
	kc_peer_cache_put(self->pc, b, "bob", NOW - 10, NOW + 10 * 86400, NOW);
	EXPECT_TRUE(kc_peer_cache_get(self->pc, b,
				      NOW + KC_PEER_CACHE_TTL_S - 1, id));
	EXPECT_FALSE(
		kc_peer_cache_get(self->pc, b, NOW + KC_PEER_CACHE_TTL_S, id));
}

TEST_F(cache, not_yet_valid_or_expired_is_not_kept)
{
	uint8_t a[KC_PEER_HASH_LEN];
	char id[KC_PEER_ID_SIZE];

	key_of("future", a);
	kc_peer_cache_put(self->pc, a, "alice", NOW + 5, NOW + 86400, NOW);
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW + 6, id));
	kc_peer_cache_put(self->pc, a, "alice", NOW - 86400, NOW - 1, NOW);
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW - 2, id));
}

/* Two keys of one slot: the newer wins, the older is judged again. */
TEST_F(cache, collision_replaces)
{
	uint8_t a[KC_PEER_HASH_LEN], b[KC_PEER_HASH_LEN];
	char id[KC_PEER_ID_SIZE];

	memset(a, 1, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[KC_PEER_HASH_LEN - 1] ^= 1; /* same first bytes: same slot */
	kc_peer_cache_put(self->pc, a, "alice", NOW - 1, NOW + 86400, NOW);
	kc_peer_cache_put(self->pc, b, "bob", NOW - 1, NOW + 86400, NOW);
	EXPECT_FALSE(kc_peer_cache_get(self->pc, a, NOW, id));
	ASSERT_TRUE(kc_peer_cache_get(self->pc, b, NOW, id));
	EXPECT_STREQ("bob", id);
}

TEST_HARNESS_MAIN
