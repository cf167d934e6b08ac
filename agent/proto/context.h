/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The request layer's state at its three scopes:
 *   struct kc_proto         what every worker shares (one per run), filled
 *                           by cmd_run.c before the workers start and
 *                           read-only afterwards, except where a lock is
 *                           named: store (store_lock), sids (its own
 *                           mutex, sessions.c), router (its own mutex,
 *                           router.c), committer (its own queue lock,
 *                           committer.c). Lock order: store_lock, then
 *                           router, then a worker's inbox.
 *   struct kc_proto_worker  one worker's (its crypto tier instance, its
 *                           groups, read connection to the store), the
 *                           loop's w->upper and each connection's
 *                           kc_conn_upper();
 *   struct kc_peer          one connection's, in its slot's private area
 *                           (kc_conn_priv).
 * What the request layer needs of the agent's state and CA comes in here
 * as plain bytes and one callback, so nothing below the commands depends
 * on agent/state.h or agent/pki.h.
 */
#ifndef KC_PROTO_CONTEXT_H
#define KC_PROTO_CONTEXT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "agentconf/agentconf.h"
#include "conn/conn.h"
#include "crypto/keyring.h"
#include "loop/worker.h"
#include "proto/commit.h"
#include "proto/sessions.h"

struct kc_committer;
struct kc_store;
struct kc_store_reader;
struct kc_router;

/* Signs the client certificate of REGISTER (DER into *der, gnutls_free). */
typedef int kc_issue_client_fn(void *ctx, const char *id, const uint8_t *spki,
			       size_t spki_len, gnutls_datum_t *der);

struct kc_proto {
	const struct kc_agent_config *cfg; /* with command line overrides */
	const char *crypto_tier;
	/* The "kcourier" keyring, purged at start; for the crypto tiers. */
	struct kc_keyring *keyring;
	/*
	 * The agent's certificates, for REGISTERED and SEAL; after a seal
	 * key rotation the current seal certificate is seal_now's
	 * (seal_rotate.h: kc_seal_cert).
	 */
	gnutls_datum_t ca_der, seal_der;
	struct kc_seal_cert *_Atomic seal_now;
	uint64_t seal_retire_ms; /* 0: no old seal key to retire */
	/* The seal key's PKCS#8, read by each worker's init, then wiped. */
	const uint8_t *seal_pkcs8;
	size_t seal_pkcs8_len;
	/* The agent CA (agent/pki.c), called under store_lock. */
	kc_issue_client_fn *issue_client;
	void *issuer;

	struct kc_store *store; /* the directory: clients, tokens, receipts */
	pthread_mutex_t store_lock;
	struct kc_committer *committer; /* owns the message log */

	struct kc_sid_set *sids;
	/* OPEN_SESSION budgets and session caps per client. */
	struct kc_client_limits *client_limits;
	struct kc_router *router;
	/* OPEN_SESSION keys that did not unwrap (sessions.h), for stats. */
	atomic_ulong bad_keys;
};

struct kc_proto_worker {
	struct kc_worker *w;
	struct kc_proto *p;
	struct kc_crypto *crypto;
	struct kc_keyring keyring; /* this worker's handle on "kcourier" */
	struct kc_session_ctx sctx;
	/* This turn's group, filled by the handlers (commit.h). */
	struct kc_commit *batch;
	/*
	 * Groups back from the committer (its thread pushes, under
	 * done_lock), groups to reuse, and how many are out: the worker
	 * does not stop while the committer holds one of its groups.
	 */
	pthread_mutex_t done_lock;
	struct kc_commit *done;
	struct kc_commit *spare;
	unsigned int out;
	uint64_t groups; /* made current so far: each group's gen */
	/* SEND's recipient check, without store_lock; NULL: via p->store. */
	struct kc_store_reader *reader;
	uint8_t *scratch; /* SEND plaintext, max_frame bytes, wiped after use */
	size_t scratch_len;
	uint64_t next_prune_ms;
	uint64_t next_sync_ms; /* the reader's next look for changes */
	uint64_t probe_n; /* messages acknowledged, for the probes' sampling */
};

struct kc_peer {
	bool authed;		/* c->id is a registered, unrevoked client */
	bool in_presence;	/* registered with the router */
	bool catching_up;	/* the stored queue is not fully loaded yet */
	bool load_pending;	/* a queue load is asked for (delivery.h) */
	uint64_t delivered_upto; /* highest queue position sent as DELIVER */
	uint64_t held_gen; /* the group its newest hold waits for */
	struct kc_conn_sessions sessions;
};

static inline struct kc_peer *kc_peer(struct kc_conn *c)
{
	return kc_conn_priv(c);
}

static inline struct kc_proto_worker *kc_pw(const struct kc_conn *c)
{
	return kc_conn_upper(c);
}

/* Sets w->upper: scratch, read connection, crypto tier. 0 or -errno. */
int kc_proto_worker_init(struct kc_worker *w);
/*
 * The committer gives a group back to its worker (any thread), waking
 * the worker through `from`, the caller's ring.
 */
void kc_proto_worker_give_back(struct kc_commit *b, struct kc_ring *from);
/* Accepts a partly made (or no) w->upper. */
void kc_proto_worker_fini(struct kc_worker *w);

#endif
