// SPDX-License-Identifier: GPL-2.0-only
/*
 * A client's kTLS socket as a byte stream (see ktls.h): what GnuTLS's
 * record layer did for it before the keys went into the kernel, minus the
 * cryptography: record types, alerts, timeouts.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tls/ktls.h"
#include "tls/tcpconn.h"

/* One full TLS record of plaintext (RFC 8446 5.1: 2^14 bytes). */
#define STREAM_BUF (16u * 1024)

int kc_ktls_stream_init(struct kc_ktls_stream *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->buf = malloc(STREAM_BUF);
	return s->buf ? 0 : -ENOMEM;
}

void kc_ktls_stream_fini(struct kc_ktls_stream *s)
{
	if (s->buf)
		explicit_bzero(s->buf, STREAM_BUF);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static ssize_t end_with(struct kc_ktls_stream *s, int end)
{
	s->ended = true;
	s->end = end;
	return end;
}

/*
 * RFC 8446 6.1: close_notify ends the stream cleanly; user_canceled is
 * followed by it and so is passed over; any other alert is the end.
 */
static ssize_t on_alert(struct kc_ktls_stream *s, ssize_t n)
{
	if (n != 2)
		return end_with(s, -EPROTO);
	s->alert = s->buf[1];
	if (s->alert == KC_TLS_ALERT_CLOSE_NOTIFY)
		return end_with(s, 0);
	if (s->buf[0] == KC_TLS_ALERT_WARNING &&
	    s->alert == GNUTLS_A_USER_CANCELED)
		return -EAGAIN;
	return end_with(s, -ECONNABORTED);
}

/* One record's worth into buf: > 0, -EAGAIN for "nothing yet", or end. */
static ssize_t fill_once(struct kc_ktls_stream *s)
{
	uint8_t type;
	ssize_t n;

	n = kc_ktls_recv(s->fd, s->buf, STREAM_BUF, MSG_DONTWAIT, &type);
	if (n == -EAGAIN || n == -EINTR)
		return -EAGAIN;
	if (n == 0)
		return end_with(s, -ECONNRESET);
	if (n < 0)
		return end_with(s, (int)n);
	if (type == KC_TLS_CT_ALERT)
		return on_alert(s, n);
	if (type != KC_TLS_CT_APPDATA)
		return end_with(s, -EPROTO);
	s->off = 0;
	s->len = (size_t)n;
	return n;
}

static int wait_readable(int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long left = kc_ms_left(deadline);
	int n;

	if (left < 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, deadline ? (int)left : -1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return 0;
}

ssize_t kc_ktls_stream_recv(struct kc_ktls_stream *s, void *p, size_t cap,
			    uint64_t deadline)
{
	ssize_t n;

	while (!s->len) {
		if (s->ended)
			return s->end;
		n = fill_once(s);
		if (n != -EAGAIN)
			continue;
		n = wait_readable(s->fd, deadline);
		if (n)
			return n;
	}
	n = (ssize_t)(cap < s->len ? cap : s->len);
	memcpy(p, s->buf + s->off, (size_t)n);
	s->off += (size_t)n;
	s->len -= (size_t)n;
	return n;
}

int kc_ktls_stream_send(struct kc_ktls_stream *s, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len) {
		n = send(s->fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t kc_ktls_stream_pending(const struct kc_ktls_stream *s)
{
	return s->len;
}
