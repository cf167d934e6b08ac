/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a reader already knows of which clients are live: a small table of
 * id -> live or not, kept until the directory changes. Every SEND asks
 * whether its recipient is a live client; answering from memory spares
 * the directory a query (and SQLite two file locks) per message. The
 * reader's owner asks every 100 ms whether the directory changed
 * (kc_store_reader_sync) and the table is emptied if it did, so an answer
 * is never older than that.
 */
#ifndef KC_LIVE_CACHE_H
#define KC_LIVE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

#define KC_LIVE_CACHE_SLOTS 1024u /* a power of two */

struct kc_live_slot {
	char id[KC_CLIENT_ID_MAX + 1]; /* "" when free */
	int8_t answer;		       /* 0 live, or -ENOENT */
};

struct kc_live_cache {
	struct kc_live_slot slot[KC_LIVE_CACHE_SLOTS];
	unsigned int used;
};

void kc_live_cache_clear(struct kc_live_cache *c);
/* The cached answer for id: 0, -ENOENT, or 1 when it is not cached. */
int kc_live_cache_get(const struct kc_live_cache *c, const char *id);
/* Keeps answer (0 or -ENOENT) for id; a full table keeps nothing more. */
void kc_live_cache_put(struct kc_live_cache *c, const char *id, int answer);

#endif
