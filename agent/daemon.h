/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every worker of one `kcourierd run` shares (docs/DESIGN.md
 * "Run-time architecture"). Filled by cmd_run.c before the workers start
 * and read-only afterwards, except where a lock is named:
 *   store       the store (store/store.h); every call under store_lock, which
 *               is also held while committed messages are routed, so
 *               notifications leave in seq (= ACK) order;
 *   sids        its own mutex (sessions.c);
 *   router      its own mutex (router.c);
 *   nconns      atomic.
 * Lock order: store_lock, then router, then a worker's inbox.
 */
#ifndef KC_DAEMON_H
#define KC_DAEMON_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agentconf/agentconf.h"
#include "state.h"
#include "tls.h"
#include "base/clock.h"

struct kc_keyring;
struct kc_store;
struct kc_sid_set;
struct kc_router;
struct kc_worker;

struct kc_daemon {
	struct kc_agent_config
		cfg; /* the state's, with command line overrides */
	const char *crypto_tier;
	/* CA (used under store_lock), certificate DER, seal key PKCS#8. */
	struct kc_agent_state *state;

	struct kc_store *store;
	pthread_mutex_t store_lock;

	struct kc_sid_set *sids;
	struct kc_router *router;
	struct kc_tls_server *tls;
	/* The "kcourier" keyring, purged at start; for the crypto tiers. */
	struct kc_keyring *keyring;

	struct kc_worker **workers;
	unsigned int nworkers;
	atomic_uint nconns;
};


#endif
