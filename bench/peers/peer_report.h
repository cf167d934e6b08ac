/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a driver prints at the end of a run: one kc_report
 * (tools/loadkit/report.h) made from the pairs of a struct peer_run, as
 * JSON (--json) or as a summary for people.
 */
#ifndef KC_PEER_REPORT_H
#define KC_PEER_REPORT_H

#include <stdbool.h>

#include "peer_run.h"

/*
 * Prints the report once the driver's connections are closed. has_ack:
 * the broker acknowledges publishes. Returns the exit status: 0, or 3
 * when the report counts errors (lost, duplicate, unacked, ...).
 */
int peer_run_report(struct peer_run *run, const char *tool, const char *target,
		    const char *durability, bool has_ack);

#endif
