// SPDX-License-Identifier: GPL-2.0-only
/*
 * SO_REUSEPORT listeners: see listener.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

#include "loop/listener.h"

#define BACKLOG 1024

static int set_opt(int fd, int level, int name)
{
	int one = 1;

	return setsockopt(fd, level, name, &one, sizeof(one)) ? -errno : 0;
}

static int configure(int fd, int family)
{
	int err = set_opt(fd, SOL_SOCKET, SO_REUSEADDR);

	if (!err)
		err = set_opt(fd, SOL_SOCKET, SO_REUSEPORT);
	/* "[::]:P" means IPv6 only; IPv4 gets its own listen line. */
	if (!err && family == AF_INET6)
		err = set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	return err;
}

int kc_listener_open(struct sockaddr_storage *addr, socklen_t len)
{
	socklen_t got = len;
	int fd, err;

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = configure(fd, addr->ss_family);
	if (!err && bind(fd, (const struct sockaddr *)addr, len))
		err = -errno;
	if (!err && listen(fd, BACKLOG))
		err = -errno;
	if (!err && getsockname(fd, (struct sockaddr *)addr, &got))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

void kc_listener_format(const struct sockaddr_storage *addr, char *out,
			size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const void *)addr;

		inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(sa->sin6_port));
	} else {
		const struct sockaddr_in *sa = (const void *)addr;

		inet_ntop(AF_INET, &sa->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(sa->sin_port));
	}
}
