// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics thread and its unix socket: see metrics.h. A blocking
 * accept loop with poll on the socket and an eventfd for stop: ordinary
 * syscalls only (the workers' seccomp list does not cover this thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "metrics/http.h"
#include "metrics/metrics.h"
#include "metrics/prom.h"

/* A client that does not take its snapshot within this is dropped. */
#define SEND_TIMEOUT_S 2

struct kc_metrics {
	struct kc_stats_src src;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd, stop_fd;
	pthread_t thread;
	struct kc_http *http;
};

int kc_metrics_sockaddr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	ret = kc_metrics_sockaddr(path, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a socket left by a killed run */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (!ret)
		ret = chmod(path, 0660);
	if (!ret)
		ret = listen(fd, 16);
	if (ret) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0 && errno != EINTR)
			return;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
}

static void serve_one(struct kc_metrics *m, int fd)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct kc_stats s;
	size_t len;
	char *text;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	kc_stats_take(&m->src, &s);
	if (!kc_stats_prom(&s, &text, &len)) {
		write_all(fd, text, len);
		free(text);
	}
	close(fd);
}

static void *metrics_main(void *arg)
{
	struct kc_metrics *m = arg;
	struct pollfd p[2] = { { m->fd, POLLIN, 0 },
			       { m->stop_fd, POLLIN, 0 } };

	pthread_setname_np(pthread_self(), "kc-metrics");
	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve_one(m, fd);
	}
	return NULL;
}

static void free_metrics(struct kc_metrics *m)
{
	if (m->fd >= 0) {
		close(m->fd);
		unlink(m->path);
	}
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	kc_http_stop(m->http);
	free(m);
}

static int open_all(struct kc_metrics *m, const struct kc_metrics_cfg *cfg)
{
	int ret;

	m->fd = listen_unix(cfg->sock_path);
	if (m->fd < 0)
		return m->fd;
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0)
		return -errno;
	if (!cfg->http_addr_len)
		return 0;
	ret = kc_http_start(cfg->http_addr, cfg->http_addr_len, &m->src,
			    &m->http);
	return ret;
}

int kc_metrics_start(const struct kc_metrics_cfg *cfg, struct kc_metrics **out)
{
	struct kc_metrics *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->src = cfg->src;
	m->fd = m->stop_fd = -1;
	snprintf(m->path, sizeof(m->path), "%s", cfg->sock_path);
	ret = open_all(m, cfg);
	if (!ret)
		ret = -pthread_create(&m->thread, NULL, metrics_main, m);
	if (ret) {
		free_metrics(m);
		return ret;
	}
	*out = m;
	return 0;
}

void kc_metrics_stop(struct kc_metrics *m)
{
	uint64_t one = 1;

	if (!m)
		return;
	if (write(m->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(m->thread, NULL);
	free_metrics(m);
}
