/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What one `kcourierd run` shares (docs/DESIGN.md "Run-time
 * architecture"), filled by cmd_run.c before the workers start. Each
 * layer gets its own part, so no layer needs a type from above it:
 *   loop   the workers and what their connections share (loop/worker.h);
 *   proto  the store, sessions, router and the agent's certificates as
 *          the request layer uses them (proto/context.h, which also has
 *          the locks and their order).
 * The state and the options stay here, with the commands.
 */
#ifndef KC_DAEMON_H
#define KC_DAEMON_H

#include "agentconf/agentconf.h"
#include "crypto/keyring.h"
#include "loop/worker.h"
#include "proto/context.h"
#include "state.h"

struct kc_daemon {
	struct kc_agent_config
		cfg; /* the state's, with command line overrides */
	const char *crypto_tier;
	/* CA (used under store_lock), certificate DER, seal key PKCS#8. */
	struct kc_agent_state *state;
	/* The "kcourier" keyring, purged at start; for the crypto tiers. */
	struct kc_keyring *keyring;

	struct kc_loop loop;
	struct kc_proto proto;
};

#endif
