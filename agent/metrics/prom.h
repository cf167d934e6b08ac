/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A stats snapshot in the Prometheus text exposition format (version
 * 0.0.4): every metric named kcourier_*, with its HELP and TYPE lines.
 * The same text goes to the HTTP endpoint and to DIR/metrics.sock, which
 * `kcourierd status` reads.
 */
#ifndef KC_METRICS_PROM_H
#define KC_METRICS_PROM_H

#include <stddef.h>

#include "metrics/snapshot.h"

/* The text in a malloc'ed buffer (*len bytes). 0 or -ENOMEM. */
int kc_stats_prom(const struct kc_stats *s, char **text, size_t *len);

#endif
