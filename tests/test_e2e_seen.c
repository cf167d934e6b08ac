// SPDX-License-Identifier: GPL-2.0-only
/*
 * The duplicate filter (lib/e2e_seen.c) through its public face,
 * kc_e2e_seen() and kc_e2e_remember() of e2e.h: a window of the last
 * KC_E2E_SEEN_MAX distinct (sender, msg_id) pairs, oldest forgotten first,
 * kept across the state file (kc_e2e_export_in / kc_e2e_import_in).
 *
 * The bucket hash is keyed per instance, so no test can aim pairs at one
 * bucket from outside; the chain and eviction paths are driven instead by
 * volume (several times the window, so every bucket sees many inserts and
 * evictions) and by msg_ids that differ in a few bits only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kselftest_harness.h"

#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "client/e2e.h"

static const char *const senders[] = { "alice", "bob", "carol" };
#define N_SENDERS (sizeof(senders) / sizeof(senders[0]))

static struct kc_bytes sender(const char *name)
{
	return (struct kc_bytes){ (const uint8_t *)name, strlen(name) };
}

/* Pair n of a run: the base id with n in its last four bytes. */
static void nth_id(const uint8_t base[KC_MSGID_LEN], uint32_t n,
		   uint8_t id[KC_MSGID_LEN])
{
	memcpy(id, base, KC_MSGID_LEN);
	id[12] ^= (uint8_t)(n >> 24);
	id[13] ^= (uint8_t)(n >> 16);
	id[14] ^= (uint8_t)(n >> 8);
	id[15] ^= (uint8_t)n;
}

static struct kc_bytes nth_sender(uint32_t n)
{
	return sender(senders[n % N_SENDERS]);
}

static void remember_nth(struct kc_e2e *e, const uint8_t base[KC_MSGID_LEN],
			 uint32_t n)
{
	uint8_t id[KC_MSGID_LEN];

	nth_id(base, n, id);
	kc_e2e_remember(e, nth_sender(n), id);
}

static bool seen_nth(const struct kc_e2e *e, const uint8_t base[KC_MSGID_LEN],
		     uint32_t n)
{
	uint8_t id[KC_MSGID_LEN];

	nth_id(base, n, id);
	return kc_e2e_seen(e, nth_sender(n), id);
}

/* How many of pairs [from, to) are seen. */
static uint32_t count_seen(const struct kc_e2e *e,
			   const uint8_t base[KC_MSGID_LEN], uint32_t from,
			   uint32_t to)
{
	uint32_t n, hits = 0;

	for (n = from; n < to; n++)
		hits += seen_nth(e, base, n);
	return hits;
}

FIXTURE(seen)
{
	struct kc_crypto *c;
	EVP_PKEY *id, *enc;
	struct kc_e2e *e;
	uint8_t base[KC_MSGID_LEN];
};

FIXTURE_SETUP(seen)
{
	memset(self, 0, sizeof(*self));
	ASSERT_EQ(0, kc_crypto_open("user", &self->c));
	ASSERT_EQ(0, kc_rsa_generate(&self->id));
	ASSERT_EQ(0, kc_rsa_generate(&self->enc));
	ASSERT_EQ(0,
		  kc_e2e_create(self->c, "bob", self->id, self->enc, &self->e));
	kc_random(self->base, sizeof(self->base));
}

FIXTURE_TEARDOWN(seen)
{
	kc_e2e_free(self->e);
	EVP_PKEY_free(self->id);
	EVP_PKEY_free(self->enc);
	kc_crypto_close(self->c);
}

static struct kc_e2e *fresh_e2e(FIXTURE_DATA(seen) *self)
{
	struct kc_e2e *e = NULL;

	if (kc_e2e_create(self->c, "bob", self->id, self->enc, &e))
		return NULL;
	return e;
}

TEST_F(seen, unseen_pair_is_not_seen)
{
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("alice"), self->base));
}

TEST_F(seen, remembered_pair_is_seen)
{
	kc_e2e_remember(self->e, sender("alice"), self->base);
	EXPECT_TRUE(kc_e2e_seen(self->e, sender("alice"), self->base));
}

/* The whole pair is the key: neither half alone, nor a prefix of it. */
TEST_F(seen, pair_must_match_in_full)
{
	uint8_t other[KC_MSGID_LEN];
	int i;

	kc_e2e_remember(self->e, sender("alice"), self->base);
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("carol"), self->base));
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("alic"), self->base));
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("alice2"), self->base));
	for (i = 0; i < KC_MSGID_LEN; i++) {
		memcpy(other, self->base, sizeof(other));
		other[i] ^= 0x80;
		EXPECT_FALSE(kc_e2e_seen(self->e, sender("alice"), other));
	}
	EXPECT_TRUE(kc_e2e_seen(self->e, sender("alice"), self->base));
}

/*
 * A window of exactly KC_E2E_SEEN_MAX: the first pair survives
 * KC_E2E_SEEN_MAX - 1 newer ones and falls out with the next.
 */
TEST_F(seen, oldest_forgotten_after_window)
{
	uint32_t n;

	for (n = 0; n < KC_E2E_SEEN_MAX; n++)
		remember_nth(self->e, self->base, n);
	EXPECT_EQ(KC_E2E_SEEN_MAX,
		  count_seen(self->e, self->base, 0, KC_E2E_SEEN_MAX));
	remember_nth(self->e, self->base, KC_E2E_SEEN_MAX);
	EXPECT_FALSE(seen_nth(self->e, self->base, 0));
	EXPECT_EQ(KC_E2E_SEEN_MAX,
		  count_seen(self->e, self->base, 1, KC_E2E_SEEN_MAX + 1));
}

/* Remembering a known pair neither refreshes it nor evicts anything. */
TEST_F(seen, duplicate_does_not_evict)
{
	uint32_t n;
	int round;

	for (n = 0; n < KC_E2E_SEEN_MAX; n++)
		remember_nth(self->e, self->base, n);
	for (round = 0; round < 3; round++) {
		for (n = 0; n < KC_E2E_SEEN_MAX; n += 7)
			remember_nth(self->e, self->base, n);
	}
	EXPECT_EQ(KC_E2E_SEEN_MAX,
		  count_seen(self->e, self->base, 0, KC_E2E_SEEN_MAX));
	/* Still the original order: pair 0, though repeated, goes first. */
	remember_nth(self->e, self->base, KC_E2E_SEEN_MAX);
	EXPECT_FALSE(seen_nth(self->e, self->base, 0));
	EXPECT_TRUE(seen_nth(self->e, self->base, 1));
}

/*
 * Five windows' worth of pairs, with ids that differ only in their last
 * bytes: each bucket takes many inserts and evictions, chains grow past
 * one entry, and exactly the last KC_E2E_SEEN_MAX pairs stay.
 */
TEST_F(seen, many_entries_share_buckets)
{
	const uint32_t total = 20000;
	uint32_t n;

	for (n = 0; n < total; n++) {
		remember_nth(self->e, self->base, n);
		ASSERT_TRUE(seen_nth(self->e, self->base, n));
	}
	EXPECT_EQ(0,
		  count_seen(self->e, self->base, 0, total - KC_E2E_SEEN_MAX));
	EXPECT_EQ(KC_E2E_SEEN_MAX, count_seen(self->e, self->base,
					      total - KC_E2E_SEEN_MAX, total));
}

/* The same msg_id from every sender makes distinct pairs. */
TEST_F(seen, one_msg_id_many_senders)
{
	char name[KC_CLIENT_ID_MAX + 1];
	uint32_t n, hits = 0;

	for (n = 0; n < 100; n++) {
		snprintf(name, sizeof(name), "client%u", n);
		kc_e2e_remember(self->e, sender(name), self->base);
	}
	for (n = 0; n < 100; n++) {
		snprintf(name, sizeof(name), "client%u", n);
		hits += kc_e2e_seen(self->e, sender(name), self->base);
	}
	EXPECT_EQ(100, hits);
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("client100"), self->base));
}

/* A sender that cannot be a client id is never remembered. */
TEST_F(seen, unstorable_sender_ignored)
{
	char long_name[KC_CLIENT_ID_MAX + 2];
	static const uint8_t with_nul[] = { 'a', 0, 'b' };
	struct kc_bytes nul = { with_nul, sizeof(with_nul) };

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	kc_e2e_remember(self->e, sender(long_name), self->base);
	EXPECT_FALSE(kc_e2e_seen(self->e, sender(long_name), self->base));
	kc_e2e_remember(self->e, nul, self->base);
	EXPECT_FALSE(kc_e2e_seen(self->e, nul, self->base));
	EXPECT_FALSE(kc_e2e_seen(self->e, sender("a"), self->base));
}

/*
 * Through the state file after the ring has wrapped: the document lists
 * the window oldest first, and the imported copy forgets in that order.
 */
TEST_F(seen, state_keeps_window_and_order)
{
	const uint32_t total = KC_E2E_SEEN_MAX + 100;
	char hex[2 * KC_MSGID_LEN + 1];
	uint8_t first_id[KC_MSGID_LEN];
	struct kc_e2e *e2 = NULL;
	json_t *doc = NULL, *arr, *o;
	uint32_t n;

	for (n = 0; n < total; n++)
		remember_nth(self->e, self->base, n);
	ASSERT_EQ(0, kc_e2e_export_in(self->e, &doc));
	arr = json_object_get(doc, "seen");
	ASSERT_EQ(KC_E2E_SEEN_MAX, json_array_size(arr));
	o = json_array_get(arr, 0);
	nth_id(self->base, 100, first_id);
	kc_hex(first_id, KC_MSGID_LEN, hex);
	EXPECT_STREQ(hex, json_string_value(json_object_get(o, "msg_id")));
	EXPECT_STREQ(senders[100 % N_SENDERS],
		     json_string_value(json_object_get(o, "from")));

	e2 = fresh_e2e(self);
	ASSERT_NE(NULL, e2);
	ASSERT_EQ(0, kc_e2e_import_in(e2, doc));
	EXPECT_EQ(0, count_seen(e2, self->base, 0, 100));
	EXPECT_EQ(KC_E2E_SEEN_MAX, count_seen(e2, self->base, 100, total));
	remember_nth(e2, self->base, total);
	EXPECT_FALSE(seen_nth(e2, self->base, 100));
	EXPECT_TRUE(seen_nth(e2, self->base, 101));
	EXPECT_TRUE(seen_nth(e2, self->base, total));
	kc_e2e_json_free(doc);
	kc_e2e_free(e2);
}

TEST_HARNESS_MAIN
