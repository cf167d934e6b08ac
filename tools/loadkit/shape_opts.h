/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rows of an option table (base/opts.h) that every load tool spells the
 * same way, so kcourier-load and the broker drivers (bench/peers/) time
 * and pace a run alike: --rate, --duration and --warmup.
 */
#ifndef KC_LOADKIT_SHAPE_OPTS_H
#define KC_LOADKIT_SHAPE_OPTS_H

#include "base/opts.h"

/* Total messages per second, open loop; 0: closed loop. */
#define LOADKIT_OPT_RATE(p)                                              \
	{ .name = "rate", KC_OPT_REAL(p), .metavar = "R", .min = 0,      \
	  .max = 1e9, .unit = "msgs/s",                                  \
	  .help = "total msgs/s, open loop, latency counting from the "  \
		  "intended send time; 0 for a closed loop" }

#define LOADKIT_OPT_DURATION(p)                                          \
	{ .name = "duration", KC_OPT_REAL(p), .metavar = "S", .min = 0.1, \
	  .max = 86400, .unit = "seconds", .help = "measured time" }

#define LOADKIT_OPT_WARMUP(p)                                            \
	{ .name = "warmup", KC_OPT_REAL(p), .metavar = "S", .min = 0,    \
	  .max = 86400, .unit = "seconds", .help = "time before measuring" }

#endif
