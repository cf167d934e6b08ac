// SPDX-License-Identifier: GPL-2.0-only
/*
 * OPEN_SESSION's limits per client: see client_limits.h.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "base/token_bucket.h"
#include "proto/client_limits.h"
#include "wire/wire.h"

struct client_entry {
	char id[KC_CLIENT_ID_MAX + 1];
	struct kc_bucket opens;
	uint32_t live;
};

struct kc_client_limits {
	pthread_mutex_t lock;
	void *root;
	struct kc_bucket_rate rate;
	uint32_t session_cap;
};

int kc_client_limits_create(const struct kc_agent_config *cfg,
			    uint32_t session_cap, struct kc_client_limits **out)
{
	struct kc_client_limits *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return -ENOMEM;
	pthread_mutex_init(&cl->lock, NULL);
	cl->rate.rate = cfg->open_rate_client;
	cl->rate.burst = 4 * cfg->open_rate_client;
	cl->session_cap = session_cap ? session_cap : 1;
	*out = cl;
	return 0;
}

void kc_client_limits_destroy(struct kc_client_limits *cl)
{
	if (!cl)
		return;
	tdestroy(cl->root, free);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

uint32_t kc_client_limits_session_cap(const struct kc_client_limits *cl)
{
	return cl->session_cap;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct client_entry *)a)->id,
		      ((const struct client_entry *)b)->id);
}

/* The client's entry, made on first use; NULL: no memory (or bad id). */
static struct client_entry *entry_for(struct kc_client_limits *cl,
				      const char *id, bool make)
{
	struct client_entry key, *e, **found;

	if (strlen(id) > KC_CLIENT_ID_MAX)
		return NULL;
	strcpy(key.id, id);
	found = tfind(&key, &cl->root, cmp_id);
	if (found || !make)
		return found ? *found : NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	strcpy(e->id, id);
	found = tsearch(e, &cl->root, cmp_id);
	if (!found) {
		free(e);
		return NULL;
	}
	return *found;
}

static int begin_locked(struct kc_client_limits *cl, const char *id,
			uint64_t now_ms)
{
	struct client_entry *e = entry_for(cl, id, true);

	if (!e)
		return -KC_INTERNAL;
	if (!kc_bucket_take(&e->opens, &cl->rate, now_ms))
		return -KC_RATE_LIMITED;
	if (e->live >= cl->session_cap)
		return -KC_TRY_LATER;
	e->live++;
	return 0;
}

int kc_client_session_begin(struct kc_client_limits *cl, const char *id,
			    uint64_t now_ms)
{
	int ret;

	pthread_mutex_lock(&cl->lock);
	ret = begin_locked(cl, id, now_ms);
	pthread_mutex_unlock(&cl->lock);
	return ret;
}

void kc_client_session_end(struct kc_client_limits *cl, const char *id)
{
	struct client_entry *e;

	pthread_mutex_lock(&cl->lock);
	e = entry_for(cl, id, false);
	if (e && e->live)
		e->live--;
	pthread_mutex_unlock(&cl->lock);
}
