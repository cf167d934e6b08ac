// SPDX-License-Identifier: GPL-2.0-only
/*
 * mosq-idle: N idle MQTT clients on mutual TLS 1.3 and what they cost
 * mosquitto, measured as kcourier-load --idle measures the agent
 * (tools/loadkit/idlekit.h: the same steps, the same /proc reading). Each
 * client does what a real idle subscriber has done by then: the TLS
 * handshake with its certificate, MQTT CONNECT with a client id of its own
 * (one id twice would make mosquitto drop the older connection) and the
 * CONNACK; then nothing until it closes.
 *
 * OpenSSL directly rather than libmosquitto: libmosquitto gives every
 * client a heap of buffers and state of its own, and the driver needs only
 * a socket and a TLS session per connection, 10,000 of them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/opts.h"
#include "idlekit.h"

#define PROG "mosq-idle"
#define CLIENT_ID_MAX 32

struct mosq_idle {
	const char *host, *ca, *cert, *key;
	unsigned int port, count, threads;
	double hold_s;
	int broker_pid;
	SSL_CTX *ctx;
	SSL **ssl;
};

/* Mutual TLS 1.3 as the broker is configured (bench/peers/peers.sh). */
static int make_ctx(struct mosq_idle *m)
{
	m->ctx = SSL_CTX_new(TLS_client_method());
	if (!m->ctx ||
	    !SSL_CTX_set_min_proto_version(m->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(m->ctx, m->ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(m->ctx, m->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(m->ctx, m->key, SSL_FILETYPE_PEM) != 1)
		return -EINVAL;
	SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(m->ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

static int tcp_connect(const struct mosq_idle *m)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)m->port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, m->host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* MQTT 3.1.1 CONNECT (section 3.1): clean session, keep-alive off. */
static size_t mqtt_connect(uint8_t *p, size_t i)
{
	char id[CLIENT_ID_MAX];
	int n = snprintf(id, sizeof(id), "idle-%zu", i);
	size_t len = 0;

	p[len++] = 0x10;
	p[len++] = (uint8_t)(10 + 2 + n);
	memcpy(p + len, "\0\4MQTT\4\2\0\0", 10);
	len += 10;
	p[len++] = 0;
	p[len++] = (uint8_t)n;
	memcpy(p + len, id, (size_t)n);
	return len + (size_t)n;
}

/* CONNACK with return code 0: 0x20 0x02 flags 0x00. */
static int await_connack(SSL *ssl)
{
	uint8_t ack[4];
	int got = 0, n;

	while (got < (int)sizeof(ack)) {
		n = SSL_read(ssl, ack + got, (int)sizeof(ack) - got);
		if (n <= 0)
			return -ECONNRESET;
		got += n;
	}
	return ack[0] == 0x20 && ack[1] == 2 && ack[3] == 0 ? 0 : -EACCES;
}

static int open_one(void *arg, size_t i)
{
	struct mosq_idle *m = arg;
	uint8_t pkt[64];
	size_t len = mqtt_connect(pkt, i);
	int fd = tcp_connect(m);
	SSL *ssl;

	if (fd < 0)
		return fd;
	ssl = SSL_new(m->ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, pkt, (int)len) != (int)len || await_connack(ssl)) {
		SSL_free(ssl);
		close(fd);
		return -EPROTO;
	}
	m->ssl[i] = ssl;
	return 0;
}

static void close_one(void *arg, size_t i)
{
	struct mosq_idle *m = arg;
	int fd = SSL_get_fd(m->ssl[i]);

	SSL_free(m->ssl[i]);
	close(fd);
	m->ssl[i] = NULL;
}

static int parse(int argc, char **argv, struct mosq_idle *m)
{
	const struct kc_opt rows[] = {
		{ .name = "host", KC_OPT_STRING(&m->host), .metavar = "IPV4",
		  .help = "where mosquitto listens (127.0.0.1)" },
		{ .name = "port", KC_OPT_UINT(&m->port), .metavar = "PORT",
		  .min = 1, .max = 65535, .help = "its TLS port" },
		{ .name = "ca", KC_OPT_STRING(&m->ca), .metavar = "FILE",
		  .help = "the CA that signed the broker, PEM" },
		{ .name = "cert", KC_OPT_STRING(&m->cert), .metavar = "FILE",
		  .help = "the client certificate, PEM" },
		{ .name = "key", KC_OPT_STRING(&m->key), .metavar = "FILE",
		  .help = "its key, PEM" },
		{ .name = "count", KC_OPT_UINT(&m->count), .metavar = "N",
		  .min = 1, .max = 1000000, .help = "idle clients (10000)" },
		{ .name = "threads", KC_OPT_UINT(&m->threads), .metavar = "N",
		  .min = 1, .max = 64, .help = "threads opening them (4)" },
		{ .name = "hold", KC_OPT_REAL(&m->hold_s), .metavar = "S",
		  .min = 0, .max = 86400, .unit = "seconds",
		  .help = "time to hold them all open" },
		{ .name = "broker-pid", KC_OPT_UINT(&m->broker_pid),
		  .metavar = "PID", .min = 1, .max = 4194304,
		  .help = "mosquitto's pid, whose memory is read" },
	};
	const struct kc_opts spec = {
		.prog = PROG,
		.synopsis = "--port P --ca F --cert F --key F [options]",
		.description = "Opens idle MQTT clients on mutual TLS and "
			       "prints mosquitto's memory as they open, as "
			       "one JSON line.",
		KC_OPTS_TABLE(rows),
		.error_exit = 2,
	};
	int rc;

	m->host = "127.0.0.1";
	m->count = 10000;
	m->threads = 4;
	if (!kc_opts_parse(&spec, argc, argv, &rc))
		return rc;
	if (!m->port || !m->ca || !m->cert || !m->key)
		return kc_opts_fail(&spec, "--port, --ca, --cert and --key "
					   "are required");
	return -1;
}

int main(int argc, char **argv)
{
	static struct mosq_idle m;
	struct idle_ops ops = { open_one, close_one, &m };
	struct idle_run r = { .settle_s = 0.5 };
	int ret = parse(argc, argv, &m);

	if (ret >= 0)
		return ret;
	if (idle_raise_nofile(m.count))
		kc_cmd_err(PROG, "cannot raise the open-file limit to %u",
			   m.count);
	m.ssl = calloc(m.count, sizeof(*m.ssl));
	if (!m.ssl || make_ctx(&m)) {
		kc_cmd_err(PROG, "cannot set up TLS: %s",
			   ERR_reason_error_string(ERR_get_error()));
		return 1;
	}
	r.target = m.count;
	r.threads = m.threads;
	r.server_pid = m.broker_pid;
	r.hold_s = m.hold_s;
	ret = idle_run(&r, &ops);
	if (idle_print_json(stdout, PROG, "mosquitto", &r))
		return 1;
	SSL_CTX_free(m.ctx);
	free(m.ssl);
	return ret ? 3 : 0;
}
