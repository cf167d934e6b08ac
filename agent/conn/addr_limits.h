/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per source address limits, all workers together (docs/OPERATIONS.md
 * "Limits and hardening"): at most max_conns_per_addr open connections
 * from one address, and at most handshakes_per_addr new ones a second
 * (a token bucket, burst twice that), so one host can neither take every
 * connection slot nor keep the workers busy with TLS handshakes.
 *
 * An IPv4-mapped IPv6 address counts as its IPv4 address. Entries live
 * while the address has connections, or until its bucket is full again
 * (kc_addr_limits_prune), so closing connections does not reset a rate.
 * Thread-safe: one mutex.
 */
#ifndef KC_ADDR_LIMITS_H
#define KC_ADDR_LIMITS_H

#include <stdint.h>

#include "agentconf/agentconf.h"

struct kc_addr_limits;
struct kc_addr_entry;

int kc_addr_limits_create(const struct kc_agent_config *cfg,
			  struct kc_addr_limits **out);
void kc_addr_limits_destroy(struct kc_addr_limits *al);

/*
 * Counts a new connection on fd against its peer's address: 0 and its
 * entry in *slot (for kc_addr_release), -EMFILE (too many connections
 * from there), -EAGAIN (too many new ones a second), -ENOMEM, or -errno
 * of getpeername.
 */
int kc_addr_admit(struct kc_addr_limits *al, int fd, uint64_t now_ms,
		  struct kc_addr_entry **slot);
/* The connection admitted with slot has closed. */
void kc_addr_release(struct kc_addr_limits *al, struct kc_addr_entry *slot);
/* Forgets addresses with no connection and a full bucket. */
void kc_addr_limits_prune(struct kc_addr_limits *al, uint64_t now_ms);

#endif
