// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP side of the metrics, on Debian's libmicrohttpd: see http.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "metrics/http.h"
#include "metrics/prom.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct kc_http {
	struct MHD_Daemon *d;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int code,
			      char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	const struct kc_stats_src *src = cls;
	struct kc_stats s;
	size_t len;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup(""), 0);
	if (strcmp(url, "/metrics"))
		return answer(conn, MHD_HTTP_NOT_FOUND,
			      strdup("try /metrics\n"), 13);
	kc_stats_take(src, &s);
	if (kc_stats_prom(&s, &text, &len))
		return MHD_NO;
	return answer(conn, MHD_HTTP_OK, text, len);
}

int kc_http_start(const struct sockaddr *addr, socklen_t len,
		  const struct kc_stats_src *src, struct kc_http **out)
{
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct kc_http *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, (void *)src,
		MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT, 16u,
		MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!h->d) {
		free(h);
		return errno ? -errno : -EADDRNOTAVAIL;
	}
	(void)len;
	*out = h;
	return 0;
}

void kc_http_stop(struct kc_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
