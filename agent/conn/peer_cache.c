// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verified client certificates; see peer_cache.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "conn/peer_cache.h"

struct peer_entry {
	uint8_t key[KC_PEER_HASH_LEN];
	time_t from, until; /* usable while from <= now < until */
	char id[KC_PEER_ID_SIZE];
};

struct kc_peer_cache {
	pthread_mutex_t lock;
	struct peer_entry slot[KC_PEER_CACHE_SLOTS];
};

int kc_peer_cache_new(struct kc_peer_cache **out)
{
	struct kc_peer_cache *pc = calloc(1, sizeof(*pc));

	*out = NULL;
	if (!pc)
		return -ENOMEM;
	pthread_mutex_init(&pc->lock, NULL);
	*out = pc;
	return 0;
}

void kc_peer_cache_free(struct kc_peer_cache *pc)
{
	if (!pc)
		return;
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

int kc_peer_cache_key(const gnutls_datum_t *certs, unsigned int n,
		      uint8_t key[KC_PEER_HASH_LEN])
{
	gnutls_hash_hd_t h;
	unsigned int i;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint8_t len[4] = { certs[i].size >> 24, certs[i].size >> 16,
				   certs[i].size >> 8, certs[i].size };

		/* Lengths too, so two chains cannot hash the same bytes. */
		gnutls_hash(h, len, sizeof(len));
		gnutls_hash(h, certs[i].data, certs[i].size);
	}
	gnutls_hash_deinit(h, key);
	return 0;
}

static struct peer_entry *slot_of(struct kc_peer_cache *pc,
				  const uint8_t key[KC_PEER_HASH_LEN])
{
	uint32_t i = (uint32_t)key[0] << 8 | key[1];

	return &pc->slot[i % KC_PEER_CACHE_SLOTS];
}

bool kc_peer_cache_get(struct kc_peer_cache *pc,
		       const uint8_t key[KC_PEER_HASH_LEN], time_t now,
		       char id[KC_PEER_ID_SIZE])
{
	struct peer_entry *e;
	bool hit;

	pthread_mutex_lock(&pc->lock);
	e = slot_of(pc, key);
	hit = e->until && !memcmp(e->key, key, KC_PEER_HASH_LEN) &&
	      now >= e->from && now < e->until;
	if (hit)
		memcpy(id, e->id, KC_PEER_ID_SIZE);
	pthread_mutex_unlock(&pc->lock);
	return hit;
}

void kc_peer_cache_put(struct kc_peer_cache *pc,
		       const uint8_t key[KC_PEER_HASH_LEN], const char *id,
		       time_t not_before, time_t not_after, time_t now)
{
	time_t until = now + KC_PEER_CACHE_TTL_S;
	struct peer_entry *e;

	if (not_after < until)
		until = not_after;
	if (until <= now || not_before > now || strlen(id) >= KC_PEER_ID_SIZE)
		return;
	pthread_mutex_lock(&pc->lock);
	e = slot_of(pc, key);
	memcpy(e->key, key, KC_PEER_HASH_LEN);
	e->from = not_before;
	e->until = until;
	memset(e->id, 0, sizeof(e->id));
	strcpy(e->id, id);
	pthread_mutex_unlock(&pc->lock);
}
