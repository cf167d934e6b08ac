// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd run: loads the state directory, opens the store, starts the
 * workers (docs/DESIGN.md "Run-time architecture") and waits for SIGTERM
 * or SIGINT. Then no new connection is accepted, each worker finishes its
 * turn (including the group commit: nothing acknowledged is lost), gives
 * its connections a moment for their last frames and exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/clock.h"
#include "kcourierd_cmd.h"
#include "conn/addr_limits.h"
#include "conn/tls_ktls.h"
#include "control.h"
#include "crypto/crypto_ops.h"
#include "daemon.h"
#include "crypto/key_quota.h"
#include "crypto/keyring.h"
#include "loop/listener.h"
#include "loop/worker.h"
#include "crypto/rsa_keyring.h"
#include "metrics/metrics.h"
#include "pki.h"
#include "privdrop.h"
#include "proto/client_limits.h"
#include "proto/committer.h"
#include "proto/proto.h"
#include "proto/router.h"
#include "proto/seal_rotate.h"
#include "proto/sessions.h"
#include "revoke_live.h"
#include "ring/ratelog.h"
#include "ring/ring.h"
#include "seccomp_filter.h"
#include "state.h"
#include "store/msglog.h"
#include "store/store.h"

#define WORKERS_MAX 256
/* Well inside KC_SEAL_KEY_TIMEOUT_S, so a busy main thread never misses. */
#define SEAL_REFRESH_MS (60 * 1000)

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
	struct kc_metrics *metrics;
	unsigned int nworkers;
	unsigned int started;
	bool drop;		/* started as root with `user` set */
	struct kcd_run_as as;
	int sigfd, ctl_fd;	/* -1: none */
	struct kc_ring ctl_ring; /* the main thread's, for wake-ups */
	uint64_t refreshed_ms;
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
	const struct kc_agent_config *cfg = &r->d.cfg;
	struct kc_msglog_opts opts = {
		.segment_bytes = cfg->log_segment_bytes,
		.lim = {
			.max_bytes = kc_store_cap_log(cfg->max_store_mb),
			.queue_max_msgs = cfg->queue_max_messages,
			.queue_max_bytes = cfg->queue_max_bytes,
		},
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

/* max_store_mb: the directory's share (kc_store_cap_dir), then the log. */
static int cap_directory(struct run *r)
{
	uint64_t cap = kc_store_cap_dir(r->d.cfg.max_store_mb);
	int ret = cap ? kc_store_set_max_bytes(r->d.proto.store, cap) : 0;

	if (ret)
		kcd_err("run: max_store_mb: %s", strerror(-ret));
	return ret;
}

static int open_store(struct run *r)
{
	return kcd_open_store("run", r->st.dir, &r->d.proto.store) ||
	       cap_directory(r) || open_log(r);
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
	if (!ret)
		ret = kc_addr_limits_create(&r->d.cfg, &r->d.loop.conns.addrs);
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

/*
 * Under afalg every session is two keys in the keyring, and the user's
 * key quota (200 keys for a non-root user by default) is shared by every
 * client: each client's session cap is held to a quarter of what is left
 * at start, so one client cannot take the quota from the others.
 */
#define AFALG_KEYS_PER_SESSION 2
#define QUOTA_SHARES 4

static uint32_t session_cap(struct run *r)
{
	uint32_t cap = r->d.cfg.max_sessions_per_client;
	struct kc_key_quota q;

	if (strcmp(r->d.crypto_tier, "afalg") || kc_key_quota_self(&q))
		return cap;
	cap = kc_key_quota_session_cap(&q, AFALG_KEYS_PER_SESSION,
				       QUOTA_SHARES, cap);
	kc_log("key quota: %u of %u keys in use: at most %u sessions per client",
	       q.used, q.max, cap);
	return cap;
}

static int make_client_limits(struct run *r)
{
	int ret = kc_client_limits_create(&r->d.cfg, session_cap(r),
					  &r->d.proto.client_limits);

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

/*
 * DIR/metrics.sock and, if set, the Prometheus endpoint (metrics.h). An
 * agent that cannot serve them still serves messages: logged, not fatal.
 */
static void start_metrics(struct run *r)
{
	char path[PATH_MAX];
	struct kc_metrics_cfg cfg = {
		.sock_path = path,
		.http_addr = (struct sockaddr *)&r->d.cfg.metrics_addr,
		.http_addr_len = r->d.cfg.metrics_addr_len,
		.src = {
			.nconns = &r->d.loop.conns.nconns,
			.bad_keys = &r->d.proto.bad_keys,
			.committer = r->d.proto.committer,
			.crypto_tier = kc_proto_tier_name(r->d.loop.workers[0]),
			.keyring = r->d.keyring ? r->kr.ring : 0,
			.workers = r->nworkers,
			.start_ms = kc_mono_ms(),
		},
	};
	int ret;

	ret = kc_state_path(r->st.dir, KC_STATE_METRICS_SOCK, path);
	if (!ret)
		ret = kc_metrics_start(&cfg, &r->metrics);
	if (ret)
		kc_log("metrics: %s (metrics_listen %s): %s", path,
		       r->d.cfg.metrics_listen, strerror(-ret));
}

static void cleanup(struct run *r)
{
	kc_metrics_stop(r->metrics);
	r->metrics = NULL;
	kcd_control_close(r->st.dir, r->ctl_fd);
	if (r->sigfd >= 0)
		close(r->sigfd);
	stop_workers(r);
	kc_committer_stop(r->d.proto.committer);
	r->d.proto.committer = NULL;
	if (r->d.loop.workers)
		free_workers(r);
	kc_msglog_close(r->log);
	free(r->d.loop.workers);
	kc_router_destroy(r->d.proto.router);
	kc_sid_set_destroy(r->d.proto.sids);
	kc_addr_limits_destroy(r->d.loop.conns.addrs);
	kc_client_limits_destroy(r->d.proto.client_limits);
	kc_tls_server_free(r->d.loop.conns.tls);
	kc_store_close(r->d.proto.store);
	kc_agent_state_free(&r->st);
	pthread_mutex_destroy(&r->d.proto.store_lock);
	kc_ring_fini(&r->ctl_ring);
	kc_seal_certs_free(&r->d.proto);
}

/*
 * The signals are blocked before any thread exists, so every worker
 * inherits the mask and only the signalfd here ever sees them.
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
	kc_log("stats: SENDs refused: rate %llu, queue quota %llu, no room %llu",
	       (unsigned long long)cs.rate_limited,
	       (unsigned long long)cs.over_quota,
	       (unsigned long long)cs.no_room);
}

/* `user` in kcourierd.conf, looked up before anything is started. */
static int plan_drop(struct run *r)
{
	char why[256] = "";
	int ret;

	if (!r->d.cfg.run_user[0])
		return 0;
	if (geteuid() != 0) {
		kc_log("user = %s: not started as root, running as uid %u",
		       r->d.cfg.run_user, (unsigned int)geteuid());
		return 0;
	}
	ret = kcd_run_as_lookup(r->d.cfg.run_user, r->d.cfg.run_group,
				r->st.dir, &r->as, why, sizeof(why));
	if (ret) {
		kcd_err("run: user = %s: %s", r->d.cfg.run_user, why);
		return ret;
	}
	r->drop = true;
	kcd_run_as_files(&r->as);
	return 0;
}

/*
 * Bound, keys loaded, workers running: now root goes, then the control
 * socket is made (owned by the user `kcourierd revoke` runs as);
 * close_syscalls puts the allow-list over every thread after that.
 */
static int settle_privileges(struct run *r)
{
	int ret = r->drop ? kcd_drop_privileges(&r->as) : 0;

	if (ret) {
		kcd_err("run: cannot drop to user %s: %s", r->d.cfg.run_user,
			strerror(-ret));
		return ret;
	}
	if (r->drop)
		kc_log("running as user %s (uid %u, gid %u)", r->d.cfg.run_user,
		       (unsigned int)r->as.uid, (unsigned int)r->as.gid);
	r->ctl_fd = kcd_control_listen(r->st.dir);
	if (r->ctl_fd < 0)
		kc_log("control socket %s/%s: %s (revocations reach only new "
		       "connections)",
		       r->st.dir, KC_STATE_CONTROL, strerror(-r->ctl_fd));
	return 0;
}

/* Last of all, once every thread (metrics too) is running. */
static int close_syscalls(struct run *r)
{
	int ret;

	if (!r->d.cfg.seccomp)
		return 0;
	ret = kcd_seccomp_install(true);
	if (ret)
		kcd_err("run: seccomp: %s (seccomp = 0 in kcourierd.conf runs "
			"without it)",
			strerror(-ret));
	else
		kc_log("seccomp: system-call allow-list on every thread");
	return ret;
}

/*
 * A rotation's old seal key goes when its time is up; the seal keys in the
 * kernel expire unless the running agent renews them.
 */
static void seal_key_upkeep(struct run *r)
{
	uint64_t now = kc_mono_ms();

	if (kc_seal_retire(&r->d.proto, &r->d.loop, now))
		kc_log("rotate-seal: the old seal key is destroyed");
	if (!r->d.keyring || now - r->refreshed_ms < SEAL_REFRESH_MS)
		return;
	r->refreshed_ms = now;
	kc_rsa_keyring_refresh(r->kr.ring);
}

/* "B64KEY B64CERT" of rotate-seal, decoded and handed to the workers. */
static void on_rotate(struct run *r, const char *args, char *reply,
		      size_t cap)
{
	const char *space = strchr(args, ' ');
	size_t key_len = KCD_CONTROL_LINE_MAX, crt_len = KCD_CONTROL_LINE_MAX;
	uint8_t *key = malloc(key_len), *crt = malloc(crt_len);
	int ret = key && crt ? 0 : -ENOMEM;

	if (!ret && (!space ||
		     kc_b64_decode(args, (size_t)(space - args), key, &key_len) ||
		     kc_b64_decode(space + 1, strlen(space + 1), crt, &crt_len)))
		ret = -EINVAL;
	if (!ret)
		ret = kc_seal_rotate(&r->d.proto, &r->d.loop, key, key_len, crt,
				     crt_len, kc_mono_ms());
	if (key)
		explicit_bzero(key, KCD_CONTROL_LINE_MAX);
	free(key);
	free(crt);
	if (ret) {
		kc_log("rotate-seal: %s; the seal key is unchanged",
		       strerror(-ret));
		snprintf(reply, cap, "error %s", strerror(-ret));
		return;
	}
	kc_log("rotate-seal: new seal key in use; the old one is destroyed "
	       "in %u s (session_ttl)",
	       r->d.cfg.session_ttl);
	snprintf(reply, cap, "ok");
}

/* Until the next key refresh, or a rotation's old key is due. */
static int poll_ms(const struct run *r)
{
	uint64_t now = kc_mono_ms(), due = r->refreshed_ms + SEAL_REFRESH_MS;

	if (r->d.proto.seal_retire_ms && r->d.proto.seal_retire_ms < due)
		due = r->d.proto.seal_retire_ms;
	return due > now ? (int)(due - now) : 0;
}

/* A control request (control.h), on the main thread. */
static void on_control(void *ctx, const char *request, char *reply,
		       size_t cap)
{
	struct run *r = ctx;
	unsigned int n;

	if (!strncmp(request, "rotate-seal ", 12)) {
		on_rotate(r, request + 12, reply, cap);
		return;
	}
	if (strncmp(request, "revoke ", 7) || !request[7])
		return;
	n = kcd_revoke_live(&r->d.proto, &r->ctl_ring, request + 7);
	kc_log("revoked %s: %u connection%s closed", request + 7, n,
	       n == 1 ? "" : "s");
	snprintf(reply, cap, "ok %u", n);
}

/* The next signal; control requests and key refreshes meanwhile. */
static int wait_for_signal(struct run *r)
{
	struct pollfd pfd[2] = { { .fd = r->sigfd, .events = POLLIN },
				 { .fd = r->ctl_fd, .events = POLLIN } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(pfd, 2, poll_ms(r)) < 0 && errno != EINTR)
			return -1;
		seal_key_upkeep(r);
		if (pfd[1].revents & POLLIN)
			kcd_control_serve_one(r->ctl_fd, on_control, r);
		if ((pfd[0].revents & POLLIN) &&
		    read(r->sigfd, &si, sizeof(si)) == sizeof(si))
			return (int)si.ssi_signo;
	}
}

static int open_main_fds(struct run *r, const sigset_t *set)
{
	int ret = kc_ring_init(&r->ctl_ring, 64);

	if (ret) {
		kcd_err("run: io_uring: %s", strerror(-ret));
		return ret;
	}
	r->sigfd = signalfd(-1, set, SFD_CLOEXEC);
	if (r->sigfd < 0) {
		kcd_err("run: signalfd: %s", strerror(errno));
		return -errno;
	}
	r->refreshed_ms = kc_mono_ms();
	return 0;
}

static int run_agent(const struct run_opts *o, struct run *r)
{
	sigset_t set;
	int sig;

	apply_options(o, r);
	if (load_state(o, r) || plan_drop(r) || open_store(r) ||
	    make_tls(r) || make_shared(r))
		return 1;
	purge_keyring(r);
	if (choose_tier(r) || make_client_limits(r))
		return 1;
	block_signals(&set);
	if (open_main_fds(r, &set) || start_committer(r) || start_workers(r))
		return 1;
	if (settle_privileges(r))
		return 1;
	start_metrics(r);
	if (close_syscalls(r))
		return 1;
	/* Last: tests and operators take this line for "up and serving". */
	log_listening(r);
	while ((sig = wait_for_signal(r)) == SIGUSR1)
		log_stats(r);
	kc_log("%s: stopping", sig > 0 ? strsignal(sig) : "poll failed");
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
	r->sigfd = r->ctl_fd = -1;
	rc = run_agent(&o, r);
	cleanup(r);
	free(r);
	return rc;
}
