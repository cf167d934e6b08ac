// SPDX-License-Identifier: GPL-2.0-only
/*
 * nats-load: the benchmark's load against nats-server 2.9 with Debian's
 * libnats 3.4, over mutual TLS 1.3, in one of two modes:
 *
 * jetstream  Stream KCBENCH (subjects kc.bench.>, file storage, interest
 *            retention: a message lives until its consumer acks it, as in
 *            a relay). A publish carries a reply subject of the
 *            publisher's own inbox, _INBOX.<id>.<seq>, which is what
 *            js_PublishAsync puts on the wire too; the server's PubAck
 *            comes back on it and says which send it answers. Each
 *            subscriber is an ephemeral push consumer filtered on its
 *            pair's subject, delivering only new messages, acking each
 *            one explicitly.
 * core       Plain publish/subscribe, no storage and no ack. The window
 *            is closed by delivery: a publisher has at most W messages
 *            its subscriber has not received yet, since delivery of seq
 *            k proves the server read 1..k (one connection's messages to
 *            one subscriber keep their order). At the end one flush
 *            (PING/PONG) per publisher confirms the rest, so a message
 *            the server read and never delivered is "lost".
 *
 * One thread drives every connection (nats_loop.h). Subscriptions are
 * synchronous and emptied by that thread after each read, because
 * asynchronous ones get a delivery thread each (js_PublishAsync's PubAck
 * subscription too). The calls that wait for a reply (stream and
 * consumer creation, deletion, flushes) run on a short-lived thread
 * beside the loop during setup and teardown only.
 *
 * Pair i publishes on kc.bench.i, one publisher and one subscriber
 * connection per pair. Reconnects are off: a dropped connection is an
 * error in the report, not something hidden by a retry.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>
#include <nats/nats.h>

#include "nats_loop.h"
#include "peer_cli.h"
#include "peer_report.h"
#include "peer_run.h"

#define TOOL "nats-load"
#define STREAM "KCBENCH"
#define STREAM_SUBJECTS "kc.bench.>"
#define CONNECT_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 5000
/* How long libnats' shutdown may take to run its pending callbacks. */
#define CLOSE_WAIT_MS 2000
/* _INBOX. and a NUID (22): the prefix of a publisher's reply subjects. */
#define INBOX_LEN 64
/* The prefix, a dot and a 64-bit seq. */
#define REPLY_LEN (INBOX_LEN + 22)
/* The library's threads: a timer, asynchronous callbacks, the collector. */
#define LIB_THREADS_MAX 8
#define LIB_THREAD_NICE 19

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
		 "connection per pair (subject kc.bench.N), all driven by one thread.\n"
		 "jetstream: stream KCBENCH with file storage, publishes answered by\n"
		 "PubAcks, push consumers with explicit acks. core: plain publish and\n"
		 "subscribe, the window closed by delivery, no ack. Every message is\n"
		 "checked for loss, duplication and order.",
};

/* One connection; sender->conn and receiver->conn point at these. */
struct client {
	struct nats_loop_conn conn; /* first: the loop hands it back */
	struct peer_run *run;
	struct peer_sender *sender;	/* a publisher's pair */
	struct peer_receiver *receiver; /* a subscriber's pair */
	jsCtx *js;
	/* A subscriber's messages, or a JetStream publisher's PubAcks. */
	natsSubscription *sub;
	char inbox[INBOX_LEN]; /* JetStream publisher: the reply prefix */
	bool serving;	       /* the loop takes what sub holds */
	uint64_t flushed;      /* core publisher: the final flush confirmed */
};

static bool jetstream;

static void print_nats_error(const char *what, unsigned int pair, natsStatus s)
{
	const char *text = nats_GetLastError(NULL);

	fprintf(stderr, "%s: %s %u: %s\n", TOOL, what, pair,
		text && *text ? text : natsStatus_GetText(s));
}

/* libnats calls these two on its asynchronous-callback thread. */
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

/* The seq at the end of a PubAck's subject, _INBOX.<id>.<seq>. */
static uint64_t reply_seq(const char *subject)
{
	const char *dot = strrchr(subject, '.');

	return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

/* {"stream":"KCBENCH","seq":N} or {"error":{...}}, as JetStream answers. */
static bool puback_ok(natsMsg *msg)
{
	json_t *j = json_loadb(natsMsg_GetData(msg),
			       (size_t)natsMsg_GetDataLength(msg), 0, NULL);
	bool ok = j && !json_object_get(j, "error") &&
		  json_is_integer(json_object_get(j, "seq"));

	json_decref(j);
	return ok;
}

static void take_puback(struct client *c, natsMsg *msg)
{
	uint64_t seq = reply_seq(natsMsg_GetSubject(msg));

	if (puback_ok(msg))
		peer_sender_acked_seq(c->sender, seq);
	else
		peer_sender_fail(c->sender, PEER_ERR_NACK);
}

static void take_delivery(struct client *c, natsMsg *msg)
{
	struct peer_receiver *r = c->receiver;
	uint64_t seq;

	seq = peer_deliver(r, natsMsg_GetData(msg),
			   (size_t)natsMsg_GetDataLength(msg));
	if (jetstream) {
		if (natsMsg_Ack(msg, NULL) != NATS_OK)
			peer_error(r->run, PEER_ERR_CONSUMER_ACK);
	} else if (seq) {
		peer_sender_confirmed(&r->run->senders[r->pair], seq);
	}
}

/*
 * After each read: everything the library parsed into sub. A 503 (no
 * stream takes the subject) comes back as NATS_NO_RESPONDERS, not as a
 * message.
 */
static void on_input(struct nats_loop_conn *conn)
{
	struct client *c = (struct client *)conn;
	natsMsg *msg;
	natsStatus s;

	if (!c->serving)
		return;
	for (;;) {
		s = natsSubscription_NextMsg(&msg, c->sub, 0);
		if (s == NATS_NO_RESPONDERS && c->sender) {
			peer_sender_fail(c->sender, PEER_ERR_NACK);
			continue;
		}
		if (s != NATS_OK)
			return;
		if (c->sender)
			take_puback(c, msg);
		else
			take_delivery(c, msg);
		natsMsg_Destroy(msg);
	}
}

/* The message's seq is s->next_seq while it is being sent. */
static int js_send(struct peer_sender *s, const void *buf, size_t len,
		   uint32_t *key)
{
	struct client *c = s->conn;
	char reply[REPLY_LEN];

	snprintf(reply, sizeof(reply), "%s.%llu", c->inbox,
		 (unsigned long long)s->next_seq);
	if (natsConnection_PublishRequest(c->conn.nc, s->subject, reply, buf,
					  (int)len) != NATS_OK)
		return -EIO;
	return 0;
}

static int core_send(struct peer_sender *s, const void *buf, size_t len,
		     uint32_t *key)
{
	struct client *c = s->conn;

	if (natsConnection_Publish(c->conn.nc, s->subject, buf, (int)len) !=
	    NATS_OK)
		return -EIO;
	return 0;
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

/* The connection being made: its options are everyone's (nats_loop.h). */
static struct nats_loop_conn *connecting;

/*
 * The old request style waits on a synchronous subscription of its own;
 * the new one would start a delivery thread for its reply subscription.
 */
static natsStatus set_threading(natsOptions *opts)
{
	natsStatus s = nats_loop_options(opts, &connecting);

	if (s == NATS_OK)
		s = natsOptions_UseOldRequestStyle(opts, true);
	return s;
}

/* One set of options, so one TLS context, for every connection. */
static natsStatus make_options(natsOptions **out, struct peer_run *run)
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
		s = natsOptions_SetName(opts, "kcbench");
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, false);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(opts, on_async_error, run);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnected, run);
	if (s == NATS_OK)
		s = set_threading(opts);
	if (s != NATS_OK) {
		print_nats_error("options", 0, s);
		natsOptions_Destroy(opts);
	} else {
		*out = opts;
	}
	return s;
}

static natsStatus client_connect(struct client *c, natsOptions *opts,
				 const char *role, unsigned int pair)
{
	natsConnection *nc = NULL;
	natsStatus s;

	connecting = &c->conn;
	s = natsConnection_Connect(&nc, opts);
	connecting = NULL;
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
	return js_SubscribeSync(&c->sub, c->js, r->subject, NULL, &so, &jerr);
}

/*
 * The library's per-subscription queue would drop messages past 65536 as
 * a "slow consumer": unbounded, any loss seen is the server's. The flush
 * makes sure the server has the SUB before anything is published.
 */
static natsStatus lift_limits_and_flush(struct client *c)
{
	natsStatus s = natsSubscription_SetPendingLimits(c->sub, -1, -1);

	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(c->conn.nc, FLUSH_TIMEOUT_MS);
	return s;
}

static int open_subscriber(struct client *c, natsOptions *opts)
{
	struct peer_receiver *r = c->receiver;
	natsConnection *nc;
	natsStatus s;

	s = client_connect(c, opts, "subscriber", r->pair);
	if (s != NATS_OK)
		return -EIO;
	nc = c->conn.nc;
	if (jetstream) {
		s = natsConnection_JetStream(&c->js, nc, NULL);
		if (s == NATS_OK && r->pair == 0 && ensure_stream(c->js))
			return -EIO;
		if (s == NATS_OK)
			s = js_subscribe(c, r);
	} else {
		s = natsConnection_SubscribeSync(&c->sub, nc, r->subject);
	}
	if (s == NATS_OK)
		s = lift_limits_and_flush(c);
	if (s != NATS_OK) {
		print_nats_error("subscriber", r->pair, s);
		return -EIO;
	}
	return 0;
}

/* JetStream: the inbox its PubAcks come back on, _INBOX.<id>.<seq>. */
static int open_publisher(struct client *c, natsOptions *opts)
{
	struct peer_sender *sd = c->sender;
	natsInbox *inbox = NULL;
	char subject[INBOX_LEN + 2];
	natsStatus s;

	s = client_connect(c, opts, "publisher", sd->pair);
	if (s != NATS_OK)
		return -EIO;
	if (!jetstream)
		return 0;
	s = natsInbox_Create(&inbox);
	if (s == NATS_OK) {
		snprintf(c->inbox, sizeof(c->inbox), "%s", inbox);
		snprintf(subject, sizeof(subject), "%s.*", c->inbox);
		s = natsConnection_SubscribeSync(&c->sub, c->conn.nc, subject);
	}
	natsInbox_Destroy(inbox);
	if (s == NATS_OK)
		s = lift_limits_and_flush(c);
	if (s != NATS_OK) {
		print_nats_error("publisher", sd->pair, s);
		return -EIO;
	}
	return 0;
}

/* Subscribers first: subscriber 0 creates the stream. */
static int open_all(void *arg)
{
	struct client *clients = arg;
	unsigned int i, n = clients[0].run->opts->pairs;
	natsOptions *opts = NULL;
	int err = 0;

	if (make_options(&opts, clients[0].run) != NATS_OK)
		return -EIO;
	for (i = 0; i < n && !err; i++)
		err = open_subscriber(&clients[i], opts);
	for (i = n; i < 2 * n && !err; i++)
		err = open_publisher(&clients[i], opts);
	natsOptions_Destroy(opts);
	return err;
}

/*
 * Core: one PING/PONG per publisher says the server has read everything
 * it sent; JetStream: unsubscribing deletes the ephemeral consumer now,
 * not after its inactivity timeout. Both wait for a reply.
 */
static int finish_all(void *arg)
{
	struct client *clients = arg;
	unsigned int i, n = clients[0].run->opts->pairs;

	for (i = 0; i < n && jetstream; i++)
		if (clients[i].sub)
			natsSubscription_Unsubscribe(clients[i].sub);
	for (i = n; i < 2 * n && !jetstream; i++) {
		uint64_t last = peer_sender_last_sent(clients[i].sender);

		if (clients[i].conn.nc &&
		    natsConnection_FlushTimeout(clients[i].conn.nc,
						FLUSH_TIMEOUT_MS) == NATS_OK)
			clients[i].flushed = last;
	}
	return 0;
}

/* The thread ids of this process, up to max; returns how many. */
static unsigned int list_threads(int *tids, unsigned int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned int n = 0;

	while (d && (e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			tids[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	return n;
}

static bool listed(int tid, const int *tids, unsigned int n)
{
	while (n--)
		if (tids[n] == tid)
			return true;
	return false;
}

/*
 * libnats frees every message it hands out on its garbage-collector
 * thread (natsMsg_Destroy only queues it there). At normal priority each
 * message woke that thread, which then preempted the loop on their
 * shared core: tens of thousands of context switches a second. At nice
 * 19 it frees in batches while the loop waits. The library's two other
 * threads (timers, asynchronous callbacks) sleep, and go along.
 */
static int open_library(void)
{
	int before[LIB_THREADS_MAX + 4], after[LIB_THREADS_MAX + 4];
	unsigned int nb, na, i;

	nb = list_threads(before, LIB_THREADS_MAX + 4);
	if (nats_Open(-1) != NATS_OK) {
		print_nats_error("library", 0, NATS_ERR);
		return -EIO;
	}
	na = list_threads(after, LIB_THREADS_MAX + 4);
	for (i = 0; i < na; i++)
		if (!listed(after[i], before, nb))
			setpriority(PRIO_PROCESS, (id_t)after[i],
				    LIB_THREAD_NICE);
	return 0;
}

static void set_serving(struct client *clients, unsigned int n, bool on)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		clients[i].serving = on && clients[i].sub;
}

static void drive(struct peer_run *run, struct peer_loop *loop)
{
	peer_run_start(run);
	while (!peer_run_done(run))
		peer_loop_turn(loop, peer_run_step(run));
}

static void finish(struct peer_run *run, struct peer_loop *loop,
		   struct client *clients)
{
	unsigned int i, n = run->opts->pairs;

	if (jetstream)
		set_serving(clients, 2 * n, false);
	peer_loop_beside(loop, finish_all, clients);
	for (i = n; i < 2 * n && !jetstream; i++)
		if (clients[i].flushed)
			peer_sender_confirmed(clients[i].sender,
					      clients[i].flushed);
	/* What the last turns queued, before libnats closes the sockets. */
	peer_loop_turn(loop, 0);
}

static void init_clients(struct peer_run *run, struct peer_loop *loop,
			 struct client *clients)
{
	unsigned int i, n = run->opts->pairs;

	for (i = 0; i < 2 * n; i++) {
		clients[i].run = run;
		clients[i].conn.loop = loop;
		clients[i].conn.on_input = on_input;
	}
	for (i = 0; i < n; i++) {
		clients[i].receiver = &run->receivers[i];
		run->receivers[i].conn = &clients[i];
		clients[n + i].sender = &run->senders[i];
		run->senders[i].conn = &clients[n + i];
	}
}

static int run_load(struct peer_run *run, struct peer_loop *loop,
		    struct client *clients)
{
	init_clients(run, loop, clients);
	if (peer_loop_beside(loop, open_all, clients))
		return -EIO;
	set_serving(clients, 2 * run->opts->pairs, true);
	drive(run, loop);
	finish(run, loop, clients);
	return 0;
}

/*
 * With the loop stopped, libnats closes each socket itself. Connections
 * go first: a subscription destroyed while its connection is open queues
 * an UNSUB, and a close with output queued waits 500 ms for a PONG that
 * no loop reads.
 */
static void close_all(struct peer_run *run, struct client *clients)
{
	unsigned int i;

	if (!clients)
		return;
	__atomic_store_n(&run->stopping, true, __ATOMIC_RELAXED);
	for (i = 0; i < 2 * run->opts->pairs; i++) {
		natsConnection_Destroy(clients[i].conn.nc);
		clients[i].conn.nc = NULL;
		natsSubscription_Destroy(clients[i].sub);
		clients[i].sub = NULL;
		jsCtx_Destroy(clients[i].js);
		clients[i].js = NULL;
	}
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
	signal(SIGPIPE, SIG_IGN);
	jetstream = !strcmp(o.mode, "jetstream");
	if (open_library())
		return 1;
	err = peer_run_init(&run, &o, jetstream ? js_send : core_send,
			    "kc.bench.%u");
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
	close_all(&run, clients);
	/* Callbacks still queued for the closed connections run first. */
	nats_CloseAndWait(CLOSE_WAIT_MS);
	status = peer_run_report(&run, TOOL,
				 jetstream ? "nats-jetstream" : "nats-core",
				 jetstream ? durability_js : durability_core,
				 jetstream);
out:
	close_all(&run, clients);
	free(clients);
	peer_loop_free(&loop);
	peer_run_free(&run);
	nats_Close();
	return status;
}
