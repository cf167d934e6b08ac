// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd run: loads the state directory, opens the store, starts the
 * workers (docs/DESIGN.md "Run-time architecture") and waits for SIGTERM
 * or SIGINT. Then no new connection is accepted, each worker finishes its
 * turn (including the group commit: nothing acknowledged is lost), gives
 * its connections a moment for their last frames and exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcourierd_cmd.h"
#include "conn/tls_ktls.h"
#include "crypto/crypto_ops.h"
#include "daemon.h"
#include "crypto/keyring.h"
#include "loop/listener.h"
#include "loop/worker.h"
#include "pki.h"
#include "proto/committer.h"
#include "proto/proto.h"
#include "proto/router.h"
#include "proto/sessions.h"
#include "ring/ratelog.h"
#include "state.h"
#include "store/msglog.h"
#include "store/store.h"

#define WORKERS_MAX 256

static const char *const crypto_tiers[] = { "auto", "afalg", "user", "kmod",
					     NULL };

struct run_opts {
	const char *dir, *listen, *crypto, *pass_file;
	struct kcd_listen listen_addr;
	unsigned int workers; /* 0: one per online CPU */
};

static bool parse_run(int argc, char **argv, struct run_opts *o, int *rc)
{
	const struct kc_opt rows[] = {
		KCD_OPT_DIR(&o->dir),
		{ .name = "listen", KC_OPT_STRING(&o->listen),
		  .metavar = "ADDR:PORT", .check = kcd_check_listen,
		  .ctx = &o->listen_addr,
		  .help = "instead of `listen` in kcourierd.conf "
			  "(\"127.0.0.1:7411\", \"[::1]:7411\")" },
		{ .name = "workers", KC_OPT_UINT(&o->workers), .metavar = "N",
		  .min = 1, .max = WORKERS_MAX, .def = "online CPUs",
		  .help = "worker threads" },
		{ .name = "crypto", KC_OPT_CHOICE(&o->crypto, crypto_tiers),
		  .help = "crypto tier: auto takes the fastest of afalg, "
			  "kmod and user, measured at start; afalg is the "
			  "kernel's AF_ALG, kmod is kcourier.ko "
			  "(/dev/kcourier), user is OpenSSL" },
		KCD_OPT_PASSPHRASE_FILE(&o->pass_file,
					"the passphrase of the agent keys"),
	};
	const struct kc_opts spec = {
		KCD_OPTS("run"),
		KC_OPTS_TABLE(rows),
		.description = "Runs the agent until SIGTERM or SIGINT.\n",
	};

	o->crypto = crypto_tiers[0];
	return kc_opts_parse(&spec, argc, argv, rc);
}

struct run {
	struct kc_daemon d;
	struct kc_agent_state st;
	struct kc_keyring kr;
	struct kc_msglog *log; /* until the committer takes it */
	unsigned int nworkers;
	unsigned int started;
};

static void apply_options(const struct run_opts *o, struct run *r)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	r->nworkers = cpus > 0 ? (unsigned int)cpus : 1;
	if (r->nworkers > WORKERS_MAX)
		r->nworkers = WORKERS_MAX;
	if (o->workers)
		r->nworkers = o->workers;
	r->d.crypto_tier = o->crypto;
}

/*
 * "auto" is settled once, before the workers start, so that they all open
 * the same tier; the measurement behind the choice goes to the log.
 */
static int choose_tier(struct run *r)
{
	struct kc_crypto_pick pick;
	char why[200], line[400];
	int ret;

	if (strcmp(r->d.crypto_tier, "auto")) {
		ret = kc_crypto_available(r->d.crypto_tier, why, sizeof(why));
		if (ret)
			kcd_err("run: --crypto %s: %s", r->d.crypto_tier, why);
		else
			kc_log("crypto tier %s (--crypto)", r->d.crypto_tier);
		return ret;
	}
	ret = kc_crypto_pick(&pick);
	if (ret) {
		kcd_err("run: choosing a crypto tier: %s", strerror(-ret));
		return ret;
	}
	kc_crypto_pick_describe(&pick, line, sizeof(line));
	kc_log("crypto tier auto: %s", line);
	r->d.crypto_tier = pick.tier;
	return 0;
}

static int load_state(const struct run_opts *o, struct run *r)
{
	char err[KC_STATE_ERR_MAX] = "";
	struct kc_passphrase pass;
	int ret;

	ret = kcd_passphrase("run", o->pass_file, false, &pass);
	if (ret)
		return ret;
	ret = kc_agent_state_load(o->dir, &pass, &r->st, err, sizeof(err));
	kc_passphrase_wipe(&pass);
	if (ret) {
		kcd_err("run: %s", err[0] ? err : strerror(-ret));
		return ret;
	}
	r->d.state = &r->st;
	r->d.cfg = r->st.cfg;
	if (!o->listen)
		return 0;
	r->d.cfg.listen_addr = o->listen_addr.addr;
	r->d.cfg.listen_addr_len = o->listen_addr.len;
	snprintf(r->d.cfg.listen, sizeof(r->d.cfg.listen), "%s", o->listen);
	return 0;
}

/* What recovery found, for the operator, in one or two lines. */
static void log_recovery(const char *dir, const struct kc_msglog_report *rep)
{
	kc_log("message log %s: %u segments, %llu records, %llu messages "
	       "queued, ready in %.3f s%s",
	       dir, rep->segments, (unsigned long long)rep->records,
	       (unsigned long long)rep->queued, rep->seconds,
	       rep->torn_bytes ? " (a torn write at its end cut)" : "");
	if (rep->damaged)
		kc_log("message log %s: DAMAGED: %u segments with records that "
		       "do not check, first %s; %llu bytes skipped, never "
		       "delivered",
		       dir, rep->damaged, rep->first_damage,
		       (unsigned long long)rep->damaged_bytes);
}

static int open_log(struct run *r)
{
	struct kc_msglog_opts opts = {
		.segment_bytes = r->d.cfg.log_segment_bytes,
	};
	struct kc_msglog_report rep;
	char dir[PATH_MAX];
	int ret;

	ret = kc_state_path(r->st.dir, KC_STATE_LOG, dir);
	if (!ret)
		ret = kc_msglog_open(dir, &opts, &r->log, &rep);
	if (ret) {
		kcd_err("run: message log %s: %s", dir, strerror(-ret));
		return ret;
	}
	log_recovery(dir, &rep);
	return 0;
}

static int open_store(struct run *r)
{
	return kcd_open_store("run", r->st.dir, &r->d.proto.store) ||
	       open_log(r);
}

/* The committer takes the log: from here on it is the only user. */
static int start_committer(struct run *r)
{
	int ret = kc_committer_start(&r->d.proto, &r->d.loop, r->log,
				     &r->d.proto.committer);

	if (ret) {
		kcd_err("run: committer: %s", strerror(-ret));
		return ret;
	}
	r->log = NULL;
	return 0;
}

static int make_tls(struct run *r)
{
	struct kc_tls_server_cfg cfg = {
		.cert = { r->st.tls_der.data, r->st.tls_der.size },
		.ca = { r->st.ca_der.data, r->st.ca_der.size },
		.key_pkcs8 = { r->st.tls_pkcs8, r->st.tls_pkcs8_len },
	};
	int ret = kc_tls_server_new(&cfg, &r->d.loop.conns.tls);

	if (ret)
		kcd_err("run: TLS credentials: %s", strerror(-ret));
	return ret;
}

/* A killed earlier run may have left session keys in the keyring. */
static void purge_keyring(struct run *r)
{
	int ret = kc_keyring_open(&r->kr);

	if (!ret) {
		r->d.keyring = &r->kr;
		ret = kc_keyring_purge(&r->kr);
	}
	if (ret < 0)
		kc_log("keyring %s: %s (session keys stay in locked memory)",
		       KC_KEYRING_NAME, strerror(-ret));
	else if (ret > 0)
		kc_log("keyring %s: removed %d stale session keys",
		       KC_KEYRING_NAME, ret);
}

static int make_shared(struct run *r)
{
	int ret;

	pthread_mutex_init(&r->d.proto.store_lock, NULL);
	atomic_init(&r->d.loop.conns.nconns, 0);
	atomic_init(&r->d.proto.bad_keys, 0);
	ret = kc_sid_set_create(&r->d.proto.sids);
	if (!ret)
		ret = kc_router_create(&r->d.proto.router);
	if (!ret) {
		r->d.loop.workers =
			calloc(r->nworkers, sizeof(*r->d.loop.workers));
		if (!r->d.loop.workers)
			ret = -ENOMEM;
	}
	if (ret)
		kcd_err("run: %s", strerror(-ret));
	return ret;
}

/* Each worker gets its own listener on the same port (SO_REUSEPORT). */
static int start_worker(struct run *r, unsigned int i)
{
	struct kc_agent_config *cfg = &r->d.cfg;
	struct kc_worker *w = calloc(1, sizeof(*w));
	char addr[KC_LISTEN_TEXT_MAX];
	int fd, ret;

	if (!w)
		return -ENOMEM;
	fd = kc_listener_open(&cfg->listen_addr, cfg->listen_addr_len);
	if (fd < 0) {
		kc_listener_format(&cfg->listen_addr, addr, sizeof(addr));
		kcd_err("run: cannot listen on %s: %s", addr, strerror(-fd));
		free(w);
		return fd;
	}
	ret = kc_worker_start(w, &r->d.loop, i, fd);
	if (ret) {
		kcd_err("run: worker %u: %s", i, strerror(-ret));
		free(w);
		return ret;
	}
	r->d.loop.workers[i] = w;
	r->started++;
	return 0;
}

/* REGISTER's certificates come from the agent CA (proto/context.h). */
static int issue_client(void *ctx, const char *id, const uint8_t *spki,
			size_t spki_len, gnutls_datum_t *der)
{
	struct kc_agent_state *st = ctx;

	return kc_pki_issue_client(&st->ca, id, spki, spki_len, 0, der);
}

/*
 * Each layer gets what it needs of the run; the loop calls the request
 * layer only through kc_proto_ops (docs/DESIGN.md "Layers").
 */
static void connect_layers(struct run *r)
{
	struct kc_proto *p = &r->d.proto;

	r->d.loop.conns.cfg = &r->d.cfg;
	r->d.loop.ops = &kc_proto_ops;
	r->d.loop.ops_ctx = p;
	r->d.loop.nworkers = r->nworkers;
	p->cfg = &r->d.cfg;
	p->crypto_tier = r->d.crypto_tier;
	p->keyring = r->d.keyring;
	p->ca_der = r->st.ca_der;
	p->seal_der = r->st.seal_der;
	p->seal_pkcs8 = r->st.seal_pkcs8;
	p->seal_pkcs8_len = r->st.seal_pkcs8_len;
	p->issue_client = issue_client;
	p->issuer = &r->st;
}

static int start_workers(struct run *r)
{
	int ret = 0;

	connect_layers(r);
	for (unsigned int i = 0; !ret && i < r->nworkers; i++)
		ret = start_worker(r, i);
	/* The workers hold their copies: the plain key bytes can go. */
	kc_agent_state_wipe_der(&r->st);
	r->d.proto.seal_pkcs8 = NULL;
	r->d.proto.seal_pkcs8_len = 0;
	return ret;
}

static void stop_workers(struct run *r)
{
	struct io_uring ring;
	bool have_ring = io_uring_queue_init(8, &ring, 0) == 0;

	for (unsigned int i = 0; i < r->started; i++) {
		if (have_ring)
			kc_worker_request_stop(r->d.loop.workers[i], &ring);
		else
			atomic_store(&r->d.loop.workers[i]->stop, true);
	}
	for (unsigned int i = 0; i < r->started; i++)
		kc_worker_join(r->d.loop.workers[i]);
	if (have_ring)
		io_uring_queue_exit(&ring);
	r->started = 0;
}

/* The committer may post to a worker's inbox until it has stopped. */
static void free_workers(struct run *r)
{
	for (unsigned int i = 0; i < r->nworkers; i++) {
		kc_worker_free(r->d.loop.workers[i]);
		r->d.loop.workers[i] = NULL;
	}
}

static void log_listening(struct run *r)
{
	char addr[KC_LISTEN_TEXT_MAX];
	const char *tier = kc_proto_tier_name(r->d.loop.workers[0]);

	kc_listener_format(&r->d.cfg.listen_addr, addr, sizeof(addr));
	kc_log("listening on %s, %u worker%s, crypto tier %s, keyring %s "
	       "(serial %d)",
	       addr, r->nworkers, r->nworkers == 1 ? "" : "s", tier,
	       KC_KEYRING_NAME, (int)r->kr.ring);
}

static int wait_for_signal(const sigset_t *set)
{
	siginfo_t info;
	int sig;

	do
		sig = sigwaitinfo(set, &info);
	while (sig < 0 && errno == EINTR);
	return sig;
}

static void cleanup(struct run *r)
{
	stop_workers(r);
	kc_committer_stop(r->d.proto.committer);
	r->d.proto.committer = NULL;
	if (r->d.loop.workers)
		free_workers(r);
	kc_msglog_close(r->log);
	free(r->d.loop.workers);
	kc_router_destroy(r->d.proto.router);
	kc_sid_set_destroy(r->d.proto.sids);
	kc_tls_server_free(r->d.loop.conns.tls);
	kc_store_close(r->d.proto.store);
	kc_agent_state_free(&r->st);
	pthread_mutex_destroy(&r->d.proto.store_lock);
}

/*
 * The signals are blocked before any thread exists, so every worker
 * inherits the mask and only sigwaitinfo here ever sees them.
 */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * What an operator asks with SIGUSR1 (and gets once more at stop): which
 * record layer the connections so far ended up on, and how many
 * OPEN_SESSIONs carried a key that did not unwrap (answered SESSION all
 * the same, so only this count tells a broken client or a probe).
 */
static void log_stats(struct run *r)
{
	struct kc_committer_stats cs;
	unsigned long on, off;

	kc_ktls_stats(&on, &off);
	kc_log("stats: record layer of connections so far: kTLS %lu, GnuTLS %lu",
	       on, off);
	kc_log("stats: OPEN_SESSION keys that did not unwrap so far: %lu",
	       atomic_load(&r->d.proto.bad_keys));
	if (!r->d.proto.committer)
		return;
	kc_committer_stats(r->d.proto.committer, &cs);
	kc_log("stats: message log rounds %llu (failed %llu), %llu bytes, "
	       "duplicates %llu, replays %llu",
	       (unsigned long long)cs.rounds,
	       (unsigned long long)cs.failed_rounds,
	       (unsigned long long)cs.bytes,
	       (unsigned long long)cs.duplicates,
	       (unsigned long long)cs.replays);
}

static int run_agent(const struct run_opts *o, struct run *r)
{
	sigset_t set;
	int sig;

	apply_options(o, r);
	if (load_state(o, r) || open_store(r) || make_tls(r) ||
	    make_shared(r))
		return 1;
	purge_keyring(r);
	if (choose_tier(r))
		return 1;
	block_signals(&set);
	if (start_committer(r) || start_workers(r))
		return 1;
	log_listening(r);
	while ((sig = wait_for_signal(&set)) == SIGUSR1)
		log_stats(r);
	kc_log("%s: stopping", sig > 0 ? strsignal(sig) : "sigwaitinfo failed");
	stop_workers(r);
	log_stats(r);
	kc_log("stopped");
	return 0;
}

int cmd_run(void *ctx, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct run *r;
	int rc;

	if (!parse_run(argc, argv, &o, &rc))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r) {
		kcd_err("run: out of memory");
		return 1;
	}
	rc = run_agent(&o, r);
	cleanup(r);
	free(r);
	return rc;
}
