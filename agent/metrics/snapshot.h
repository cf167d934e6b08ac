/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One snapshot of everything the agent counts (docs/OPERATIONS.md
 * "Metrics"): the counter blocks of every thread summed (ring/counters.h)
 * and the gauges read where they live. The metrics endpoint, `kcourierd
 * status` and its --json all print this one struct, through the tables
 * of prom.c, so a new counter is a row in KC_COUNTERS and a new gauge a
 * field here and a row there.
 */
#ifndef KC_METRICS_SNAPSHOT_H
#define KC_METRICS_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "proto/committer.h"
#include "ring/counters.h"

struct kc_committer;

/* Where the gauges are read; filled by cmd_run.c, read-only after. */
struct kc_stats_src {
	const atomic_uint *nconns; /* open connections, all workers */
	const atomic_ulong
		*bad_keys; /* OPEN_SESSION keys that did not unwrap */
	struct kc_committer *committer;
	const char *crypto_tier;
	int32_t keyring; /* the "kcourier" keyring's serial, or 0 */
	unsigned int workers;
	uint64_t start_ms; /* monotonic */
};

struct kc_stats {
	struct kc_counter_sum c;
	uint64_t connections_open;
	uint64_t sessions_live;
	unsigned long conn_ktls, conn_gnutls; /* record layer chosen so far */
	unsigned long bad_keys;
	struct kc_committer_log log;
	int64_t keyring_keys;		     /* -1: no keyring or unreadable */
	uint32_t probe_every, probe_setting; /* in force; the knob (0: auto) */
	double uptime_s;
	const char *crypto_tier;
	unsigned int workers;
};

void kc_stats_take(const struct kc_stats_src *src, struct kc_stats *s);

#endif
