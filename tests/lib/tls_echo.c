// SPDX-License-Identifier: GPL-2.0-only
/*
 * The echoing agent end for the transport tests: see tls_echo.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../agent/conn/tls_ktls.h"
#include "tls/ktls.h"
#include "lib/tls_echo.h"

#define CHUNK (64 * 1024)
#define ECHO_HIGH (1024 * 1024) /* pending output that pauses reading */

/* PKI */

int echo_pki_make(struct echo_pki *p, const char *client_cn)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = testpki_make_ca(&p->ca, "kcourier test CA");
	if (!ret)
		ret = testpki_make_server(&p->server, &p->ca, "kcourierd");
	if (!ret && client_cn)
		ret = testpki_make_client(&p->client, &p->ca, client_cn);
	if (!ret)
		ret = testpki_pin(&p->ca.der, p->pin);
	return ret;
}

void echo_pki_free(struct echo_pki *p)
{
	testpki_free(&p->client);
	testpki_free(&p->server);
	testpki_free(&p->ca);
}

struct kc_tls_blob echo_blob(const gnutls_datum_t *d)
{
	return (struct kc_tls_blob){ d->data, d->size };
}

int echo_server_new(const struct testpki_cert *leaf,
		    const struct testpki_cert *ca, size_t out_max,
		    struct kc_tls_server **srv)
{
	struct kc_tls_server_cfg cfg = {
		.cert = echo_blob(&leaf->der),
		.ca = echo_blob(&ca->der),
		.key_pkcs8 = echo_blob(&leaf->key_der),
		.out_max = out_max,
	};

	return kc_tls_server_new(&cfg, srv);
}

/* Tampering */

void echo_tamper_scan(struct echo_tamper *t, uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (t->body_left) {
			if (t->body_start && t->armed) {
				p[i] ^= 0x01;
				t->armed = false;
				t->flipped = true;
			}
			t->body_start = false;
			k = n - i < t->body_left ? n - i : t->body_left;
			i += k;
			t->body_left -= k;
			continue;
		}
		t->hdr[t->hdr_got++] = p[i++];
		if (t->hdr_got == sizeof(t->hdr)) {
			t->body_left = (size_t)t->hdr[3] << 8 | t->hdr[4];
			t->hdr_got = 0;
			t->body_start = true;
		}
	}
}

/* One connection */

struct echo_conn {
	struct echo_agent *a;
	int fd;
	struct kc_tls_conn *c;
	struct echo_tamper t;
	bool open;
	bool ktls_on;
};

static size_t pending(struct kc_tls_conn *c)
{
	const uint8_t *p;
	size_t n;

	kc_tls_pending_output(c, &p, &n);
	return n;
}

/* Sends what the socket takes now; with wait, everything (or an error). */
static void flush(int fd, struct kc_tls_conn *c, bool wait)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	const uint8_t *p;
	ssize_t n;
	size_t len;

	for (;;) {
		kc_tls_pending_output(c, &p, &len);
		if (!len)
			return;
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			kc_tls_consume_output(c, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EAGAIN && wait && poll(&pfd, 1, -1) > 0)
			continue;
		return;
	}
}

static void note_reason(struct echo_agent *a, struct kc_tls_conn *c)
{
	snprintf(a->reason, sizeof(a->reason), "%s", kc_tls_reason(c));
}

/* close_notify: from the engine, or under kTLS after what is queued. */
static void say_bye(struct echo_conn *ec)
{
	if (kc_tls_bye(ec->c) != -EOPNOTSUPP)
		return;
	flush(ec->fd, ec->c, true);
	kc_ktls_send_alert(ec->fd, KC_TLS_ALERT_WARNING,
			   KC_TLS_ALERT_CLOSE_NOTIFY, 0);
}

/* Switches once, when asked and at a record boundary with nothing queued. */
static void maybe_ktls(struct echo_conn *ec)
{
	struct echo_agent *a = ec->a;
	int ret;

	if (!a->ktls || a->ktls_rc != 1 || !ec->open ||
	    a->echoed < a->ktls_after || pending(ec->c))
		return;
	ret = kc_tls_start_ktls(ec->c, ec->fd);
	if (ret == -EBUSY)
		return;
	a->ktls_rc = ret;
	ec->ktls_on = !ret;
}

static void greet(struct echo_conn *ec)
{
	struct echo_agent *a = ec->a;
	char line[ECHO_LINE_MAX];
	int n;

	a->hs_rc = 0;
	a->peer_rc = kc_tls_peer(ec->c, a->peer_id);
	note_reason(a, ec->c);
	snprintf(a->cipher, sizeof(a->cipher), "%s", kc_tls_cipher(ec->c));
	n = snprintf(line, sizeof(line), "peer:%d:%s\n", a->peer_rc,
		     a->peer_id);
	kc_tls_write(ec->c, (const uint8_t *)line, (size_t)n);
	if (a->bye_after_greeting)
		say_bye(ec);
	ec->t.armed = a->tamper;
}

/* Echoes plaintext until none is left: 0 go on, 1 peer closed, < 0 error. */
static int echo(struct echo_conn *ec)
{
	static __thread uint8_t buf[CHUNK];
	struct echo_agent *a = ec->a;
	ssize_t n, w;

	while (pending(ec->c) <= ECHO_HIGH) {
		n = kc_tls_read(ec->c, buf, sizeof(buf));
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			a->read_rc = (int)n;
			note_reason(a, ec->c);
			if (n == 0)
				say_bye(ec);
			return n ? (int)n : 1;
		}
		w = kc_tls_write(ec->c, buf, (size_t)n);
		if (w < 0)
			return a->read_rc = (int)w;
		a->echoed += (size_t)n;
	}
	return 0;
}

/* One step of the handshake or the echo: 0 go on, otherwise stop. */
static int advance(struct echo_conn *ec)
{
	struct echo_agent *a = ec->a;
	int ret;

	if (!ec->open) {
		ret = kc_tls_handshake_step(ec->c);
		if (ret == -EAGAIN)
			return 0;
		if (ret) {
			a->hs_rc = ret;
			note_reason(a, ec->c);
			return ret;
		}
		ec->open = true;
		maybe_ktls(ec);
		greet(ec);
	}
	return a->bye_after_greeting ? 0 : echo(ec);
}

/* Under kTLS: a control record ends the connection, data is fed. */
static int take_ktls_input(struct echo_conn *ec, uint8_t *buf, size_t cap)
{
	struct echo_agent *a = ec->a;
	uint8_t type;
	ssize_t n = kc_ktls_recv(ec->fd, buf, cap, 0, &type);

	if (n < 0)
		a->read_rc = (int)n;
	if (n <= 0)
		return 1;
	if (type == KC_TLS_CT_ALERT) {
		bool clean = n == 2 && buf[1] == KC_TLS_ALERT_CLOSE_NOTIFY;

		a->read_rc = clean ? 0 : -ECONNABORTED;
		if (clean)
			say_bye(ec);
		return 1;
	}
	if (type != KC_TLS_CT_APPDATA) {
		a->read_rc = -EPROTO;
		return 1;
	}
	return kc_tls_feed(ec->c, buf, (size_t)n) ? 1 : 0;
}

/* Reads one chunk from the socket into the engine: 0, or 1 to stop. */
static int take_input(struct echo_conn *ec)
{
	static __thread uint8_t buf[CHUNK];
	ssize_t n;

	if (ec->ktls_on)
		return take_ktls_input(ec, buf, sizeof(buf));
	n = recv(ec->fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 1;
	echo_tamper_scan(&ec->t, buf, (size_t)n);
	ec->a->flipped = ec->t.flipped;
	return kc_tls_feed(ec->c, buf, (size_t)n) ? 1 : 0;
}

static void serve(struct echo_agent *a, int fd)
{
	struct echo_conn ec = { .a = a, .fd = fd };
	struct pollfd pfd = { .fd = fd };

	a->hs_rc = a->peer_rc = -EAGAIN;
	a->read_rc = 1;
	a->echoed = 0;
	a->ktls_rc = 1;
	if (kc_tls_conn_new(a->srv, &ec.c))
		return;
	for (;;) {
		pfd.events = pending(ec.c) > ECHO_HIGH ? 0 : POLLIN;
		pfd.events |= pending(ec.c) ? POLLOUT : 0;
		if (poll(&pfd, 1, -1) < 0)
			break;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    take_input(&ec))
			break;
		if (advance(&ec))
			break;
		flush(fd, ec.c, false);
		maybe_ktls(&ec);
	}
	flush(fd, ec.c, true);
	kc_tls_conn_free(ec.c);
}

static void *agent_main(void *arg)
{
	struct echo_agent *a = arg;
	int i, fd;

	for (i = 0; i < a->nconns; i++) {
		fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		serve(a, fd);
		close(fd);
	}
	return NULL;
}

int echo_listen_on(int family, int *port)
{
	struct sockaddr_storage ss = { .ss_family = family };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = family == AF_INET ? sizeof(*sin) : sizeof(*sin6);
	int fd;

	if (family == AF_INET)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		sin6->sin6_addr = in6addr_loopback;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -errno;
	}
	*port = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return fd;
}

int echo_agent_start(struct echo_agent *a, int family)
{
	a->lfd = echo_listen_on(family, &a->port);
	if (a->lfd < 0)
		return a->lfd;
	if (!a->nconns)
		a->nconns = 1;
	if (pthread_create(&a->thread, NULL, agent_main, a)) {
		close(a->lfd);
		return -EAGAIN;
	}
	a->running = true;
	return 0;
}

void echo_agent_stop(struct echo_agent *a)
{
	if (!a->running)
		return;
	shutdown(a->lfd, SHUT_RDWR);
	pthread_join(a->thread, NULL);
	close(a->lfd);
	a->running = false;
}

/* The client end */

int echo_connect(int port, const char *pin, const struct testpki_cert *cert,
		 const struct kc_tls_client_opts *base,
		 struct kc_tls_client **out)
{
	struct kc_bytes chain[1];
	struct kc_tls_client_cred cred = { .chain = chain, .chain_len = 1 };
	struct kc_tls_client_opts opts = *base;
	char addr[64];

	if (cert) {
		chain[0] = (struct kc_bytes){ cert->der.data, cert->der.size };
		cred.key_pkcs8 = (struct kc_bytes){ cert->key_der.data,
						    cert->key_der.size };
		opts.cred = &cred;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	return kc_tls_client_connect_opts(addr, pin, &opts, out);
}

int echo_client_connect(const struct echo_agent *a, const char *pin,
			const struct testpki_cert *cert, const char *cipher,
			struct kc_tls_client **out)
{
	struct kc_tls_client_opts opts = { .cipher = cipher };

	return echo_connect(a->port, pin, cert, &opts, out);
}

int echo_read_line(struct kc_tls_client *c, char *line, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap) {
		n = kc_tls_client_recv(c, line + len, 1, 0);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	return (int)len;
}

int echo_recv_all(struct kc_tls_client *c, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = kc_tls_client_recv(c, p, len, 0);
		if (n <= 0)
			return n ? (int)n : -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
