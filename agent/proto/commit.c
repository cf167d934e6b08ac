// SPDX-License-Identifier: GPL-2.0-only
/*
 * A worker's group: see commit.h. Its arrays keep their memory from use
 * to use; a worker recycles its groups once they come back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "proto/commit.h"

struct kc_commit *kc_commit_new(struct kc_proto_worker *owner)
{
	struct kc_commit *b = calloc(1, sizeof(*b));

	if (b)
		b->owner = owner;
	return b;
}

void kc_commit_free(struct kc_commit *b)
{
	if (!b)
		return;
	kc_commit_reset(b);
	free(b->msgs);
	free(b->dels);
	free(b->holds);
	free(b);
}

bool kc_commit_empty(const struct kc_commit *b)
{
	return !b->nmsgs && !b->ndels;
}

/* Room for n elements of size `size` in *v. */
static int reserve(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < n)
		ncap *= 2;
	p = reallocarray(*v, ncap, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int kc_commit_add_msg(struct kc_commit *b, const struct kc_commit_msg *m,
		      const uint8_t *inner)
{
	struct kc_commit_msg *slot;
	uint8_t *copy;

	if (reserve((void **)&b->msgs, &b->msgs_cap, b->nmsgs + 1, sizeof(*m)))
		return -ENOMEM;
	copy = malloc(m->inner_len ? m->inner_len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, inner, m->inner_len);
	slot = &b->msgs[b->nmsgs++];
	*slot = *m;
	slot->inner = copy;
	slot->status = KC_TRY_LATER;
	slot->paid = false;
	slot->fresh = false;
	return 0;
}

int kc_commit_add_delivered(struct kc_commit *b, const char *recipient,
			    const uint8_t msg_id[KC_MSGID_LEN])
{
	struct kc_commit_delivered *d;

	if (reserve((void **)&b->dels, &b->dels_cap, b->ndels + 1, sizeof(*d)))
		return -ENOMEM;
	d = &b->dels[b->ndels++];
	memset(d, 0, sizeof(*d));
	strcpy(d->recipient, recipient);
	memcpy(d->msg_id, msg_id, KC_MSGID_LEN);
	d->received_ns = kc_mono_ns();
	return 0;
}

int kc_commit_add_hold(struct kc_commit *b, uint32_t slot, uint32_t gen)
{
	if (reserve((void **)&b->holds, &b->holds_cap, b->nholds + 1,
		    sizeof(*b->holds)))
		return -ENOMEM;
	b->holds[b->nholds++] = (struct kc_commit_hold){ slot, gen };
	return 0;
}

void kc_commit_reset(struct kc_commit *b)
{
	for (size_t i = 0; i < b->nmsgs; i++) {
		explicit_bzero(b->msgs[i].inner, b->msgs[i].inner_len);
		free(b->msgs[i].inner);
	}
	b->nmsgs = 0;
	b->ndels = 0;
	b->nholds = 0;
	b->next = NULL;
}
