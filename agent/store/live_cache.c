// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reader's table of live clients: see live_cache.h. Open addressing
 * with linear probing; it is only ever emptied whole, so no tombstones.
 * Kept at most three quarters full, so a probe always ends.
 */
#include <errno.h>
#include <string.h>

#include "store/live_cache.h"

/* FNV-1a of the id. */
static unsigned int slot_of(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h & (KC_LIVE_CACHE_SLOTS - 1);
}

void kc_live_cache_clear(struct kc_live_cache *c)
{
	if (!c->used)
		return;
	for (unsigned int i = 0; i < KC_LIVE_CACHE_SLOTS; i++)
		c->slot[i].id[0] = '\0';
	c->used = 0;
}

static const struct kc_live_slot *find(const struct kc_live_cache *c,
				       const char *id)
{
	unsigned int i = slot_of(id);

	for (;; i = (i + 1) & (KC_LIVE_CACHE_SLOTS - 1)) {
		const struct kc_live_slot *s = &c->slot[i];

		if (!s->id[0] || !strcmp(s->id, id))
			return s;
	}
}

int kc_live_cache_get(const struct kc_live_cache *c, const char *id)
{
	const struct kc_live_slot *s = find(c, id);

	return s->id[0] ? s->answer : 1;
}

void kc_live_cache_put(struct kc_live_cache *c, const char *id, int answer)
{
	struct kc_live_slot *s;

	if (strlen(id) > KC_CLIENT_ID_MAX ||
	    c->used >= KC_LIVE_CACHE_SLOTS / 4 * 3)
		return;
	s = (struct kc_live_slot *)find(c, id);
	if (!s->id[0])
		c->used++;
	strcpy(s->id, id);
	s->answer = (int8_t)answer;
}
