// SPDX-License-Identifier: GPL-2.0-only
/*
 * Presence registry and routing: see router.h.
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
#include "proto/commit.h"
#include "proto/context.h"
#include "proto/router.h"
#include "ring/inbox.h"

struct presence_ref {
	unsigned int worker;
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
	return (struct presence_ref){ kc_pw(c)->w->index, c->slot, c->gen };
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
	return a.worker == b.worker && a.slot == b.slot && a.gen == b.gen;
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

void kc_router_notify(struct kc_conn *c, const struct kc_payload *p)
{
	struct kc_peer *peer = kc_peer(c);

	if (c->state != KC_CONN_OPEN || !peer->authed)
		return;
	if (p->seq) {
		if (peer->catching_up ||
		    (int64_t)p->seq <= peer->delivered_upto)
			return;
		/* A slow reader: let the store hold it until it catches up. */
		if (kc_conn_backlog(c) > KC_CONN_BACKLOG_HIGH) {
			peer->catching_up = true;
			kc_conn_mark_flush(c);
			return;
		}
		peer->delivered_upto = (int64_t)p->seq;
	}
	kc_conn_append(c, p->frame, p->len);
}

/* Hands p to one connection, wherever it lives. */
static bool send_to(struct kc_proto_worker *pw, struct presence_ref ref,
		    struct kc_payload *p)
{
	struct kc_worker *w = pw->w;
	struct kc_conn *c;

	if (ref.worker != w->index)
		return kc_worker_post(w, w->loop->workers[ref.worker], ref.slot,
				      ref.gen, p) >= 0;
	c = kc_conn_lookup(&w->conns, ref.slot, ref.gen);
	if (!c)
		return false;
	kc_router_notify(c, p);
	return true;
}

/*
 * Copies the refs of id (only the first when !all) under the lock, so
 * sending happens outside it: a connection that fails while taking the
 * frame leaves the router, which takes this lock. *out is `stack` when
 * the refs fit in it, else malloc'ed.
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

unsigned int kc_router_send(struct kc_proto_worker *pw, const char *id,
			    struct kc_payload *p, bool all)
{
	struct presence_ref stack[FANOUT_STACK], *refs;
	size_t n = refs_of(pw->p->router, id, all, stack, FANOUT_STACK, &refs);
	unsigned int sent = 0;

	for (size_t i = 0; i < n; i++)
		sent += send_to(pw, refs[i], p);
	if (refs != stack)
		free(refs);
	return sent;
}

static struct kc_payload *encode_payload(const struct kc_frame *f, uint64_t seq)
{
	size_t len = kc_frame_size(f);
	struct kc_payload *p = len ? kc_payload_new(len) : NULL;

	if (!p)
		return NULL;
	if (kc_frame_encode(f, p->frame, len) != len) {
		kc_payload_put(p);
		return NULL;
	}
	p->seq = seq;
	return p;
}

static void route_msg(struct kc_proto_worker *pw, const struct kc_commit_msg *m)
{
	struct kc_frame f = { .type = KC_T_DELIVER };
	struct kc_payload *p;

	f.u.deliver.from = (struct kc_bytes){ (const uint8_t *)m->sender,
					      strlen(m->sender) };
	f.u.deliver.msg_id = m->msg_id;
	f.u.deliver.stored_at_ms = (uint64_t)m->stored_at_ms;
	f.u.deliver.inner = (struct kc_bytes){ m->inner, m->inner_len };
	p = encode_payload(&f, (uint64_t)m->seq);
	if (!p)
		return; /* stays queued: delivered on the next connect */
	kc_router_send(pw, m->recipient, p, true);
	kc_payload_put(p);
}

/*
 * A receipt written to a connection is forgotten in the next group (best
 * effort, PROTOCOL.md section 4); one nobody takes stays stored.
 */
static void route_receipt(struct kc_proto_worker *pw,
			  const struct kc_commit_delivered *d)
{
	struct kc_frame f = { .type = KC_T_RECEIPT };
	struct kc_payload *p;

	f.u.receipt.msg_id = d->msg_id;
	f.u.receipt.recipient =
		(struct kc_bytes){ (const uint8_t *)d->recipient,
				   strlen(d->recipient) };
	p = encode_payload(&f, 0);
	if (!p)
		return;
	if (kc_router_send(pw, d->sender, p, false))
		kc_commit_add_receipt_done(&pw->batch, d->receipt_id);
	kc_payload_put(p);
}

void kc_router_route_commit(struct kc_proto_worker *pw, struct kc_commit *b)
{
	kc_worker_drain_inbox(pw->w);
	for (size_t i = 0; i < b->nmsgs; i++) {
		if (b->msgs[i].fresh)
			route_msg(pw, &b->msgs[i]);
	}
	for (size_t i = 0; i < b->ndels; i++) {
		if (b->dels[i].receipt)
			route_receipt(pw, &b->dels[i]);
	}
}
