// SPDX-License-Identifier: GPL-2.0-only
/*
 * mosq-load: the benchmark's load against mosquitto 2.0 over MQTT 3.1.1,
 * QoS 1 both ways, clean sessions, mutual TLS 1.3.
 *
 * Pair i is a publisher and a subscriber connection on topic kc/bench/i,
 * each with libmosquitto's own network thread (mosquitto_loop_start).
 * The publisher's window is its unacknowledged QoS 1 publishes; PUBACK
 * arrives in on_publish with the message id, which peer_run matches to
 * the send. The subscriber's on_message measures send-to-deliver latency
 * and feeds the ledger. See bench/peers/README.md for what is measured.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "peer_cli.h"
#include "peer_run.h"

#define TOOL "mosq-load"
#define KEEPALIVE_S 60
/* 64 TLS handshakes on a busy 2-core machine take a few seconds. */
#define SETUP_TIMEOUT_S 30
/* openssl's SSL_VERIFY_PEER, without pulling in its headers. */
#define VERIFY_PEER 1

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
		 "one publisher and one subscriber connection per pair (topic kc/bench/N).\n"
		 "Reports send-to-PUBACK and send-to-delivery latency, and checks every\n"
		 "message for loss, duplication and order.",
};

/* Setup: publishers' CONNACKs and subscribers' SUBACKs, counted. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int ready, failed;
	bool active;
	char why[256];
} setup = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void setup_note(bool ok, const char *why)
{
	pthread_mutex_lock(&setup.lock);
	if (setup.active) {
		if (ok) {
			setup.ready++;
		} else {
			setup.failed++;
			if (!setup.why[0])
				snprintf(setup.why, sizeof(setup.why), "%s",
					 why);
		}
		pthread_cond_broadcast(&setup.cond);
	}
	pthread_mutex_unlock(&setup.lock);
}

/*
 * libmosquitto says why a TLS handshake failed only in its log, and its
 * network thread would retry forever: during setup an error is final.
 */
static void on_log(struct mosquitto *m, void *obj, int level, const char *s)
{
	if (level == MOSQ_LOG_ERR)
		setup_note(false, s);
}

static void pub_on_connect(struct mosquitto *m, void *obj, int rc)
{
	setup_note(rc == 0, mosquitto_connack_string(rc));
}

/* Subscribing on every CONNACK: a clean session forgets subscriptions. */
static void sub_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct peer_receiver *r = obj;

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

static void pub_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct peer_sender *s = obj;

	if (rc && !__atomic_load_n(&s->run->stopping, __ATOMIC_RELAXED))
		peer_error(s->run, PEER_ERR_DISCONNECT);
}

static void sub_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct peer_receiver *r = obj;

	if (rc && !__atomic_load_n(&r->run->stopping, __ATOMIC_RELAXED))
		peer_error(r->run, PEER_ERR_DISCONNECT);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	peer_sender_acked_key(obj, (uint32_t)mid);
}

static void on_message(struct mosquitto *m, void *obj,
		       const struct mosquitto_message *msg)
{
	peer_deliver(obj, msg->payload, (size_t)msg->payloadlen);
}

static int mosq_send(struct peer_sender *s, const void *buf, size_t len,
		     uint32_t *key)
{
	int mid = 0;

	if (mosquitto_publish(s->conn, &mid, s->subject, (int)len, buf, 1,
			      false))
		return -EIO;
	*key = (uint32_t)mid;
	return 0;
}

static int configure(struct mosquitto *m, const struct peer_opts *o)
{
	int rc;

	mosquitto_log_callback_set(m, on_log);
	/* Small QoS 1 frames must not wait for Nagle on loopback. */
	rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if (!rc)
		rc = mosquitto_max_inflight_messages_set(m, o->window);
	if (!rc)
		rc = mosquitto_tls_set(m, o->ca, NULL, o->cert, o->key, NULL);
	if (!rc)
		rc = mosquitto_tls_opts_set(m, VERIFY_PEER, "tlsv1.3", NULL);
	return rc;
}

/* With what the library logged, e.g. the TLS alert behind a failure. */
static void report_mosq_error(const char *what, unsigned int pair, int rc)
{
	const char *text =
		rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);

	pthread_mutex_lock(&setup.lock);
	fprintf(stderr, "%s: %s %u: %s%s%s\n", TOOL, what, pair, text,
		setup.why[0] ? "; " : "", setup.why);
	pthread_mutex_unlock(&setup.lock);
}

/* A configured client, not yet connected: callbacks go on next. */
static int client_new(struct mosquitto **out, const char *role,
		      unsigned int pair, void *obj, const struct peer_opts *o)
{
	char id[64];
	int rc;

	snprintf(id, sizeof(id), "kcbench-%s-%u-%d", role, pair, (int)getpid());
	*out = mosquitto_new(id, true, obj);
	if (!*out) {
		fprintf(stderr, "%s: %s %u: %s\n", TOOL, role, pair,
			strerror(errno));
		return -ENOMEM;
	}
	rc = configure(*out, o);
	if (rc) {
		report_mosq_error("TLS or client options", pair, rc);
		return -EINVAL;
	}
	return 0;
}

/*
 * TCP and TLS happen here; the CONNACK is read by the network thread,
 * so the callbacks must already be in place.
 */
static int client_connect(struct mosquitto *m, const char *role,
			  unsigned int pair, const struct peer_opts *o)
{
	int rc;

	rc = mosquitto_connect(m, o->host, (int)o->port, KEEPALIVE_S);
	if (!rc)
		rc = mosquitto_loop_start(m);
	if (rc) {
		report_mosq_error(role, pair, rc);
		return -EIO;
	}
	return 0;
}

static int open_subscriber(struct peer_receiver *r, const struct peer_opts *o)
{
	struct mosquitto *m = NULL;
	int err;

	err = client_new(&m, "sub", r->pair, r, o);
	r->conn = m;
	if (err)
		return err;
	mosquitto_connect_callback_set(m, sub_on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_disconnect_callback_set(m, sub_on_disconnect);
	mosquitto_message_callback_set(m, on_message);
	return client_connect(m, "subscriber", r->pair, o);
}

static int open_publisher(struct peer_sender *s, const struct peer_opts *o)
{
	struct mosquitto *m = NULL;
	int err;

	err = client_new(&m, "pub", s->pair, s, o);
	s->conn = m;
	if (err)
		return err;
	mosquitto_connect_callback_set(m, pub_on_connect);
	mosquitto_disconnect_callback_set(m, pub_on_disconnect);
	mosquitto_publish_callback_set(m, on_publish);
	return client_connect(m, "publisher", s->pair, o);
}

/* Subscribers first: nothing is published before every SUBACK anyway. */
static int open_all(struct peer_run *run)
{
	const struct peer_opts *o = run->opts;
	unsigned int i;
	int err;

	for (i = 0; i < o->pairs; i++) {
		err = open_subscriber(&run->receivers[i], o);
		if (err)
			return err;
	}
	for (i = 0; i < o->pairs; i++) {
		err = open_publisher(&run->senders[i], o);
		if (err)
			return err;
	}
	return 0;
}

/* Waits for every CONNACK and SUBACK; says why if one fails or hangs. */
static int wait_ready(unsigned int want)
{
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SETUP_TIMEOUT_S;
	pthread_mutex_lock(&setup.lock);
	while (!setup.failed && setup.ready < want && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&setup.cond, &setup.lock,
					     &deadline);
	if (setup.failed)
		fprintf(stderr, "%s: connection setup failed: %s\n", TOOL,
			setup.why);
	else if (setup.ready < want)
		fprintf(stderr,
			"%s: only %u of %u connections and subscriptions ready after %d s%s%s\n",
			TOOL, setup.ready, want, SETUP_TIMEOUT_S,
			setup.why[0] ? "; last error: " : "", setup.why);
	err = setup.failed || setup.ready < want ? -ETIMEDOUT : 0;
	setup.active = false;
	pthread_mutex_unlock(&setup.lock);
	return err;
}

static void client_close(struct mosquitto *m)
{
	if (!m)
		return;
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
}

static void close_all(struct peer_run *run)
{
	unsigned int i;

	if (!run->senders || !run->receivers)
		return;
	__atomic_store_n(&run->stopping, true, __ATOMIC_RELAXED);
	for (i = 0; i < run->opts->pairs; i++) {
		client_close(run->senders[i].conn);
		run->senders[i].conn = NULL;
	}
	for (i = 0; i < run->opts->pairs; i++) {
		client_close(run->receivers[i].conn);
		run->receivers[i].conn = NULL;
	}
}

int main(int argc, char **argv)
{
	struct peer_opts o;
	struct peer_run run;
	int status = 1, err;

	err = peer_parse_args(&tool, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	/* A broker that goes away must fail a write, not kill the tool. */
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	setup.active = true;
	err = peer_run_init(&run, &o, mosq_send, "kc/bench/%u");
	if (err) {
		fprintf(stderr, "%s: %s\n", TOOL, strerror(-err));
		goto out;
	}
	/* One libmosquitto network thread per connection. */
	run.threads = 2 * o.pairs;
	/* Each publisher's CONNACK, each subscriber's SUBACK. */
	if (open_all(&run) || wait_ready(2 * o.pairs))
		goto out;
	err = peer_run_start(&run);
	if (err) {
		fprintf(stderr, "%s: cannot start: %s\n", TOOL, strerror(-err));
		goto out;
	}
	peer_run_wait(&run);
	close_all(&run);
	status = peer_run_report(&run, TOOL, "mosquitto-qos1", durability,
				 true);
out:
	close_all(&run);
	peer_run_free(&run);
	mosquitto_lib_cleanup();
	return status;
}
