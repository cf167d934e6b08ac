// SPDX-License-Identifier: GPL-2.0-only
/*
 * Group commit: see commit.h. The batch lives for one loop turn; its
 * arrays keep their memory from turn to turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/commit.h"
#include "store/store.h"

void kc_commit_init(struct kc_commit *b)
{
	memset(b, 0, sizeof(*b));
}

void kc_commit_fini(struct kc_commit *b)
{
	kc_commit_reset(b);
	free(b->msgs);
	free(b->dels);
	free(b->receipts_done);
	free(b->puts);
	free(b->takes);
	memset(b, 0, sizeof(*b));
}

bool kc_commit_empty(const struct kc_commit *b)
{
	return !b->nmsgs && !b->ndels && !b->nreceipts;
}

/* Makes room for n elements of size `size` in *v. */
static int reserve(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n <= *cap)
		return 0;
	for (ncap = *cap ? *cap * 2 : 16; ncap < n; ncap *= 2)
		;
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
	return 0;
}

int kc_commit_add_receipt_done(struct kc_commit *b, int64_t receipt_id)
{
	if (reserve((void **)&b->receipts_done, &b->receipts_cap,
		    b->nreceipts + 1, sizeof(*b->receipts_done)))
		return -ENOMEM;
	b->receipts_done[b->nreceipts++] = receipt_id;
	return 0;
}

/* The store's view of this turn's group: pointers into b's own arrays. */
static int make_group(struct kc_commit *b, struct kc_store_group *g)
{
	if (reserve((void **)&b->puts, &b->puts_cap, b->nmsgs,
		    sizeof(*b->puts)) ||
	    reserve((void **)&b->takes, &b->takes_cap, b->ndels,
		    sizeof(*b->takes)))
		return -ENOMEM;
	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_commit_msg *m = &b->msgs[i];

		b->puts[i] = (struct kc_store_put){
			.sender = m->sender,
			.recipient = m->recipient,
			.msg_id = m->msg_id,
			.inner = m->inner,
			.inner_len = m->inner_len,
		};
	}
	for (size_t i = 0; i < b->ndels; i++)
		b->takes[i] = (struct kc_store_take){
			.recipient = b->dels[i].recipient,
			.msg_id = b->dels[i].msg_id,
		};
	*g = (struct kc_store_group){
		.puts = b->puts,
		.nputs = b->nmsgs,
		.takes = b->takes,
		.ntakes = b->ndels,
		.receipts_done = b->receipts_done,
		.nreceipts_done = b->nreceipts,
	};
	return 0;
}

/*
 * A duplicate is OK again, but was routed the first time; a DELIVERED
 * of a message not queued for that client is ignored, per PROTOCOL.md.
 */
static void take_results(struct kc_commit *b, int64_t now_ms)
{
	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_commit_msg *m = &b->msgs[i];
		const struct kc_store_put *p = &b->puts[i];

		m->fresh = p->result == KC_STORE_STORED;
		m->status =
			p->result == KC_STORE_NO_CLIENT ? KC_NOT_FOUND : KC_OK;
		if (m->fresh)
			m->seq = p->seq;
		m->stored_at_ms = now_ms;
	}
	for (size_t i = 0; i < b->ndels; i++) {
		struct kc_commit_delivered *d = &b->dels[i];
		const struct kc_store_take *t = &b->takes[i];

		d->receipt = t->taken;
		if (!t->taken)
			continue;
		strcpy(d->sender, t->sender);
		d->receipt_id = t->receipt_id;
	}
}

static void fail_all(struct kc_commit *b)
{
	for (size_t i = 0; i < b->nmsgs; i++) {
		b->msgs[i].status = KC_TRY_LATER;
		b->msgs[i].fresh = false;
	}
	for (size_t i = 0; i < b->ndels; i++)
		b->dels[i].receipt = false;
}

int kc_commit_run(struct kc_commit *b, struct kc_store *st, int64_t now_ms)
{
	struct kc_store_group g;
	int ret;

	ret = make_group(b, &g);
	if (!ret)
		ret = kc_store_apply(st, &g, now_ms);
	if (ret)
		fail_all(b);
	else
		take_results(b, now_ms);
	/* Receipts are best effort: one that stays stored is sent again. */
	b->nreceipts = 0;
	return ret;
}

void kc_commit_reset(struct kc_commit *b)
{
	for (size_t i = 0; i < b->nmsgs; i++) {
		explicit_bzero(b->msgs[i].inner, b->msgs[i].inner_len);
		free(b->msgs[i].inner);
	}
	b->nmsgs = 0;
	b->ndels = 0;
}
