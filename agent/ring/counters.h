/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's counters (docs/OPERATIONS.md "Metrics"). Each thread that
 * counts (a worker, the committer) has a block of its own, so a count is
 * a plain add on a line no other thread writes: the workers are never
 * slowed by a reader. The metrics thread sums the blocks (kc_counters_sum)
 * with relaxed loads: a snapshot is exact per counter, not across them.
 *
 * To add a counter, add a row to KC_COUNTERS (its name is the
 * Prometheus metric's, after "kcourier_") and call kc_count() where it
 * happens; it appears in the metrics endpoint, `kcourierd status` and
 * its --json with no other change. Rows with a status label are counted
 * with kc_count_status().
 */
#ifndef KC_COUNTERS_H
#define KC_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/status.h"

/* X(id, name, help) */
#define KC_COUNTERS(X)                                                         \
	X(CONN_ACCEPTED, "connections_accepted_total",                         \
	  "TCP connections accepted")                                          \
	X(CONN_CLOSED, "connections_closed_total", "connections closed")       \
	X(SESSIONS_OPENED, "sessions_opened_total",                            \
	  "agent sessions opened (OPEN_SESSION)")                              \
	X(SESSIONS_ENDED, "sessions_ended_total",                              \
	  "agent sessions ended (expired or closed)")                          \
	X(SENDS, "sends_total", "SEND frames handled")                         \
	X(MSGS_ACCEPTED, "messages_accepted_total",                            \
	  "SENDs past the worker's checks, handed to the committer")           \
	X(DELIVERS, "delivers_total", "DELIVER frames queued to recipients")   \
	X(DELIVEREDS, "delivered_total", "DELIVERED frames received")          \
	X(CRYPTO_OPENS, "crypto_opens_total",                                  \
	  "SEND bodies MAC-checked and decrypted by the crypto tier")          \
	X(CRYPTO_UNWRAPS, "crypto_unwraps_total",                              \
	  "session keys unwrapped (RSA-OAEP) by the crypto tier")              \
	X(KEYRING_QUOTA, "keyring_quota_fallbacks_total",                      \
	  "session keys the kernel keyring refused (EDQUOT)")                  \
	X(COMMIT_ROUNDS, "commit_rounds_total",                                \
	  "message log rounds (one write and one fdatasync each)")             \
	X(COMMIT_FAILED, "commit_failed_rounds_total",                         \
	  "rounds whose write or sync failed")                                 \
	X(COMMIT_MSGS, "commit_messages_total", "messages stored by rounds")   \
	X(COMMIT_BYTES, "commit_bytes_total", "bytes written by rounds")       \
	X(DUPLICATES, "duplicates_total",                                      \
	  "SENDs whose counter was accepted before (OK, not stored again)")    \
	X(REFUSED_CONNS, "connections_refused_total",                          \
	  "connections closed at accept: max_connections or a per-address cap")\
	X(REFUSED_OPENS, "open_sessions_refused_total",                        \
	  "OPEN_SESSIONs refused by the RSA budgets or the session cap")       \
	X(SEND_RATE_LIMITED, "sends_rate_limited_total",                       \
	  "SENDs refused by the sender's send_rate (RATE_LIMITED)")            \
	X(SEND_OVER_QUOTA, "sends_over_quota_total",                           \
	  "SENDs refused by the recipient's queue quota (TRY_LATER)")          \
	X(SEND_STORE_FULL, "sends_store_full_total",                           \
	  "SENDs refused because the store or disk was full (TRY_LATER)")

enum kc_counter {
#define KC_COUNTER_ENUM(id, name, help) KC_CTR_##id,
	KC_COUNTERS(KC_COUNTER_ENUM)
#undef KC_COUNTER_ENUM
		KC_CTR_COUNT
};

/* Statuses of the ACKs sent back, one counter per status. */
#define KC_CTR_STATUSES (KC_STATUS_MAX + 1)
/* log2 buckets of microseconds: bucket i holds [2^(i-1), 2^i) us. */
#define KC_HIST_BUCKETS 32

struct kc_hist {
	_Atomic uint64_t b[KC_HIST_BUCKETS];
	_Atomic uint64_t sum_us;
};

struct kc_counters {
	_Atomic uint64_t v[KC_CTR_COUNT];
	_Atomic uint64_t acked[KC_CTR_STATUSES];
	struct kc_hist fsync;	  /* a round's write and fdatasync */
	struct kc_counters *next; /* all blocks, for the sum */
};

/* The calling thread's block (NULL: not a counting thread). */
extern __thread struct kc_counters *kc_my_counters;

/*
 * Makes the calling thread's block and links it for the sum; it lives as
 * long as the process (a stopped worker's counts still count). 0 or
 * -ENOMEM.
 */
int kc_counters_attach(void);

/* One writer per block: a relaxed load and store, no locked add. */
static inline void kc_counter_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_store_explicit(v,
			      atomic_load_explicit(v, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void kc_count(enum kc_counter id, uint64_t n)
{
	if (kc_my_counters)
		kc_counter_add(&kc_my_counters->v[id], n);
}

static inline void kc_count_status(unsigned int status)
{
	if (kc_my_counters && status < KC_CTR_STATUSES)
		kc_counter_add(&kc_my_counters->acked[status], 1);
}

/* A round's write and sync took us microseconds. */
void kc_count_fsync(uint64_t us);

/* Every block summed into sum (plain numbers: see the top). */
struct kc_counter_sum {
	uint64_t v[KC_CTR_COUNT];
	uint64_t acked[KC_CTR_STATUSES];
	uint64_t fsync[KC_HIST_BUCKETS];
	uint64_t fsync_sum_us;
};
void kc_counters_sum(struct kc_counter_sum *sum);

/* Row id's metric name and help line. */
const char *kc_counter_name(enum kc_counter id);
const char *kc_counter_help(enum kc_counter id);

#endif
