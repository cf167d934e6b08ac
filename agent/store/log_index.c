// SPDX-License-Identifier: GPL-2.0-only
/*
 * The log's in-memory index: chained hash tables with intrusive links,
 * doubled when they hold as many items as buckets. See log_index.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/log_index.h"

#define INITIAL_BUCKETS 1024u

/* FNV-1a: ids are short and chosen by the operator's clients. */
static uint64_t hash_bytes(const void *p, size_t len, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_id(const char *id, size_t len)
{
	return hash_bytes(id, len, 0xcbf29ce484222325ull);
}

/* lsns are dense: a multiplicative mix spreads consecutive ones. */
static uint64_t hash_lsn(uint64_t lsn)
{
	return (lsn * 0x9e3779b97f4a7c15ull) >> 17;
}

static uint64_t hash_msg_id(const struct kc_log_client *r, const uint8_t *id)
{
	return hash_bytes(id, KC_MSGID_LEN, (uintptr_t)r * 0x9e3779b97f4a7c15ull);
}

int kc_index_init(struct kc_log_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->clients = calloc(INITIAL_BUCKETS, sizeof(*ix->clients));
	ix->by_lsn = calloc(INITIAL_BUCKETS, sizeof(*ix->by_lsn));
	ix->by_id = calloc(INITIAL_BUCKETS, sizeof(*ix->by_id));
	if (!ix->clients || !ix->by_lsn || !ix->by_id) {
		kc_index_fini(ix);
		return -ENOMEM;
	}
	ix->clients_mask = INITIAL_BUCKETS - 1;
	ix->entries_mask = INITIAL_BUCKETS - 1;
	return 0;
}

void kc_index_fini(struct kc_log_index *ix)
{
	if (ix->by_lsn) {
		for (size_t i = 0; i <= ix->entries_mask; i++) {
			struct kc_log_entry *e = ix->by_lsn[i], *next;

			for (; e; e = next) {
				next = e->lsn_next;
				free(e);
			}
		}
	}
	if (ix->clients) {
		for (size_t i = 0; i <= ix->clients_mask; i++) {
			struct kc_log_client *c = ix->clients[i], *next;

			for (; c; c = next) {
				next = c->hnext;
				free(c);
			}
		}
	}
	free(ix->clients);
	free(ix->by_lsn);
	free(ix->by_id);
	memset(ix, 0, sizeof(*ix));
}

/* --- clients --- */

static int grow_clients(struct kc_log_index *ix)
{
	size_t n = 2 * (ix->clients_mask + 1);
	struct kc_log_client **t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i <= ix->clients_mask; i++) {
		struct kc_log_client *c = ix->clients[i], *next;

		for (; c; c = next) {
			size_t b = hash_id(c->id, strlen(c->id)) & (n - 1);

			next = c->hnext;
			c->hnext = t[b];
			t[b] = c;
		}
	}
	free(ix->clients);
	ix->clients = t;
	ix->clients_mask = n - 1;
	return 0;
}

static struct kc_log_client *lookup_client(const struct kc_log_index *ix,
					   const char *id, size_t len)
{
	struct kc_log_client *c = ix->clients[hash_id(id, len) &
					      ix->clients_mask];

	for (; c; c = c->hnext)
		if (strlen(c->id) == len && !memcmp(c->id, id, len))
			return c;
	return NULL;
}

struct kc_log_client *kc_index_find_client(const struct kc_log_index *ix,
					   const char *id)
{
	return lookup_client(ix, id, strlen(id));
}

struct kc_log_client *kc_index_client(struct kc_log_index *ix, const char *id,
				      size_t len)
{
	struct kc_log_client *c;
	size_t b;

	if (!len || len > KC_CLIENT_ID_MAX)
		return NULL;
	c = lookup_client(ix, id, len);
	if (c)
		return c;
	if (ix->nclients > ix->clients_mask && grow_clients(ix))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c->id, id, len);
	b = hash_id(id, len) & ix->clients_mask;
	c->hnext = ix->clients[b];
	ix->clients[b] = c;
	ix->nclients++;
	return c;
}

int kc_index_each_client(const struct kc_log_index *ix,
			 int (*fn)(const struct kc_log_client *c, void *arg),
			 void *arg)
{
	for (size_t i = 0; i <= ix->clients_mask; i++) {
		for (struct kc_log_client *c = ix->clients[i]; c;
		     c = c->hnext) {
			int ret = fn(c, arg);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* --- entries --- */

static void link_entry(struct kc_log_entry **by_lsn, struct kc_log_entry **by_id,
		       size_t mask, struct kc_log_entry *e)
{
	size_t b = hash_lsn(e->lsn) & mask;

	e->lsn_next = by_lsn[b];
	by_lsn[b] = e;
	b = hash_msg_id(e->recipient, e->msg_id) & mask;
	e->id_next = by_id[b];
	by_id[b] = e;
}

/* Every entry is in exactly one queue: walk the queues to relink them. */
static int grow_entries(struct kc_log_index *ix)
{
	size_t n = 2 * (ix->entries_mask + 1);
	struct kc_log_entry **by_lsn = calloc(n, sizeof(*by_lsn));
	struct kc_log_entry **by_id = calloc(n, sizeof(*by_id));

	if (!by_lsn || !by_id) {
		free(by_lsn);
		free(by_id);
		return -ENOMEM;
	}
	for (size_t i = 0; i <= ix->clients_mask; i++)
		for (struct kc_log_client *c = ix->clients[i]; c; c = c->hnext)
			for (struct kc_log_entry *e = c->tail; e; e = e->qprev)
				link_entry(by_lsn, by_id, n - 1, e);
	free(ix->by_lsn);
	free(ix->by_id);
	ix->by_lsn = by_lsn;
	ix->by_id = by_id;
	ix->entries_mask = n - 1;
	return 0;
}

int kc_index_add(struct kc_log_index *ix, struct kc_log_entry *e)
{
	struct kc_log_client *r = e->recipient;

	if (ix->nentries > ix->entries_mask && grow_entries(ix))
		return -ENOMEM;
	link_entry(ix->by_lsn, ix->by_id, ix->entries_mask, e);
	e->qnext = NULL;
	e->qprev = r->tail;
	if (r->tail)
		r->tail->qnext = e;
	else
		r->head = e;
	r->tail = e;
	r->queued++;
	r->queued_bytes += e->inner_len;
	ix->nentries++;
	return 0;
}

struct kc_log_entry *kc_index_by_lsn(const struct kc_log_index *ix,
				     uint64_t lsn)
{
	struct kc_log_entry *e = ix->by_lsn[hash_lsn(lsn) & ix->entries_mask];

	while (e && e->lsn != lsn)
		e = e->lsn_next;
	return e;
}

struct kc_log_entry *kc_index_by_id(const struct kc_log_index *ix,
				    const struct kc_log_client *recipient,
				    const uint8_t msg_id[KC_MSGID_LEN])
{
	struct kc_log_entry *e, *oldest = NULL;

	e = ix->by_id[hash_msg_id(recipient, msg_id) & ix->entries_mask];
	for (; e; e = e->id_next)
		if (e->recipient == recipient && !e->dying &&
		    !memcmp(e->msg_id, msg_id, KC_MSGID_LEN) &&
		    (!oldest || e->lsn < oldest->lsn))
			oldest = e;
	return oldest;
}

static void unchain(struct kc_log_entry **head, struct kc_log_entry *e,
		    size_t next_off)
{
	struct kc_log_entry **pp = head;

	while (*pp && *pp != e)
		pp = (struct kc_log_entry **)((char *)*pp + next_off);
	if (*pp)
		*pp = *(struct kc_log_entry **)((char *)e + next_off);
}

void kc_index_remove(struct kc_log_index *ix, struct kc_log_entry *e)
{
	struct kc_log_client *r = e->recipient;

	unchain(&ix->by_lsn[hash_lsn(e->lsn) & ix->entries_mask], e,
		offsetof(struct kc_log_entry, lsn_next));
	unchain(&ix->by_id[hash_msg_id(r, e->msg_id) & ix->entries_mask], e,
		offsetof(struct kc_log_entry, id_next));
	if (e->qprev)
		e->qprev->qnext = e->qnext;
	else
		r->head = e->qnext;
	if (e->qnext)
		e->qnext->qprev = e->qprev;
	else
		r->tail = e->qprev;
	r->queued--;
	r->queued_bytes -= e->inner_len;
	ix->nentries--;
}
