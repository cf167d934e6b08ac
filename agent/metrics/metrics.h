/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metrics thread (docs/OPERATIONS.md "Metrics"): kc-metrics serves
 * DIR/metrics.sock, a unix socket that answers every connection with one
 * stats snapshot in the Prometheus text format and closes it (it never
 * reads what the client sends: read-only). `kcourierd status` reads it.
 * With `metrics_listen` set, the same text is also served over HTTP at
 * /metrics (http.h). Snapshots read per-thread counters and atomics, so
 * serving them never makes a worker wait.
 */
#ifndef KC_METRICS_H
#define KC_METRICS_H

#include <sys/socket.h>
#include <sys/un.h>

#include "metrics/snapshot.h"

struct kc_metrics;

struct kc_metrics_cfg {
	const char *sock_path; /* DIR/metrics.sock */
	/* The HTTP endpoint's address; len 0: none. */
	const struct sockaddr *http_addr;
	socklen_t http_addr_len;
	struct kc_stats_src src;
};

/* The socket's address for path: 0, or -ENAMETOOLONG (sun_path is small). */
int kc_metrics_sockaddr(const char *path, struct sockaddr_un *sa);

/* Binds, listens and starts the thread. 0 or -errno. */
int kc_metrics_start(const struct kc_metrics_cfg *cfg, struct kc_metrics **out);
/* Stops the thread and the endpoint, removes the socket. NULL is ok. */
void kc_metrics_stop(struct kc_metrics *m);

#endif
