// SPDX-License-Identifier: GPL-2.0-only
/*
 * Group commit: see commit.h. The batch lives for one loop turn; its
 * arrays keep their memory from turn to turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/commit.h"
#include "store.h"

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
	memset(b, 0, sizeof(*b));
}

bool kc_commit_empty(const struct kc_commit *b)
{
	return !b->nmsgs && !b->ndels && !b->nreceipts;
}

/* Makes room for one more element of size `size` in *v. */
static int reserve(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
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

	if (reserve((void **)&b->msgs, &b->msgs_cap, b->nmsgs, sizeof(*m)))
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

	if (reserve((void **)&b->dels, &b->dels_cap, b->ndels, sizeof(*d)))
		return -ENOMEM;
	d = &b->dels[b->ndels++];
	memset(d, 0, sizeof(*d));
	strcpy(d->recipient, recipient);
	memcpy(d->msg_id, msg_id, KC_MSGID_LEN);
	return 0;
}

int kc_commit_add_receipt_done(struct kc_commit *b, int64_t receipt_id)
{
	if (reserve((void **)&b->receipts_done, &b->receipts_cap, b->nreceipts,
		    sizeof(*b->receipts_done)))
		return -ENOMEM;
	b->receipts_done[b->nreceipts++] = receipt_id;
	return 0;
}

/* Returns 0, or a store error that loses the whole group. */
static int put_msg(struct kc_store *st, struct kc_commit_msg *m, int64_t now_ms)
{
	int ret;

	ret = kc_store_put_message(st, m->sender, m->msg_id, m->recipient,
				   now_ms, m->inner, m->inner_len, &m->seq);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	/* Seen before (1): OK again, but it was routed the first time. */
	m->fresh = ret == 0;
	m->status = ret == -ENOENT ? KC_NOT_FOUND : KC_OK;
	m->stored_at_ms = now_ms;
	return 0;
}

/* -ENOENT (not queued for this client) is ignored, per PROTOCOL.md. */
static int put_delivered(struct kc_store *st, struct kc_commit_delivered *d)
{
	int ret = kc_store_delivered(st, d->recipient, d->msg_id, d->sender,
				     &d->receipt_id);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	d->receipt = true;
	return 0;
}

static int run_group(struct kc_commit *b, struct kc_store *st, int64_t now_ms)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < b->nmsgs; i++)
		ret = put_msg(st, &b->msgs[i], now_ms);
	for (i = 0; !ret && i < b->ndels; i++)
		ret = put_delivered(st, &b->dels[i]);
	/* Receipts already written: best effort, a failure loses nothing. */
	for (i = 0; !ret && i < b->nreceipts; i++)
		kc_store_receipt_done(st, b->receipts_done[i]);
	return ret;
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
	int ret;

	ret = kc_store_begin(st);
	if (ret)
		goto err;
	ret = run_group(b, st, now_ms);
	if (ret) {
		kc_store_rollback(st);
		goto err;
	}
	ret = kc_store_commit(st);
	if (ret)
		goto err;
	b->nreceipts = 0;
	return 0;
err:
	fail_all(b);
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
