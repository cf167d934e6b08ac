/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The request layer as the layers below see it (docs/DESIGN.md "Layers"):
 * kc_proto_ops, the worker ops table cmd_run.c installs in struct
 * kc_loop, with kc_loop.ops_ctx pointing at the run's struct kc_proto
 * (proto/context.h). Through it the loop calls step 3 (notes from other
 * workers) and step 4 (group commit and routing) of each turn, and every
 * connection calls the request handlers, delivery and the router through
 * its struct kc_conn_events.
 */
#ifndef KC_PROTO_H
#define KC_PROTO_H

#include "loop/worker.h"

extern const struct kc_worker_ops kc_proto_ops;

/* The crypto tier's name on a started worker, for the log. */
const char *kc_proto_tier_name(const struct kc_worker *w);

#endif
