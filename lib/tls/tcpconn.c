// SPDX-License-Identifier: GPL-2.0-only
/*
 * Outgoing TCP connections with a deadline (see tcpconn.h). connect(2) runs
 * non-blocking under poll(2) so that an address that never answers costs
 * the remaining budget, not the kernel's minutes of SYN retries; the socket
 * goes back to blocking mode once connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "tls/tcpconn.h"

#define HOST_MAX 256
#define PORT_MAX 6

uint64_t kc_deadline(unsigned int timeout_ms)
{
	return timeout_ms ? kc_mono_ms() + timeout_ms : 0;
}

long kc_ms_left(uint64_t deadline)
{
	uint64_t now;

	if (!deadline)
		return 0;
	now = kc_mono_ms();
	if (now >= deadline)
		return -1;
	return (long)(deadline - now);
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
	if (!len || len >= cap)
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* "[v6]:port" keeps its brackets off the host; a bare v6 is ambiguous. */
static int split_addr(const char *addr, char host[HOST_MAX],
		      char port[PORT_MAX])
{
	const char *colon, *end;
	size_t i;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end || end[1] != ':' ||
		    copy_part(host, HOST_MAX, addr + 1, end - addr - 1))
			return -EINVAL;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', colon - addr) ||
		    copy_part(host, HOST_MAX, addr, colon - addr))
			return -EINVAL;
	}
	if (copy_part(port, PORT_MAX, colon + 1, strlen(colon + 1)))
		return -EINVAL;
	for (i = 0; port[i]; i++)
		if (port[i] < '0' || port[i] > '9')
			return -EINVAL;
	if (port[0] == '0' || strtoul(port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static int wait_connected(int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	long left;
	int ret, err = 0;

	do {
		left = kc_ms_left(deadline);
		if (left < 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, deadline ? (int)left : -1);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
	int fd, ret, one = 1;

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	ret = connect(fd, ai->ai_addr, ai->ai_addrlen) ? -errno : 0;
	if (ret == -EINPROGRESS)
		ret = wait_connected(fd, deadline);
	if (!ret && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		ret = -errno;
	if (!ret && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int kc_tcp_connect(const char *addr_port, uint64_t deadline, char *why,
		   size_t why_len)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *list = NULL, *ai;
	char host[HOST_MAX], port[PORT_MAX];
	int ret;

	if (!addr_port || split_addr(addr_port, host, port)) {
		snprintf(why, why_len,
			 "bad address '%s': want HOST:PORT or "
			 "[IPV6]:PORT",
			 addr_port ? addr_port : "");
		return -EINVAL;
	}
	ret = getaddrinfo(host, port, &hints, &list);
	if (ret) {
		snprintf(why, why_len, "cannot resolve '%s': %s", host,
			 gai_strerror(ret));
		return -ENXIO;
	}
	ret = -EHOSTUNREACH;
	for (ai = list; ai; ai = ai->ai_next) {
		ret = connect_one(ai, deadline);
		if (ret >= 0 || kc_ms_left(deadline) < 0)
			break;
	}
	freeaddrinfo(list);
	if (ret < 0)
		snprintf(why, why_len, "connect to %s: %s", addr_port,
			 strerror(-ret));
	return ret;
}
