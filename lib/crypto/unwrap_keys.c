// SPDX-License-Identifier: GPL-2.0-only
/*
 * A crypto tier's unwrap-key table (unwrap_keys.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/unwrap_keys.h"

/* Handles are kc_handle_t, so no index past INT32_MAX. */
#define MAX_KEYS ((uint32_t)INT32_MAX + 1)

int kc_unwrap_keys_init(struct kc_unwrap_keys *t)
{
	memset(t, 0, sizeof(*t));
	return -pthread_mutex_init(&t->lock, NULL);
}

void kc_unwrap_keys_destroy(struct kc_unwrap_keys *t)
{
	uint32_t i;

	/* The tier is going away: nobody else can hold the lock now. */
	for (i = 0; i < t->cap; i++)
		kc_unwrap_key_free(&t->keys[i]);
	free(t->keys);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

/* Under the lock: the entry of h if it holds a key, else NULL. */
static struct kc_unwrap_key *entry(struct kc_unwrap_keys *t, kc_handle_t h)
{
	if (h < 0 || (uint32_t)h >= t->cap ||
	    !kc_unwrap_key_used(&t->keys[h]))
		return NULL;
	return &t->keys[h];
}

/* Under the lock: a free index, growing the table when it is full. */
static int free_index(struct kc_unwrap_keys *t, uint32_t *out)
{
	struct kc_unwrap_key *keys;
	uint32_t i, cap;

	for (i = 0; i < t->cap; i++) {
		if (!kc_unwrap_key_used(&t->keys[i])) {
			*out = i;
			return 0;
		}
	}
	if (t->cap >= MAX_KEYS)
		return -ENOSPC;
	cap = t->cap ? 2 * t->cap : 4;
	keys = realloc(t->keys, (size_t)cap * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	memset(keys + t->cap, 0, (size_t)(cap - t->cap) * sizeof(*keys));
	t->keys = keys;
	*out = t->cap;
	t->cap = cap;
	return 0;
}

int kc_unwrap_keys_add(struct kc_unwrap_keys *t, key_serial_t ring,
		       const uint8_t *der, size_t len, kc_handle_t *out)
{
	struct kc_unwrap_key key;
	uint32_t idx;
	int ret;

	/* Parsing and add_key first, outside the lock. */
	ret = kc_unwrap_key_load(&key, ring, der, len);
	if (ret)
		return ret;
	pthread_mutex_lock(&t->lock);
	ret = free_index(t, &idx);
	if (!ret)
		t->keys[idx] = key;
	pthread_mutex_unlock(&t->lock);
	if (ret) {
		kc_unwrap_key_free(&key);
		return ret;
	}
	*out = (kc_handle_t)idx;
	return 0;
}

int kc_unwrap_keys_remove(struct kc_unwrap_keys *t, kc_handle_t h)
{
	struct kc_unwrap_key *e, key = { 0 };

	pthread_mutex_lock(&t->lock);
	e = entry(t, h);
	if (e) {
		key = *e;
		memset(e, 0, sizeof(*e));
	}
	pthread_mutex_unlock(&t->lock);
	if (!e)
		return -ENOENT;
	/* Unlinking a kernel key is a syscall: not under the lock. */
	kc_unwrap_key_free(&key);
	return 0;
}

int kc_unwrap_keys_get(struct kc_unwrap_keys *t, kc_handle_t h,
		       struct kc_unwrap_key *copy)
{
	struct kc_unwrap_key *e;
	int ret;

	pthread_mutex_lock(&t->lock);
	e = entry(t, h);
	if (e) {
		ret = kc_unwrap_key_get(e, copy);
	} else {
		memset(copy, 0, sizeof(*copy));
		ret = -ENOENT;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int kc_unwrap_keys_where(struct kc_unwrap_keys *t, kc_handle_t h)
{
	struct kc_unwrap_key *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	e = entry(t, h);
	if (e)
		ret = kc_unwrap_key_where(e);
	pthread_mutex_unlock(&t->lock);
	return ret;
}
