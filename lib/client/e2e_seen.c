// SPDX-License-Identifier: GPL-2.0-only
/*
 * The duplicate filter of the receiving side: PROTOCOL.md section 4 lets
 * the server redeliver after a reconnect, so a client drops a DELIVER whose
 * (sender, msg_id) it has recently accepted.
 *
 * The last KC_E2E_SEEN_MAX distinct pairs sit in a ring (the oldest is
 * overwritten first, the order the state file keeps) with a chained hash
 * index over it: E2E_SEEN_BUCKETS heads and one link per ring slot. Each
 * lookup then walks one chain, about half an entry on average at this
 * load, where a linear scan of the ring cost thousands of comparisons per
 * received message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/e2e_priv.h"

/* At most half full, so chains stay short; links are int32_t. */
_Static_assert(E2E_SEEN_BUCKETS >= 2ull * KC_E2E_SEEN_MAX,
	       "seen index needs at least twice as many buckets as entries");
_Static_assert(KC_E2E_SEEN_MAX <= INT32_MAX, "ring index must fit a link");
_Static_assert(KC_CLIENT_ID_MAX <= UINT8_MAX, "peer_len is one byte");

#define NO_ENTRY (-1)

/*
 * Why a keyed hash: msg_id is chosen by the sender, which may be hostile.
 * Under a fixed hash it could pick ids that all fall into one bucket and
 * turn every lookup back into a walk over the whole ring, the cost this
 * index exists to remove. The key is drawn from the kernel per set and
 * never leaves the process, and a sender never sees a bucket index (at
 * most how soon it gets an ACK), so it cannot aim ids at one chain. That
 * is all the hash has to deliver: it needs to spread well under an unknown
 * key, not to be a cryptographic PRF. One round folds in 64 bits with a
 * multiply by the secret odd key, then a multiply by a fixed odd constant,
 * each followed by an xorshift that feeds high bits back down.
 */
static uint64_t mix(uint64_t h, uint64_t word, uint64_t key)
{
	h = (h ^ word) * key;
	h ^= h >> 32;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t mix_bytes(uint64_t h, const uint8_t *p, size_t n, uint64_t key)
{
	uint64_t word;
	size_t i, take;

	for (i = 0; i < n; i += take) {
		take = n - i < sizeof(word) ? n - i : sizeof(word);
		word = 0;
		memcpy(&word, p + i, take);
		h = mix(h, word, key);
	}
	return h;
}

/* The length goes in first, so zero padding cannot make two ids equal. */
static uint32_t bucket_of(const struct e2e_seen_set *s, struct kc_bytes from,
			  const uint8_t msg_id[KC_MSGID_LEN])
{
	uint64_t h = s->key[0] ^ from.len;

	h = mix_bytes(h, msg_id, KC_MSGID_LEN, s->key[1]);
	h = mix_bytes(h, from.p, from.len, s->key[1]);
	return (uint32_t)(h >> (64 - E2E_SEEN_BUCKET_BITS));
}

/*
 * Entries keep the sender as a C string for the state file, so a sender
 * that cannot be one (too long, a NUL inside) is never remembered. Valid
 * client ids always can be: kc_e2e_open() checks them before anyone calls
 * remember. The len tests keep a NULL p of an empty id away from memchr,
 * memcmp and memcpy.
 */
static bool storable(struct kc_bytes from)
{
	return from.len <= KC_CLIENT_ID_MAX &&
	       (!from.len || !memchr(from.p, 0, from.len));
}

static bool entry_is(const struct e2e_seen *en, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN])
{
	return en->peer_len == from.len &&
	       !memcmp(en->msg_id, msg_id, KC_MSGID_LEN) &&
	       (!from.len || !memcmp(en->peer, from.p, from.len));
}

static int32_t find(const struct e2e_seen_set *s, uint32_t bucket,
		    struct kc_bytes from, const uint8_t msg_id[KC_MSGID_LEN])
{
	int32_t i;

	for (i = s->head[bucket]; i != NO_ENTRY; i = s->link[i]) {
		if (entry_is(&s->ring[i], from, msg_id))
			return i;
	}
	return NO_ENTRY;
}

int kc_seen_set_init(struct e2e_seen_set *s)
{
	uint32_t b;

	memset(s, 0, sizeof(*s));
	s->ring = calloc(KC_E2E_SEEN_MAX, sizeof(*s->ring));
	s->link = calloc(KC_E2E_SEEN_MAX, sizeof(*s->link));
	s->head = calloc(E2E_SEEN_BUCKETS, sizeof(*s->head));
	if (!s->ring || !s->link || !s->head) {
		kc_seen_set_destroy(s);
		return -ENOMEM;
	}
	for (b = 0; b < E2E_SEEN_BUCKETS; b++)
		s->head[b] = NO_ENTRY;
	kc_random(s->key, sizeof(s->key));
	s->key[1] |= 1; /* an odd multiplier is a bijection mod 2^64 */
	return 0;
}

void kc_seen_set_destroy(struct e2e_seen_set *s)
{
	if (!s)
		return;
	free(s->ring);
	free(s->link);
	free(s->head);
	explicit_bzero(s, sizeof(*s));
}

bool kc_seen_set_has(const struct e2e_seen_set *s, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN])
{
	if (!storable(from))
		return false;
	return find(s, bucket_of(s, from, msg_id), from, msg_id) != NO_ENTRY;
}

/*
 * When the ring is full the slot at next holds the oldest pair. Chains
 * run newest first and eviction is oldest first, so it is the last entry
 * of its chain: the walk finds its predecessor, about one step.
 */
static void evict_oldest(struct e2e_seen_set *s)
{
	int32_t victim = (int32_t)s->next;
	int32_t *p = &s->head[s->ring[victim].bucket];

	while (*p != victim)
		p = &s->link[*p];
	*p = s->link[victim];
	s->count--;
}

void kc_seen_set_add(struct e2e_seen_set *s, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN])
{
	struct e2e_seen *en;
	uint32_t bucket;

	if (!storable(from))
		return;
	bucket = bucket_of(s, from, msg_id);
	if (find(s, bucket, from, msg_id) != NO_ENTRY)
		return;
	if (s->count == KC_E2E_SEEN_MAX)
		evict_oldest(s);
	en = &s->ring[s->next];
	if (from.len)
		memcpy(en->peer, from.p, from.len);
	en->peer[from.len] = '\0';
	en->peer_len = (uint8_t)from.len;
	memcpy(en->msg_id, msg_id, KC_MSGID_LEN);
	en->bucket = bucket;
	s->link[s->next] = s->head[bucket];
	s->head[bucket] = (int32_t)s->next;
	s->next = (s->next + 1) % KC_E2E_SEEN_MAX;
	s->count++;
}

const struct e2e_seen *kc_seen_set_oldest(const struct e2e_seen_set *s,
					  uint32_t i)
{
	uint32_t first =
		(s->next + KC_E2E_SEEN_MAX - s->count) % KC_E2E_SEEN_MAX;

	return &s->ring[(first + i) % KC_E2E_SEEN_MAX];
}

/* The public face (e2e.h). */

bool kc_e2e_seen(const struct kc_e2e *e, struct kc_bytes from,
		 const uint8_t msg_id[KC_MSGID_LEN])
{
	return kc_seen_set_has(&e->seen, from, msg_id);
}

void kc_e2e_remember(struct kc_e2e *e, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN])
{
	kc_seen_set_add(&e->seen, from, msg_id);
}
