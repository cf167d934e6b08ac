// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tampering relay of tls_proxy.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tls_echo.h"
#include "lib/tls_proxy.h"

#define RELAY_CHUNK (64 * 1024)

struct relay {
	struct tls_proxy *p;
	int fd[2]; /* [0] the client, [1] the target */
	bool eof[2];
	struct echo_tamper t[2]; /* [0] client to target, [1] back */
};

static int connect_target(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Moves one chunk in direction dir (0: client to target): 0, or stop. */
static int move(struct relay *r, int dir)
{
	static __thread uint8_t buf[RELAY_CHUNK];
	struct echo_tamper *t = &r->t[dir];
	ssize_t n = recv(r->fd[dir], buf, sizeof(buf), 0);

	if (n < 0)
		return -errno;
	if (n == 0) {
		r->eof[dir] = true;
		shutdown(r->fd[!dir], SHUT_WR);
		return r->eof[!dir] ? 1 : 0;
	}
	if (atomic_exchange(&r->p->arm[dir], false))
		t->armed = true;
	echo_tamper_scan(t, buf, (size_t)n);
	if (t->flipped)
		atomic_store(&r->p->flipped[dir], true);
	return send_all(r->fd[!dir], buf, (size_t)n);
}

static void relay_loop(struct relay *r)
{
	struct pollfd pfd[3];
	int i;

	for (;;) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = r->eof[i] ? -1 : r->fd[i];
			pfd[i].events = POLLIN;
		}
		pfd[2].fd = r->p->stop_pipe[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			return;
		if (pfd[2].revents)
			return;
		for (i = 0; i < 2; i++)
			if (pfd[i].revents && move(r, i))
				return;
	}
}

static void *proxy_main(void *arg)
{
	struct relay r = { .p = arg, .fd = { -1, -1 } };

	r.fd[0] = accept4(r.p->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (r.fd[0] >= 0)
		r.fd[1] = connect_target(r.p->target_port);
	if (r.fd[1] >= 0)
		relay_loop(&r);
	for (int i = 0; i < 2; i++)
		if (r.fd[i] >= 0)
			close(r.fd[i]);
	return NULL;
}

int tls_proxy_start(struct tls_proxy *p, int target_port)
{
	memset(p, 0, sizeof(*p));
	p->target_port = target_port;
	if (pipe2(p->stop_pipe, O_CLOEXEC))
		return -errno;
	p->lfd = echo_listen_on(AF_INET, &p->port);
	if (p->lfd < 0)
		goto err_pipe;
	if (pthread_create(&p->thread, NULL, proxy_main, p)) {
		close(p->lfd);
		goto err_pipe;
	}
	p->running = true;
	return 0;
err_pipe:
	close(p->stop_pipe[0]);
	close(p->stop_pipe[1]);
	return p->lfd < 0 ? p->lfd : -EAGAIN;
}

void tls_proxy_arm(struct tls_proxy *p, bool to_target)
{
	atomic_store(&p->arm[to_target ? 0 : 1], true);
}

bool tls_proxy_flipped(struct tls_proxy *p, bool to_target)
{
	return atomic_load(&p->flipped[to_target ? 0 : 1]);
}

void tls_proxy_stop(struct tls_proxy *p)
{
	if (!p->running)
		return;
	shutdown(p->lfd, SHUT_RDWR);
	if (write(p->stop_pipe[1], "x", 1) < 0)
		return; /* cannot happen on a fresh pipe; never join blind */
	pthread_join(p->thread, NULL);
	close(p->lfd);
	close(p->stop_pipe[0]);
	close(p->stop_pipe[1]);
	p->running = false;
}
