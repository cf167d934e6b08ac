// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per source address limits: see addr_limits.h.
 *
 * The addresses are the peers' choice, so they are kept in glibc's
 * balanced tree (tsearch), not in an unkeyed hash table a peer could
 * fill one chain of.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/token_bucket.h"
#include "conn/addr_limits.h"

struct kc_addr_entry {
	uint8_t key[17]; /* family byte, then 4 or 16 address bytes */
	uint32_t nconns;
	struct kc_bucket handshakes;
};

struct kc_addr_limits {
	pthread_mutex_t lock;
	void *root;
	size_t n;
	uint32_t max_conns;
	struct kc_bucket_rate rate;
};

int kc_addr_limits_create(const struct kc_agent_config *cfg,
			  struct kc_addr_limits **out)
{
	struct kc_addr_limits *al = calloc(1, sizeof(*al));

	if (!al)
		return -ENOMEM;
	pthread_mutex_init(&al->lock, NULL);
	al->max_conns = cfg->max_conns_per_addr;
	al->rate.rate = cfg->handshakes_per_addr;
	al->rate.burst = 2 * cfg->handshakes_per_addr;
	*out = al;
	return 0;
}

void kc_addr_limits_destroy(struct kc_addr_limits *al)
{
	if (!al)
		return;
	tdestroy(al->root, free);
	pthread_mutex_destroy(&al->lock);
	free(al);
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const struct kc_addr_entry *)a)->key,
		      ((const struct kc_addr_entry *)b)->key,
		      sizeof(((const struct kc_addr_entry *)a)->key));
}

/* The peer's address as a key; a v4-mapped v6 address is its v4 one. */
static int peer_key(int fd, uint8_t key[17])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	memset(key, 0, 17);
	if (ss.ss_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		key[0] = 4;
		memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
	} else if (ss.ss_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, s6->sin6_addr.s6_addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

static struct kc_addr_entry *entry_for(struct kc_addr_limits *al,
				       const uint8_t key[17])
{
	struct kc_addr_entry *e = calloc(1, sizeof(*e)), **found;

	if (!e)
		return NULL;
	memcpy(e->key, key, sizeof(e->key));
	found = tsearch(e, &al->root, cmp_entry);
	if (!found) {
		free(e);
		return NULL;
	}
	if (*found != e)
		free(e); /* the address had an entry */
	else
		al->n++;
	return *found;
}

static int admit_locked(struct kc_addr_limits *al, const uint8_t key[17],
			uint64_t now_ms, struct kc_addr_entry **slot)
{
	struct kc_addr_entry *e = entry_for(al, key);

	if (!e)
		return -ENOMEM;
	if (e->nconns >= al->max_conns)
		return -EMFILE;
	if (!kc_bucket_take(&e->handshakes, &al->rate, now_ms))
		return -EAGAIN;
	e->nconns++;
	*slot = e;
	return 0;
}

int kc_addr_admit(struct kc_addr_limits *al, int fd, uint64_t now_ms,
		  struct kc_addr_entry **slot)
{
	uint8_t key[17];
	int ret = peer_key(fd, key);

	if (ret)
		return ret;
	pthread_mutex_lock(&al->lock);
	ret = admit_locked(al, key, now_ms, slot);
	pthread_mutex_unlock(&al->lock);
	return ret;
}

void kc_addr_release(struct kc_addr_limits *al, struct kc_addr_entry *slot)
{
	pthread_mutex_lock(&al->lock);
	if (slot->nconns)
		slot->nconns--;
	pthread_mutex_unlock(&al->lock);
}

struct sweep {
	struct kc_addr_entry **v;
	size_t n, cap;
	const struct kc_bucket_rate *rate;
	uint64_t now_ms;
};

static void collect(const void *node, VISIT which, void *arg)
{
	struct kc_addr_entry *e = *(struct kc_addr_entry *const *)node;
	struct sweep *sw = arg;

	if (which != postorder && which != leaf)
		return;
	if (!e->nconns &&
	    kc_bucket_full(&e->handshakes, sw->rate, sw->now_ms) &&
	    sw->n < sw->cap)
		sw->v[sw->n++] = e;
}

void kc_addr_limits_prune(struct kc_addr_limits *al, uint64_t now_ms)
{
	struct sweep sw = { .rate = &al->rate, .now_ms = now_ms };

	pthread_mutex_lock(&al->lock);
	sw.v = calloc(al->n ? al->n : 1, sizeof(*sw.v));
	sw.cap = sw.v ? al->n : 0;
	twalk_r(al->root, collect, &sw);
	for (size_t i = 0; i < sw.n; i++) {
		tdelete(sw.v[i], &al->root, cmp_entry);
		free(sw.v[i]);
		al->n--;
	}
	pthread_mutex_unlock(&al->lock);
	free(sw.v);
}
