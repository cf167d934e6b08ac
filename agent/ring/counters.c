// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-thread counter blocks and their sum: see counters.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "ring/counters.h"

__thread struct kc_counters *kc_my_counters;

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kc_counters *blocks;

static const char *const names[] = {
#define KC_COUNTER_NAME(id, name, help) name,
	KC_COUNTERS(KC_COUNTER_NAME)
#undef KC_COUNTER_NAME
};

static const char *const helps[] = {
#define KC_COUNTER_HELP(id, name, help) help,
	KC_COUNTERS(KC_COUNTER_HELP)
#undef KC_COUNTER_HELP
};

int kc_counters_attach(void)
{
	struct kc_counters *c;

	if (kc_my_counters)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&blocks_lock);
	c->next = blocks;
	blocks = c;
	pthread_mutex_unlock(&blocks_lock);
	kc_my_counters = c;
	return 0;
}

static unsigned int bucket_of(uint64_t us)
{
	unsigned int i = 0;

	while (us && i < KC_HIST_BUCKETS - 1) {
		us >>= 1;
		i++;
	}
	return i;
}

void kc_count_fsync(uint64_t us)
{
	struct kc_counters *c = kc_my_counters;

	if (!c)
		return;
	kc_counter_add(&c->fsync.b[bucket_of(us)], 1);
	kc_counter_add(&c->fsync.sum_us, us);
}

static uint64_t get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void add_block(struct kc_counter_sum *sum, struct kc_counters *c)
{
	for (int i = 0; i < KC_CTR_COUNT; i++)
		sum->v[i] += get(&c->v[i]);
	for (int i = 0; i < KC_CTR_STATUSES; i++)
		sum->acked[i] += get(&c->acked[i]);
	for (int i = 0; i < KC_HIST_BUCKETS; i++)
		sum->fsync[i] += get(&c->fsync.b[i]);
	sum->fsync_sum_us += get(&c->fsync.sum_us);
}

void kc_counters_sum(struct kc_counter_sum *sum)
{
	*sum = (struct kc_counter_sum){ 0 };
	pthread_mutex_lock(&blocks_lock);
	for (struct kc_counters *c = blocks; c; c = c->next)
		add_block(sum, c);
	pthread_mutex_unlock(&blocks_lock);
}

const char *kc_counter_name(enum kc_counter id)
{
	return names[id];
}

const char *kc_counter_help(enum kc_counter id)
{
	return helps[id];
}
