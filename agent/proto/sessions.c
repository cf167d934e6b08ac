// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agent sessions: the global sid set and per-connection lists (sessions.h).
 *
 * The sid set is a glibc tsearch tree (red-black): sids come from peers,
 * so a balanced tree keeps every operation O(log n) whatever sids they
 * choose, where a hash table would need a keyed hash against flooding.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sessions.h"

struct kc_sid_set {
	pthread_mutex_t lock;
	void *root; /* tsearch tree of malloc'ed KC_SID_LEN keys */
};

static int sid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KC_SID_LEN);
}

int kc_sid_set_create(struct kc_sid_set **out)
{
	struct kc_sid_set *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void kc_sid_set_destroy(struct kc_sid_set *s)
{
	if (!s)
		return;
	tdestroy(s->root, free);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int kc_sid_claim(struct kc_sid_set *s, const uint8_t sid[KC_SID_LEN])
{
	uint8_t *key = malloc(KC_SID_LEN);
	void **node;
	int ret = 0;

	if (!key)
		return -ENOMEM;
	memcpy(key, sid, KC_SID_LEN);
	pthread_mutex_lock(&s->lock);
	node = tsearch(key, &s->root, sid_cmp);
	if (!node)
		ret = -ENOMEM;
	else if (*node != key)
		ret = -EEXIST;
	pthread_mutex_unlock(&s->lock);
	if (ret)
		free(key);
	return ret;
}

void kc_sid_release(struct kc_sid_set *s, const uint8_t sid[KC_SID_LEN])
{
	void **node;
	void *key = NULL;

	pthread_mutex_lock(&s->lock);
	node = tfind(sid, &s->root, sid_cmp);
	if (node) {
		key = *node;
		tdelete(sid, &s->root, sid_cmp);
	}
	pthread_mutex_unlock(&s->lock);
	free(key);
}

static int list_reserve(struct kc_conn_sessions *l)
{
	struct kc_conn_session *v;
	uint32_t cap;

	if (l->n < l->cap)
		return 0;
	if (l->n >= KC_SESSIONS_PER_CONN)
		return -KC_TRY_LATER;
	cap = l->cap ? l->cap * 2 : 4;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return -KC_INTERNAL;
	l->v = v;
	l->cap = cap;
	return 0;
}

/* A tier that cannot take another session's keys: the store is full. */
static int install_status(int err)
{
	if (err == -ENOSPC || err == -EDQUOT)
		return -KC_TRY_LATER;
	return -KC_INTERNAL;
}

/*
 * Whether `wrapped` held a key must not show, in the answer or in its
 * time (PROTOCOL.md section 4, Manger's attack): both outcomes take the
 * same path. The tier's unwrap does the same work either way (one RSA
 * private operation, an OAEP decode without branches on the padding,
 * the fallback K drawn and selected without a branch, the session made
 * with whichever K came out; tier_core.h), and here -EBADMSG is masked to
 * 0 before anything branches, so the session is listed and SESSION
 * answered the same. Only the count differs, by an add of 0 or 1. A
 * value at or above the modulus fails earlier inside the tier; that is
 * public (the modulus is) and still ends here as -EBADMSG.
 */
/* Under both seal keys while a rotation's old one lives (crypto_tier.h). */
static int unwrap(const struct kc_session_ctx *ctx, const uint8_t *sid,
		  const uint8_t wrapped[KC_RSA_LEN], kc_handle_t *h)
{
	kc_handle_t key = atomic_load(&ctx->unwrap_key);
	kc_handle_t old = atomic_load(&ctx->old_key);

	if (old == KC_HANDLE_NONE)
		return kc_session_unwrap(ctx->crypto, key, sid, wrapped, h);
	return kc_session_unwrap_either(ctx->crypto, key, old, sid, wrapped,
					h);
}

int kc_conn_session_open(struct kc_conn_sessions *l,
			 const struct kc_session_ctx *ctx,
			 const uint8_t sid[KC_SID_LEN],
			 const uint8_t wrapped[KC_RSA_LEN], uint64_t expires_ms)
{
	struct kc_conn_session *s;
	kc_handle_t h = KC_HANDLE_NONE;
	int ret, bad;

	ret = list_reserve(l);
	if (ret)
		return ret;
	ret = kc_sid_claim(ctx->sids, sid);
	if (ret)
		return ret == -EEXIST ? -KC_EXISTS : -KC_INTERNAL;
	ret = unwrap(ctx, sid, wrapped, &h);
	bad = ret == -EBADMSG;
	atomic_fetch_add_explicit(ctx->bad_keys, (unsigned long)bad,
				  memory_order_relaxed);
	ret &= bad - 1; /* -EBADMSG is 0 from here on, without a branch */
	if (ret) {
		kc_sid_release(ctx->sids, sid);
		return install_status(ret);
	}
	s = &l->v[l->n++];
	memcpy(s->sid, sid, KC_SID_LEN);
	s->handle = h;
	s->max_seq = 0;
	s->expires_ms = expires_ms;
	return 0;
}

struct kc_conn_session *kc_conn_session_find(struct kc_conn_sessions *l,
					     const uint8_t sid[KC_SID_LEN],
					     uint64_t now_ms)
{
	for (uint32_t i = 0; i < l->n; i++) {
		if (memcmp(l->v[i].sid, sid, KC_SID_LEN))
			continue;
		return l->v[i].expires_ms > now_ms ? &l->v[i] : NULL;
	}
	return NULL;
}

static void session_end(struct kc_conn_session *s,
			const struct kc_session_ctx *ctx)
{
	kc_session_drop(ctx->crypto, s->handle);
	kc_sid_release(ctx->sids, s->sid);
}

unsigned int kc_conn_sessions_expire(struct kc_conn_sessions *l,
				     const struct kc_session_ctx *ctx,
				     uint64_t now_ms)
{
	unsigned int ended = 0;
	uint32_t i = 0;

	while (i < l->n) {
		if (l->v[i].expires_ms > now_ms) {
			i++;
			continue;
		}
		session_end(&l->v[i], ctx);
		l->v[i] = l->v[--l->n];
		ended++;
	}
	return ended;
}

void kc_conn_sessions_drop_all(struct kc_conn_sessions *l,
			       const struct kc_session_ctx *ctx)
{
	for (uint32_t i = 0; i < l->n; i++)
		session_end(&l->v[i], ctx);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
