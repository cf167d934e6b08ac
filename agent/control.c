// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: see control.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agentconf/statedir.h"
#include "control.h"
#include "ring/ratelog.h"

/* A local peer that connects and says nothing must not hold the agent. */
#define PEER_TIMEOUT_MS 1000

static int control_addr(const char *dir, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir,
		     KC_STATE_CONTROL);
	return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

/* A socket for DIR's control address, in sa: fd or -errno. */
static int control_socket(const char *dir, struct sockaddr_un *sa)
{
	int fd, ret = control_addr(dir, sa);

	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int kcd_control_listen(const char *dir)
{
	struct sockaddr_un sa;
	mode_t old;
	int ret, fd = control_socket(dir, &sa);

	if (fd < 0)
		return fd;
	unlink(sa.sun_path); /* a killed agent's socket */
	/* Created 0600 from the start: no moment where others could connect. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!ret)
		ret = listen(fd, 8);
	if (ret) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

void kcd_control_close(const char *dir, int fd)
{
	struct sockaddr_un sa;

	if (fd < 0)
		return;
	if (!control_addr(dir, &sa))
		unlink(sa.sun_path);
	close(fd);
}

static void set_timeout(int fd)
{
	struct timeval tv = { 0, PEER_TIMEOUT_MS * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* One line, "\n" cut; -EPROTO for none within the cap. */
static int read_line(int fd, char *line, size_t cap)
{
	size_t len = 0;
	ssize_t got;

	while (len + 1 < cap) {
		got = recv(fd, line + len, cap - 1 - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EPROTO;
		len += (size_t)got;
		line[len] = '\0';
		if (strchr(line, '\n')) {
			*strchr(line, '\n') = '\0';
			return 0;
		}
	}
	return -EPROTO;
}

static int send_line(int fd, const char *text)
{
	char line[KCD_CONTROL_LINE_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -EIO;
}

/* Root or our own uid; the 0600 file already says so, this makes sure. */
static bool peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return false;
	return cred->uid == 0 || cred->uid == geteuid();
}

int kcd_control_serve_one(int lfd, kcd_control_fn *handle, void *ctx)
{
	char request[KCD_CONTROL_LINE_MAX], reply[KCD_CONTROL_LINE_MAX];
	struct ucred cred;
	int fd, ret;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	set_timeout(fd);
	if (!peer_allowed(fd, &cred)) {
		kc_log("control: refused a peer of uid %u (pid %d)",
		       (unsigned int)cred.uid, (int)cred.pid);
		send_line(fd, "error not allowed");
		close(fd);
		return -EPERM;
	}
	ret = read_line(fd, request, sizeof(request));
	if (!ret) {
		snprintf(reply, sizeof(reply), "error unknown request");
		handle(ctx, request, reply, sizeof(reply));
		ret = send_line(fd, reply);
	}
	explicit_bzero(request, sizeof(request));
	close(fd);
	return ret;
}

int kcd_control_ask(const char *dir, const char *request, char *reply,
		    size_t cap)
{
	struct sockaddr_un sa;
	int ret, fd = control_socket(dir, &sa);

	if (fd < 0)
		return fd;
	set_timeout(fd);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	if (!ret)
		ret = send_line(fd, request);
	if (!ret)
		ret = read_line(fd, reply, cap);
	close(fd);
	return ret;
}
