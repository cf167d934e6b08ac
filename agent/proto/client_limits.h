/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OPEN_SESSION's limits for each client, all its connections and workers
 * together (docs/OPERATIONS.md "Limits and hardening", PROTOCOL.md
 * section 4): every OPEN_SESSION is one RSA private operation on a
 * worker, so each takes a token from the client's bucket (open_rate_client
 * a second, burst four times that) whatever comes of it, and a client has
 * at most `session_cap` live sessions (max_sessions_per_client, held
 * lower under the afalg tier so that one client cannot take the keyring
 * quota: key_quota.h).
 *
 * Registered clients only reach here, so entries are never removed: one
 * small record per registered client that opened a session. Thread-safe:
 * one mutex; ids are the peers' choice, so a balanced tree keeps them.
 */
#ifndef KC_CLIENT_LIMITS_H
#define KC_CLIENT_LIMITS_H

#include <stdint.h>

#include "agentconf/agentconf.h"

struct kc_client_limits;

int kc_client_limits_create(const struct kc_agent_config *cfg,
			    uint32_t session_cap,
			    struct kc_client_limits **out);
void kc_client_limits_destroy(struct kc_client_limits *cl);
uint32_t kc_client_limits_session_cap(const struct kc_client_limits *cl);

/*
 * An OPEN_SESSION of client id: 0 when it may go on (it counts as a live
 * session until kc_client_session_end), else a negated status:
 * -KC_RATE_LIMITED (no token), -KC_TRY_LATER (at its session cap),
 * -KC_INTERNAL (no memory).
 */
int kc_client_session_begin(struct kc_client_limits *cl, const char *id,
			    uint64_t now_ms);
/* A session counted by kc_client_session_begin has ended (or failed). */
void kc_client_session_end(struct kc_client_limits *cl, const char *id);

#endif
