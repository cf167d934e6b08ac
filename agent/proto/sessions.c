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

#include "crypto/keyring.h"
#include "proto/client_limits.h"
#include "proto/sessions.h"
#include "ring/counters.h"
#include "ring/probes.h"

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

/*
 * The keyring's quota refused the session's keys: the user tier keeps
 * them in locked memory instead (the worker's keyring counts that), the
 * afalg tier refuses the session (-EDQUOT).
 */
static void note_quota(const struct kc_session_ctx *ctx,
		       unsigned long misses_before, int err)
{
	bool hit = err == -EDQUOT ||
		   (ctx->keyring && ctx->keyring->quota_misses > misses_before);

	if (!hit)
		return;
	kc_count(KC_CTR_KEYRING_QUOTA, 1);
	if (KC_PROBE_ON(keyring_quota))
		KC_PROBE1(keyring_quota, err);
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

/*
 * The RSA work budgets, before any: the connection's bucket, then the
 * client's bucket and session cap. On 0 the client counts one more live
 * session, which session_end or a failure after this gives back.
 */
static int budget(struct kc_conn_sessions *l, const struct kc_session_ctx *ctx,
		  const char *client, uint64_t now_ms)
{
	if (!l->owner)
		l->owner = client;
	if (!kc_bucket_take(&l->opens, &ctx->conn_rate, now_ms))
		return -KC_RATE_LIMITED;
	return ctx->limits ? kc_client_session_begin(ctx->limits, client,
						     now_ms)
			   : 0;
}

static void unbudget(const struct kc_conn_sessions *l,
		     const struct kc_session_ctx *ctx)
{
	if (ctx->limits)
		kc_client_session_end(ctx->limits, l->owner);
}

/* The sid, then K: 0 or a negated status as kc_conn_session_open says. */
static int claim_and_unwrap(const struct kc_session_ctx *ctx,
			    const uint8_t sid[KC_SID_LEN],
			    const uint8_t wrapped[KC_RSA_LEN], kc_handle_t *h)
{
	unsigned long misses;
	int ret, bad;

	ret = kc_sid_claim(ctx->sids, sid);
	if (ret)
		return ret == -EEXIST ? -KC_EXISTS : -KC_INTERNAL;
	misses = ctx->keyring ? ctx->keyring->quota_misses : 0;
	ret = unwrap(ctx, sid, wrapped, h);
	kc_count(KC_CTR_CRYPTO_UNWRAPS, 1);
	bad = ret == -EBADMSG;
	atomic_fetch_add_explicit(ctx->bad_keys, (unsigned long)bad,
				  memory_order_relaxed);
	ret &= bad - 1; /* -EBADMSG is 0 from here on, without a branch */
	note_quota(ctx, misses, ret);
	if (ret) {
		kc_sid_release(ctx->sids, sid);
		return install_status(ret);
	}
	return 0;
}

int kc_conn_session_open(struct kc_conn_sessions *l,
			 const struct kc_session_ctx *ctx, const char *client,
			 const uint8_t sid[KC_SID_LEN],
			 const uint8_t wrapped[KC_RSA_LEN], uint64_t now_ms,
			 uint64_t expires_ms)
{
	struct kc_conn_session *s;
	kc_handle_t h = KC_HANDLE_NONE;
	int ret;

	ret = budget(l, ctx, client, now_ms);
	if (ret) {
		kc_count(KC_CTR_REFUSED_OPENS, 1);
		return ret;
	}
	ret = list_reserve(l);
	if (!ret)
		ret = claim_and_unwrap(ctx, sid, wrapped, &h);
	if (ret) {
		unbudget(l, ctx);
		return ret;
	}
	s = &l->v[l->n++];
	memcpy(s->sid, sid, KC_SID_LEN);
	s->handle = h;
	s->max_seq = 0;
	s->expires_ms = expires_ms;
	kc_count(KC_CTR_SESSIONS_OPENED, 1);
	if (KC_PROBE_ON(session_open))
		KC_PROBE1(session_open, (const uint8_t *)sid);
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

static void session_end(const struct kc_conn_sessions *l,
			struct kc_conn_session *s,
			const struct kc_session_ctx *ctx)
{
	kc_session_drop(ctx->crypto, s->handle);
	kc_sid_release(ctx->sids, s->sid);
	unbudget(l, ctx);
	kc_count(KC_CTR_SESSIONS_ENDED, 1);
	if (KC_PROBE_ON(session_close))
		KC_PROBE1(session_close, s->sid);
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
		session_end(l, &l->v[i], ctx);
		l->v[i] = l->v[--l->n];
		ended++;
	}
	return ended;
}

void kc_conn_sessions_drop_all(struct kc_conn_sessions *l,
			       const struct kc_session_ctx *ctx)
{
	for (uint32_t i = 0; i < l->n; i++)
		session_end(l, &l->v[i], ctx);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
