// SPDX-License-Identifier: GPL-2.0-only
/*
 * mosq-load: the benchmark's load against mosquitto 2.0 over MQTT 3.1.1,
 * QoS 1 both ways, clean sessions, mutual TLS 1.3.
 *
 * Pair i is a publisher and a subscriber connection on topic kc/bench/i.
 * One thread drives all of them: libmosquitto's external loop
 * (mosquitto_loop_read/write/misc on each socket, mosquitto_want_write)
 * under the drivers' event loop (peer_loop.h); no libmosquitto thread is
 * started. The publisher's window is its unacknowledged QoS 1 publishes;
 * PUBACK arrives in on_publish with the message id, which peer_run
 * matches to the send. The subscriber's on_message measures
 * send-to-deliver latency and feeds the ledger. See bench/peers/README.md
 * for what is measured.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/ssl.h>

#include "peer_cli.h"
#include "peer_loop.h"
#include "peer_report.h"
#include "peer_run.h"

#define TOOL "mosq-load"
#define KEEPALIVE_S 60
/* 64 TLS handshakes on a busy 2-core machine take a few seconds. */
#define SETUP_TIMEOUT_NS (30 * 1000000000ull)
/* mosquitto_loop_misc (keepalive) at least this often. */
#define MISC_EVERY_NS 1000000000ull
/* Reads per readiness before the loop serves the other sockets. */
#define READS_PER_TURN 8
/* What one write may carry: the records of one loop turn. */
#define OUT_BUFFER (64 * 1024)

/*
 * What a PUBACK promises with bench/peers/peers.sh's mosquitto.conf, as
 * mosquitto.conf(5) says and strace showed: no file access while messages
 * flow; a snapshot (write, fsync, rename of mosquitto.db) only on the
 * autosave timer, SIGUSR1 or exit. A snapshot taken mid-run held the
 * queued messages but no record of the clean-session subscribers.
 */
static const char durability[] =
	"PUBACK when the message is in broker memory; persistence snapshots "
	"memory to mosquitto.db (fsync) every autosave_interval (1800 s) and "
	"at exit, nothing per message; the clean-session subscribers are not "
	"in the snapshot, so queued messages do not survive a restart";

static const char *const schemes[] = { "mqtts", "ssl", NULL };

static const struct peer_tool tool = {
	.name = TOOL,
	.schemes = schemes,
	.modes = NULL,
	.about = "Load for mosquitto: QoS 1 publish and subscribe over mutual TLS 1.3,\n"
		 "one publisher and one subscriber connection per pair (topic kc/bench/N),\n"
		 "all driven by one thread. Reports send-to-PUBACK and send-to-delivery\n"
		 "latency, and checks every message for loss, duplication and order.",
};

/* One connection: the loop's handle and the library's client. */
struct client {
	struct peer_loop_io io;
	struct peer_loop *loop;
	struct mosquitto *m;
	void *obj;	/* the peer_sender or peer_receiver it serves */
	bool tls_tuned; /* tune_tls() done */
};

/* Setup: publishers' CONNACKs and subscribers' SUBACKs, counted. */
static struct {
	unsigned int ready, failed;
	bool active;
	char why[256];
} setup;

static void setup_note(bool ok, const char *why)
{
	if (!setup.active)
		return;
	if (ok) {
		setup.ready++;
		return;
	}
	setup.failed++;
	if (!setup.why[0])
		snprintf(setup.why, sizeof(setup.why), "%s", why);
}

/* libmosquitto says why a TLS handshake failed only in its log. */
static void on_log(struct mosquitto *m, void *obj, int level, const char *s)
{
	if (level == MOSQ_LOG_ERR)
		setup_note(false, s);
}

static struct peer_run *run_of(const struct client *c, bool publisher)
{
	return publisher ? ((struct peer_sender *)c->obj)->run
			 : ((struct peer_receiver *)c->obj)->run;
}

static void pub_on_connect(struct mosquitto *m, void *obj, int rc)
{
	setup_note(rc == 0, mosquitto_connack_string(rc));
}

/* Subscribing on every CONNACK: a clean session forgets subscriptions. */
static void sub_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct client *c = obj;
	struct peer_receiver *r = c->obj;

	if (rc) {
		setup_note(false, mosquitto_connack_string(rc));
		return;
	}
	rc = mosquitto_subscribe(m, NULL, r->subject, 1);
	if (rc)
		setup_note(false, mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n,
			 const int *granted)
{
	setup_note(n == 1 && granted[0] == 1,
		   "the broker refused a QoS 1 subscription");
}

static void count_disconnect(struct peer_run *run, int rc)
{
	if (rc && !__atomic_load_n(&run->stopping, __ATOMIC_RELAXED))
		peer_error(run, PEER_ERR_DISCONNECT);
}

static void pub_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	count_disconnect(run_of(obj, true), rc);
}

static void sub_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	count_disconnect(run_of(obj, false), rc);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	struct client *c = obj;

	peer_sender_acked_key(c->obj, (uint32_t)mid);
}

static void on_message(struct mosquitto *m, void *obj,
		       const struct mosquitto_message *msg)
{
	struct client *c = obj;

	peer_deliver(c->obj, msg->payload, (size_t)msg->payloadlen);
}

/* Queued only (mosquitto_threaded_set): the loop writes it this turn. */
static int mosq_send(struct peer_sender *s, const void *buf, size_t len,
		     uint32_t *key)
{
	struct client *c = s->conn;
	int mid = 0;

	if (mosquitto_publish(c->m, &mid, s->subject, (int)len, buf, 1, false))
		return -EIO;
	*key = (uint32_t)mid;
	peer_loop_want_write(c->loop, &c->io, true);
	return 0;
}

/*
 * Once the handshake is over, the client side of TLS is made cheaper
 * without changing a byte the broker sees: a buffer between TLS and the
 * socket, so the records of one turn leave in one write(); read-ahead,
 * so one read() takes every record that waits; and buffers kept instead
 * of freed after each record (libmosquitto asks for
 * SSL_MODE_RELEASE_BUFFERS).
 */
static void tune_tls(struct client *c)
{
	SSL *ssl = mosquitto_ssl_get(c->m);
	BIO *sock, *buf;

	if (c->tls_tuned || !ssl || !SSL_is_init_finished(ssl))
		return;
	c->tls_tuned = true;
	SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_set_read_ahead(ssl, 1);
	sock = SSL_get_wbio(ssl);
	buf = BIO_new(BIO_f_buffer());
	if (!buf || BIO_set_write_buffer_size(buf, OUT_BUFFER) <= 0 ||
	    !BIO_up_ref(sock)) {
		BIO_free(buf);
		return;
	}
	SSL_set0_wbio(ssl, BIO_push(buf, sock));
}

/* Whatever TLS holds that epoll cannot see: input and unsent output. */
static bool tls_has_input(struct mosquitto *m)
{
	SSL *ssl = mosquitto_ssl_get(m);

	return ssl && SSL_has_pending(ssl);
}

static bool tls_has_output(struct mosquitto *m)
{
	SSL *ssl = mosquitto_ssl_get(m);

	return ssl && BIO_wpending(SSL_get_wbio(ssl)) > 0;
}

/*
 * mosquitto_loop_read() reads at least one packet, and stops early when
 * errno says EAGAIN; a callback may leave a stale EAGAIN behind (the
 * library's own wake-up write to a full socketpair), so it is called
 * again while it may have more. Read-ahead input it leaves in TLS is
 * flagged to the loop as pending.
 */
static int read_some(struct client *c)
{
	unsigned int i;
	int rc = MOSQ_ERR_SUCCESS;

	for (i = 0; i < READS_PER_TURN; i++) {
		errno = 0;
		rc = mosquitto_loop_read(c->m, 1);
		if (rc || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
	}
	tune_tls(c);
	return rc;
}

/*
 * The queued packets into TLS, then TLS's buffer onto the socket. The
 * TLS session is looked up after the write: a DISCONNECT ends it.
 */
static int write_out(struct client *c)
{
	SSL *ssl;
	int rc;

	rc = mosquitto_loop_write(c->m, 1);
	ssl = mosquitto_ssl_get(c->m);
	if (!rc && ssl && BIO_flush(SSL_get_wbio(ssl)) <= 0 &&
	    !BIO_should_retry(SSL_get_wbio(ssl)))
		rc = MOSQ_ERR_CONN_LOST;
	return rc;
}

/* The loop's callback; a lost connection leaves the loop for good. */
static void serve(struct peer_loop_io *io, unsigned int events)
{
	struct client *c = (struct client *)io;
	int rc = MOSQ_ERR_SUCCESS;

	if (events & PEER_IO_READ)
		rc = read_some(c);
	if (!rc && (events & PEER_IO_WRITE))
		rc = write_out(c);
	if (rc || mosquitto_socket(c->m) < 0) {
		peer_loop_remove(c->loop, io);
		return;
	}
	peer_loop_want_write(c->loop, io,
			     mosquitto_want_write(c->m) ||
				     tls_has_output(c->m));
	peer_loop_pending(io, tls_has_input(c->m));
}

static int configure(struct mosquitto *m, const struct peer_opts *o)
{
	int rc;

	mosquitto_log_callback_set(m, on_log);
	/*
	 * In 2.0 its one effect: a packet is only ever queued, never
	 * written on the spot, so the loop writes a turn's packets at once.
	 */
	rc = mosquitto_threaded_set(m, true);
	/* Small QoS 1 frames must not wait for Nagle on loopback. */
	if (!rc)
		rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if (!rc)
		rc = mosquitto_max_inflight_messages_set(m, o->window);
	if (!rc)
		rc = mosquitto_tls_set(m, o->ca, NULL, o->cert, o->key, NULL);
	if (!rc)
		rc = mosquitto_tls_opts_set(m, SSL_VERIFY_PEER, "tlsv1.3",
					    NULL);
	return rc;
}

/* With what the library logged, e.g. the TLS alert behind a failure. */
static void report_mosq_error(const char *what, unsigned int pair, int rc)
{
	const char *text =
		rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);

	fprintf(stderr, "%s: %s %u: %s%s%s\n", TOOL, what, pair, text,
		setup.why[0] ? "; " : "", setup.why);
}

/* A configured client, not yet connected: callbacks go on next. */
static int client_new(struct client *c, const char *role, unsigned int pair,
		      const struct peer_opts *o)
{
	char id[64];
	int rc;

	snprintf(id, sizeof(id), "kcbench-%s-%u-%d", role, pair, (int)getpid());
	c->m = mosquitto_new(id, true, c);
	if (!c->m) {
		fprintf(stderr, "%s: %s %u: %s\n", TOOL, role, pair,
			strerror(errno));
		return -ENOMEM;
	}
	rc = configure(c->m, o);
	if (rc) {
		report_mosq_error("TLS or client options", pair, rc);
		return -EINVAL;
	}
	return 0;
}

/*
 * TCP connects here; the TLS handshake and the CONNACK are the loop's
 * (the socket is non-blocking from now on), so the callbacks must
 * already be in place.
 */
static int client_connect(struct client *c, const char *role, unsigned int pair,
			  const struct peer_opts *o)
{
	int rc, err;

	rc = mosquitto_connect(c->m, o->host, (int)o->port, KEEPALIVE_S);
	if (rc) {
		report_mosq_error(role, pair, rc);
		return -EIO;
	}
	err = peer_loop_add(c->loop, &c->io, mosquitto_socket(c->m), serve);
	if (err) {
		fprintf(stderr, "%s: %s %u: %s\n", TOOL, role, pair,
			strerror(-err));
		return err;
	}
	peer_loop_want_write(c->loop, &c->io, mosquitto_want_write(c->m));
	return 0;
}

static int open_subscriber(struct client *c, struct peer_receiver *r,
			   const struct peer_opts *o)
{
	int err;

	c->obj = r;
	r->conn = c;
	err = client_new(c, "sub", r->pair, o);
	if (err)
		return err;
	mosquitto_connect_callback_set(c->m, sub_on_connect);
	mosquitto_subscribe_callback_set(c->m, on_subscribe);
	mosquitto_disconnect_callback_set(c->m, sub_on_disconnect);
	mosquitto_message_callback_set(c->m, on_message);
	return client_connect(c, "subscriber", r->pair, o);
}

static int open_publisher(struct client *c, struct peer_sender *s,
			  const struct peer_opts *o)
{
	int err;

	c->obj = s;
	s->conn = c;
	err = client_new(c, "pub", s->pair, o);
	if (err)
		return err;
	mosquitto_connect_callback_set(c->m, pub_on_connect);
	mosquitto_disconnect_callback_set(c->m, pub_on_disconnect);
	mosquitto_publish_callback_set(c->m, on_publish);
	return client_connect(c, "publisher", s->pair, o);
}

/* Subscribers first: nothing is published before every SUBACK anyway. */
static int open_all(struct peer_run *run, struct client *clients)
{
	const struct peer_opts *o = run->opts;
	unsigned int i, n = o->pairs;
	int err;

	for (i = 0; i < n; i++) {
		err = open_subscriber(&clients[i], &run->receivers[i], o);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		err = open_publisher(&clients[n + i], &run->senders[i], o);
		if (err)
			return err;
	}
	return 0;
}

/* The keepalive of every client; its PINGREQ is queued for the loop. */
static void loop_misc(struct client *clients, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!clients[i].io.active)
			continue;
		mosquitto_loop_misc(clients[i].m);
		if (mosquitto_want_write(clients[i].m))
			peer_loop_want_write(clients[i].loop, &clients[i].io,
					     true);
	}
}

/*
 * Turns the loop until every CONNACK and SUBACK is in, or one fails.
 * The log callback is for setup errors only: with one set, libmosquitto
 * formats a debug line for every packet.
 */
static int wait_ready(struct peer_loop *loop, struct client *clients,
		      unsigned int want)
{
	uint64_t deadline = kc_mono_ns() + SETUP_TIMEOUT_NS;
	unsigned int i;

	while (!setup.failed && setup.ready < want && kc_mono_ns() < deadline)
		peer_loop_turn(loop, kc_mono_ns() + MISC_EVERY_NS);
	setup.active = false;
	for (i = 0; i < want; i++)
		mosquitto_log_callback_set(clients[i].m, NULL);
	if (setup.failed) {
		fprintf(stderr, "%s: connection setup failed: %s\n", TOOL,
			setup.why);
		return -EIO;
	}
	if (setup.ready < want) {
		fprintf(stderr,
			"%s: only %u of %u connections and subscriptions ready "
			"after %llu s%s%s\n",
			TOOL, setup.ready, want,
			SETUP_TIMEOUT_NS / 1000000000ull,
			setup.why[0] ? "; last error: " : "", setup.why);
		return -ETIMEDOUT;
	}
	return 0;
}

static void drive(struct peer_run *run, struct peer_loop *loop,
		  struct client *clients)
{
	uint64_t next_misc = 0, now, deadline;

	peer_run_start(run);
	while (!peer_run_done(run)) {
		deadline = peer_run_step(run);
		now = kc_mono_ns();
		if (now >= next_misc) {
			loop_misc(clients, 2 * run->opts->pairs);
			next_misc = now + MISC_EVERY_NS;
		}
		peer_loop_turn(loop,
			       deadline < next_misc ? deadline : next_misc);
	}
}

/* DISCONNECT is queued like every packet: written here, loop or none. */
static void close_all(struct peer_run *run, struct peer_loop *loop,
		      struct client *clients)
{
	unsigned int i;

	if (!clients)
		return;
	__atomic_store_n(&run->stopping, true, __ATOMIC_RELAXED);
	for (i = 0; i < 2 * run->opts->pairs; i++) {
		if (!clients[i].m)
			continue;
		peer_loop_remove(loop, &clients[i].io);
		if (!mosquitto_disconnect(clients[i].m))
			write_out(&clients[i]);
		mosquitto_destroy(clients[i].m);
		clients[i].m = NULL;
	}
}

static int run_load(struct peer_run *run, struct peer_loop *loop,
		    struct client *clients)
{
	unsigned int i;
	int err;

	for (i = 0; i < 2 * run->opts->pairs; i++)
		clients[i].loop = loop;
	setup.active = true;
	err = open_all(run, clients);
	/* Each publisher's CONNACK, each subscriber's SUBACK. */
	if (!err)
		err = wait_ready(loop, clients, 2 * run->opts->pairs);
	if (err)
		return err;
	drive(run, loop, clients);
	return 0;
}

int main(int argc, char **argv)
{
	struct peer_loop loop = { .epfd = -1, .wakefd = -1 };
	struct client *clients = NULL;
	struct peer_opts o;
	struct peer_run run;
	int status = 1, err;

	err = peer_parse_args(&tool, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	/* A broker that goes away must fail a write, not kill the tool. */
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	err = peer_run_init(&run, &o, mosq_send, "kc/bench/%u");
	if (!err)
		err = peer_loop_init(&loop, 2 * o.pairs);
	clients = calloc(2 * o.pairs, sizeof(*clients));
	if (err || !clients) {
		fprintf(stderr, "%s: %s\n", TOOL,
			strerror(err ? -err : ENOMEM));
		goto out;
	}
	if (run_load(&run, &loop, clients))
		goto out;
	close_all(&run, &loop, clients);
	status =
		peer_run_report(&run, TOOL, "mosquitto-qos1", durability, true);
out:
	close_all(&run, &loop, clients);
	free(clients);
	peer_loop_free(&loop);
	peer_run_free(&run);
	mosquitto_lib_cleanup();
	return status;
}
