// SPDX-License-Identifier: GPL-2.0-only
/*
 * nats-load: the benchmark's load against nats-server 2.9 with Debian's
 * libnats 3.4, over mutual TLS 1.3, in one of two modes:
 *
 * jetstream  Stream KCBENCH (subjects kc.bench.>, file storage, interest
 *            retention: a message lives until its consumer acks it, as in
 *            a relay). Publishers use js_PublishAsync; the PubAck reaches
 *            on_puback with the original message, whose header says which
 *            send it answers. Each subscriber is an ephemeral push consumer
 *            filtered on its pair's subject, delivering only new messages,
 *            acking each one explicitly.
 * core       Plain publish/subscribe, no storage and no ack. The window is
 *            a flush: up to W publishes, then a PING/PONG round trip
 *            (natsConnection_Flush) before the next W. Only delivery
 *            latency exists; the report has no ack figures.
 *
 * Pair i publishes on kc.bench.i, one publisher and one subscriber
 * connection per pair. Reconnects are off: a dropped connection is an
 * error in the report, not something hidden by a retry.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "peer_cli.h"
#include "peer_run.h"

#define TOOL "nats-load"
#define STREAM "KCBENCH"
#define STREAM_SUBJECTS "kc.bench.>"
#define CONNECT_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 5000

/*
 * What a PubAck promises from nats-server 2.9.10, as strace showed: the
 * message is written to a block file, not fsynced. With limits retention
 * dirty blocks were fsynced every 120 s; with the interest retention used
 * here a 330 s run at 100 msgs/s saw no fsync at all (blocks are deleted
 * once acked). 2.9 rejects sync_interval in its config: no way to ask for
 * more.
 */
static const char durability_js[] =
	"PubAck once the message is written to the stream's block file (page "
	"cache), never fsynced per message: 2.9.10 fsyncs dirty blocks every "
	"2 min at best (no fsync seen in 330 s with this interest-retention "
	"stream) and has no sync_interval option";
static const char durability_core[] =
	"none: core NATS is at most once and has no ack; a flush (PING/PONG) "
	"only says the server has read the messages";

static const char *const schemes[] = { "tls", NULL };
static const char *const modes[] = { "jetstream", "core", NULL };

static const struct peer_tool tool = {
	.name = TOOL,
	.schemes = schemes,
	.modes = modes,
	.about = "Load for NATS over mutual TLS 1.3, one publisher and one subscriber\n"
		 "connection per pair (subject kc.bench.N). jetstream: stream KCBENCH with\n"
		 "file storage, js_PublishAsync with PubAck, push consumers with explicit\n"
		 "acks. core: plain publish/subscribe, windows closed by a flush, no ack.\n"
		 "Every message is checked for loss, duplication and order.",
};

/* One connection; sender->conn and receiver->conn point at these. */
struct client {
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	pthread_t thread; /* core publisher */
	bool thread_running;
};

static bool jetstream;

static void print_nats_error(const char *what, unsigned int pair, natsStatus s)
{
	const char *text = nats_GetLastError(NULL);

	fprintf(stderr, "%s: %s %u: %s\n", TOOL, what, pair,
		text && *text ? text : natsStatus_GetText(s));
}

static void on_async_error(natsConnection *nc, natsSubscription *sub,
			   natsStatus err, void *closure)
{
	peer_error(closure, PEER_ERR_ASYNC);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct peer_run *run = closure;

	if (!__atomic_load_n(&run->stopping, __ATOMIC_RELAXED))
		peer_error(run, PEER_ERR_DISCONNECT);
}

static void make_url(char *url, size_t n, const struct peer_opts *o)
{
	if (o->url)
		snprintf(url, n, "%s", o->url);
	else if (strchr(o->host, ':'))
		snprintf(url, n, "tls://[%s]:%u", o->host, o->port);
	else
		snprintf(url, n, "tls://%s:%u", o->host, o->port);
}

static bool is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	       inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * libnats 3.4 checks an address in the URL against the certificate's IP
 * SANs by itself, but a host name only when it is told the name.
 */
static natsStatus set_tls(natsOptions *opts, const struct peer_opts *o)
{
	natsStatus s;

	s = natsOptions_SetSecure(opts, true);
	if (s == NATS_OK)
		s = natsOptions_LoadCATrustedCertificates(opts, o->ca);
	if (s == NATS_OK)
		s = natsOptions_LoadCertificatesChain(opts, o->cert, o->key);
	if (s == NATS_OK && !is_ip_literal(o->host))
		s = natsOptions_SetExpectedHostname(opts, o->host);
	return s;
}

static natsStatus make_options(natsOptions **out, struct peer_run *run,
			       const char *name)
{
	const struct peer_opts *o = run->opts;
	natsOptions *opts = NULL;
	char url[512];
	natsStatus s;

	make_url(url, sizeof(url), o);
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, url);
	if (s == NATS_OK)
		s = set_tls(opts, o);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, name);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, false);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, on_async_error, run);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnected, run);
	if (s != NATS_OK)
		natsOptions_Destroy(opts);
	else
		*out = opts;
	return s;
}

static natsStatus client_connect(struct client *c, struct peer_run *run,
				 const char *role, unsigned int pair)
{
	natsOptions *opts = NULL;
	char name[64];
	natsStatus s;

	snprintf(name, sizeof(name), "kcbench-%s-%u", role, pair);
	s = make_options(&opts, run, name);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, opts);
	natsOptions_Destroy(opts);
	if (s != NATS_OK)
		print_nats_error(role, pair, s);
	return s;
}

/* Interest retention: acked by its one consumer, a message is removed. */
static int ensure_stream(jsCtx *js)
{
	const char *subjects[] = { STREAM_SUBJECTS };
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = STREAM;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_InterestPolicy;
	s = js_AddStream(&si, js, &cfg, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK)
		return 0;
	if (jerr == JSStreamNameExistErr)
		fprintf(stderr,
			"%s: stream %s exists with another configuration: delete it or start nats-server on a fresh store_dir\n",
			TOOL, STREAM);
	else
		print_nats_error("creating stream " STREAM ", pair", 0, s);
	return -EIO;
}

static void on_puback(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		      void *closure)
{
	struct peer_sender *s = closure;
	uint64_t seq = peer_payload_seq(natsMsg_GetData(msg),
					(size_t)natsMsg_GetDataLength(msg));

	if (pa)
		peer_sender_acked_seq(s, seq);
	else
		peer_sender_fail(s, PEER_ERR_NACK);
	natsMsg_Destroy(msg);
}

static void on_js_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		      void *closure)
{
	struct peer_receiver *r = closure;

	peer_deliver(r, natsMsg_GetData(msg),
		     (size_t)natsMsg_GetDataLength(msg));
	if (natsMsg_Ack(msg, NULL) != NATS_OK)
		peer_error(r->run, PEER_ERR_CONSUMER_ACK);
	natsMsg_Destroy(msg);
}

static void on_core_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
			void *closure)
{
	peer_deliver(closure, natsMsg_GetData(msg),
		     (size_t)natsMsg_GetDataLength(msg));
	natsMsg_Destroy(msg);
}

static int js_send(struct peer_sender *s, const void *buf, size_t len,
		   uint32_t *key)
{
	struct client *c = s->conn;
	natsStatus st;

	st = js_PublishAsync(c->js, s->subject, buf, (int)len, NULL);
	return st == NATS_OK ? 0 : -EIO;
}

static int core_send(struct peer_sender *s, const void *buf, size_t len,
		     uint32_t *key)
{
	struct client *c = s->conn;
	natsStatus st;

	st = natsConnection_Publish(c->nc, s->subject, buf, (int)len);
	return st == NATS_OK ? 0 : -EIO;
}

/* DeliverNew: a consumer made now sees nothing of an earlier run. */
static natsStatus js_subscribe(struct client *c, struct peer_receiver *r)
{
	jsSubOptions so;
	jsErrCode jerr = 0;

	jsSubOptions_Init(&so);
	so.Stream = STREAM;
	so.ManualAck = true;
	so.Config.DeliverPolicy = js_DeliverNew;
	so.Config.AckPolicy = js_AckExplicit;
	return js_Subscribe(&c->sub, c->js, r->subject, on_js_msg, r, NULL, &so,
			    &jerr);
}

/*
 * The library's per-subscription queue would drop messages past 65536 as
 * a "slow consumer": unbounded, any loss seen is the server's.
 */
static int open_subscriber(struct peer_receiver *r, struct peer_run *run)
{
	struct client *c = r->conn;
	natsStatus s;

	s = client_connect(c, run, "subscriber", r->pair);
	if (s != NATS_OK)
		return -EIO;
	if (jetstream) {
		s = natsConnection_JetStream(&c->js, c->nc, NULL);
		if (s == NATS_OK && r->pair == 0 && ensure_stream(c->js))
			return -EIO;
		if (s == NATS_OK)
			s = js_subscribe(c, r);
	} else {
		s = natsConnection_Subscribe(&c->sub, c->nc, r->subject,
					     on_core_msg, r);
		/* The server has the SUB once its PONG is back. */
		if (s == NATS_OK)
			s = natsConnection_FlushTimeout(c->nc,
							FLUSH_TIMEOUT_MS);
	}
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(c->sub, -1, -1);
	if (s != NATS_OK) {
		print_nats_error("subscriber", r->pair, s);
		return -EIO;
	}
	return 0;
}

/*
 * The library's MaxPending is a backstop only: it drops its count after
 * on_puback returns, and on_puback sends the next message, so it may see
 * window + 1 in flight; at window + 1 it never stalls our own window.
 */
static int open_publisher(struct peer_sender *sd, struct peer_run *run)
{
	struct client *c = sd->conn;
	jsOptions jo;
	natsStatus s;

	s = client_connect(c, run, "publisher", sd->pair);
	if (s != NATS_OK)
		return -EIO;
	if (!jetstream)
		return 0;
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = run->opts->window + 1;
	jo.PublishAsync.AckHandler = on_puback;
	jo.PublishAsync.AckHandlerClosure = sd;
	s = natsConnection_JetStream(&c->js, c->nc, &jo);
	if (s != NATS_OK) {
		print_nats_error("publisher", sd->pair, s);
		return -EIO;
	}
	return 0;
}

static int open_all(struct peer_run *run, struct client *clients)
{
	unsigned int i, n = run->opts->pairs;
	int err;

	for (i = 0; i < n; i++) {
		run->receivers[i].conn = &clients[i];
		err = open_subscriber(&run->receivers[i], run);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		run->senders[i].conn = &clients[n + i];
		err = open_publisher(&run->senders[i], run);
		if (err)
			return err;
	}
	return 0;
}

/* One flush round: what is due, up to the window, then PING/PONG. */
static bool core_round(struct peer_sender *s, struct client *c)
{
	uint64_t last, due;
	unsigned int n;
	bool done;

	pthread_mutex_lock(&s->lock);
	done = peer_sender_finished(s);
	n = done ? 0 : peer_sender_pump(s);
	last = s->next_seq - 1;
	due = peer_sender_next_due(s);
	pthread_mutex_unlock(&s->lock);
	if (n) {
		if (natsConnection_FlushTimeout(c->nc, FLUSH_TIMEOUT_MS) !=
		    NATS_OK) {
			peer_sender_fail(s, PEER_ERR_PUBLISH);
			return false;
		}
		peer_sender_confirmed(s, last);
		return true;
	}
	if (done)
		return false;
	peer_sleep_until(due);
	return true;
}

static void *core_publisher(void *arg)
{
	struct peer_sender *s = arg;

	while (core_round(s, s->conn))
		;
	return NULL;
}

static int start_core_publishers(struct peer_run *run)
{
	unsigned int i;
	int err;

	for (i = 0; i < run->opts->pairs; i++) {
		struct client *c = run->senders[i].conn;

		err = pthread_create(&c->thread, NULL, core_publisher,
				     &run->senders[i]);
		if (err) {
			fprintf(stderr, "%s: thread: %s\n", TOOL, strerror(err));
			return -err;
		}
		c->thread_running = true;
	}
	return 0;
}

/* Unsubscribing deletes the ephemeral consumer now, not after a timeout. */
static void client_close(struct client *c)
{
	if (c->thread_running)
		pthread_join(c->thread, NULL);
	c->thread_running = false;
	if (c->sub)
		natsSubscription_Unsubscribe(c->sub);
	natsSubscription_Destroy(c->sub);
	c->sub = NULL;
	jsCtx_Destroy(c->js);
	c->js = NULL;
	natsConnection_Destroy(c->nc);
	c->nc = NULL;
}

static void close_all(struct peer_run *run, struct client *clients)
{
	unsigned int i;

	if (!clients)
		return;
	__atomic_store_n(&run->stopping, true, __ATOMIC_RELAXED);
	for (i = 0; i < 2 * run->opts->pairs; i++)
		client_close(&clients[i]);
}

static int run_load(struct peer_run *run, struct client *clients)
{
	unsigned int i;
	int err;

	err = open_all(run, clients);
	if (!err)
		err = peer_run_start(run);
	if (!err && !jetstream)
		err = start_core_publishers(run);
	if (err) {
		/* Publishers already started see their pair failed and end. */
		for (i = 0; i < run->opts->pairs; i++)
			peer_sender_fail(&run->senders[i], PEER_ERR_PUBLISH);
		return err;
	}
	peer_run_wait(run);
	return 0;
}

int main(int argc, char **argv)
{
	struct client *clients = NULL;
	struct peer_opts o;
	struct peer_run run;
	int status = 1, err;

	err = peer_parse_args(&tool, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	jetstream = !strcmp(o.mode, "jetstream");
	err = peer_run_init(&run, &o, jetstream ? js_send : core_send,
			    "kc.bench.%u");
	clients = calloc(2 * o.pairs, sizeof(*clients));
	if (err || !clients) {
		fprintf(stderr, "%s: %s\n", TOOL, strerror(ENOMEM));
		goto out;
	}
	run.self_paced = !jetstream;
	/* One libnats reader thread per connection (plus its helpers). */
	run.threads = 2 * o.pairs;
	if (run_load(&run, clients))
		goto out;
	close_all(&run, clients);
	status = peer_run_report(&run, TOOL,
				 jetstream ? "nats-jetstream" : "nats-core",
				 jetstream ? durability_js : durability_core,
				 jetstream);
out:
	close_all(&run, clients);
	free(clients);
	peer_run_free(&run);
	nats_Close();
	return status;
}
