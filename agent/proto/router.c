// SPDX-License-Identifier: GPL-2.0-only
/*
 * Presence registry and posting: see router.h.
 *
 * The registry is a glibc tsearch tree keyed by client id (ids are peer
 * chosen at REGISTER, so a balanced tree rather than an unkeyed hash).
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn.h"
#include "conn/conn_out.h"
#include "proto/context.h"
#include "proto/router.h"
#include "ring/inbox.h"

struct presence_ref {
	struct kc_inbox *inbox; /* of the connection's worker */
	uint32_t slot, gen;
};

struct presence {
	char id[KC_TLS_ID_SIZE];
	struct presence_ref *v;
	size_t n, cap;
};

struct kc_router {
	pthread_mutex_t lock;
	void *root;
};

static int presence_cmp(const void *a, const void *b)
{
	const struct presence *pa = a, *pb = b;

	return strcmp(pa->id, pb->id);
}

static void presence_free(void *p)
{
	struct presence *pr = p;

	free(pr->v);
	free(pr);
}

int kc_router_create(struct kc_router **out)
{
	struct kc_router *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void kc_router_destroy(struct kc_router *r)
{
	if (!r)
		return;
	tdestroy(r->root, presence_free);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Under the lock: the entry for id, or NULL. */
static struct presence *presence_find(struct kc_router *r, const char *id)
{
	struct presence key;
	void **node;

	strcpy(key.id, id);
	node = tfind(&key, &r->root, presence_cmp);
	return node ? *node : NULL;
}

static struct presence *presence_get(struct kc_router *r, const char *id)
{
	struct presence *p = presence_find(r, id);
	void **node;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	strcpy(p->id, id);
	node = tsearch(p, &r->root, presence_cmp);
	if (!node) {
		free(p);
		return NULL;
	}
	return p;
}

static int presence_add(struct presence *p, struct presence_ref ref)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 2;
		struct presence_ref *v = reallocarray(p->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = ref;
	return 0;
}

static struct presence_ref conn_ref(const struct kc_conn *c)
{
	return (struct presence_ref){ &kc_pw(c)->w->inbox, c->slot, c->gen };
}

int kc_router_join(struct kc_router *r, const char *id, struct kc_conn *c)
{
	struct presence *p;
	int ret = -ENOMEM;

	pthread_mutex_lock(&r->lock);
	p = presence_get(r, id);
	if (p)
		ret = presence_add(p, conn_ref(c));
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static bool same_ref(struct presence_ref a, struct presence_ref b)
{
	return a.inbox == b.inbox && a.slot == b.slot && a.gen == b.gen;
}

void kc_router_leave(struct kc_router *r, const char *id, struct kc_conn *c)
{
	struct presence_ref ref = conn_ref(c);
	struct presence *p;

	pthread_mutex_lock(&r->lock);
	p = presence_find(r, id);
	for (size_t i = 0; p && i < p->n; i++) {
		if (!same_ref(p->v[i], ref))
			continue;
		p->v[i] = p->v[--p->n];
		break;
	}
	if (p && !p->n) {
		tdelete(p, &r->root, presence_cmp);
		presence_free(p);
	}
	pthread_mutex_unlock(&r->lock);
}

bool kc_router_online(struct kc_router *r, const char *id)
{
	bool online;

	pthread_mutex_lock(&r->lock);
	online = presence_find(r, id) != NULL;
	pthread_mutex_unlock(&r->lock);
	return online;
}

/*
 * Copies the refs of id (only the first when !all) under the lock, so
 * posting happens outside it. *out is `stack` when the refs fit in it,
 * else malloc'ed.
 */
static size_t refs_of(struct kc_router *r, const char *id, bool all,
		      struct presence_ref *stack, size_t cap,
		      struct presence_ref **out)
{
	struct presence *pr;
	size_t n = 0;

	*out = stack;
	pthread_mutex_lock(&r->lock);
	pr = presence_find(r, id);
	if (pr)
		n = all ? pr->n : (pr->n ? 1 : 0);
	if (n > cap) {
		*out = malloc(n * sizeof(**out));
		if (!*out) {
			*out = stack;
			n = cap;
		}
	}
	if (n)
		memcpy(*out, pr->v, n * sizeof(**out));
	pthread_mutex_unlock(&r->lock);
	return n;
}

#define FANOUT_STACK 16

unsigned int kc_router_post(struct kc_router *r, struct kc_ring *from,
			    const char *id, struct kc_payload *p, bool all)
{
	struct presence_ref stack[FANOUT_STACK], *refs;
	size_t n = refs_of(r, id, all, stack, FANOUT_STACK, &refs);
	unsigned int sent = 0;

	for (size_t i = 0; i < n; i++)
		sent += kc_inbox_post(refs[i].inbox, from, refs[i].slot,
				      refs[i].gen, p) == 0;
	if (refs != stack)
		free(refs);
	return sent;
}

struct kc_payload *kc_note_payload(const struct kc_frame *f, uint64_t seq,
				   uint32_t tag)
{
	size_t len = f ? kc_frame_size(f) : 0;
	struct kc_payload *p = kc_payload_new(len);

	if (!p || (f && (!len || kc_frame_encode(f, p->frame, len) != len))) {
		kc_payload_put(p);
		return NULL;
	}
	p->seq = seq;
	p->tag = tag;
	return p;
}
