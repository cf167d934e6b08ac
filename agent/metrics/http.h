/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus endpoint over HTTP (`metrics_listen` in kcourierd.conf,
 * off by default): GET /metrics answers the stats snapshot in the text
 * format. libmicrohttpd serves it from a thread of its own (its internal
 * polling thread), so no worker ever parses HTTP or waits for a scrape.
 */
#ifndef KC_METRICS_HTTP_H
#define KC_METRICS_HTTP_H

#include <sys/socket.h>

#include "metrics/snapshot.h"

struct kc_http;

/* src must outlive the endpoint. 0 or -errno. */
int kc_http_start(const struct sockaddr *addr, socklen_t len,
		  const struct kc_stats_src *src, struct kc_http **out);
/* NULL is ok. */
void kc_http_stop(struct kc_http *h);

#endif
