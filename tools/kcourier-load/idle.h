/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KC_LOAD_IDLE_H
#define KC_LOAD_IDLE_H

#include "identity.h"
#include "load.h"

/*
 * --idle N: N mutual-TLS connections as client `me`, each authenticated
 * and answered one PING, opened in steps (tools/loadkit/idlekit.h) with
 * the agent's resident memory read after each (--agent-pid), then held
 * for --duration seconds and closed. Prints one JSON line. 0 when every
 * connection was served, 3 when some were not, -1 after a message.
 */
int idle_conns_run(const struct load_opts *o, const struct load_identity *me);

#endif
