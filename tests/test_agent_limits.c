// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's limits (docs/OPERATIONS.md "Limits and hardening"), each
 * attacked by one client while a second, well-behaved one is still
 * served: a real agent process and clients over TLS, as in
 * test_agent_loop.c.
 *
 * disk.*: max_store_mb with small segments, and a real full disk (a small
 * tmpfs); a round that does not fit gives TRY_LATER only to the SENDs
 * that do not fit.
 * small.*: per-recipient queue quota, per-sender rate, OPEN_SESSION
 * budgets per connection and per client (failed unwraps count), caps per
 * source address (connections, handshakes a second), the idle and
 * handshake timeouts against peers that trickle bytes.
 * flood.*: four connections pipelining 100,000 GET_SEALs each without
 * reading: the agent's memory stays bounded and another client's PING is
 * answered within 100 ms, by each connection's pause and by the global
 * budget alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "base/clock.h"
#include "crypto/crypto.h"
#include "tls/tlsclient.h"
#include "kselftest_harness.h"

static void stop_agent(struct __test_metadata *_metadata, struct agent_proc *a)
{
	int rc = a->pid ? agent_proc_stop(a) : 0;

	if (rc || _metadata->exit_code)
		agent_proc_dump_log(a);
	EXPECT_EQ(0, rc);
}

/*
 * Keys for each name, `kcourierd init` with the given configuration, the
 * agent started and the clients enrolled.
 */
static int prepare(struct agent_proc *a, struct test_ident *ids,
		   const char *const *names, int nids,
		   const char *const conf[][2])
{
	int ret = 0;

	for (int i = 0; !ret && i < nids; i++)
		ret = ti_make(&ids[i], names[i]);
	if (!ret)
		ret = agent_proc_init(a, 2);
	for (int i = 0; !ret && conf[i][0]; i++)
		ret = agent_proc_config(a, conf[i][0], conf[i][1]);
	return ret;
}

static int launch(struct agent_proc *a, struct test_ident *ids, int nids)
{
	int ret = agent_proc_start(a);

	for (int i = 0; !ret && i < nids; i++)
		ret = ti_enroll(a, &ids[i]);
	return ret;
}

static int start_with(struct agent_proc *a, struct test_ident *ids,
		      const char *const *names, int nids,
		      const char *const conf[][2])
{
	int ret = prepare(a, ids, names, nids, conf);

	return ret ? ret : launch(a, ids, nids);
}

static void finish(struct __test_metadata *_metadata, struct agent_proc *a,
		   struct test_ident *ids, int nids)
{
	stop_agent(_metadata, a);
	for (int i = 0; i < nids; i++)
		ti_free(&ids[i]);
	agent_proc_destroy(a);
}

#define START_OR_SKIP(ret)                                                   \
	do {                                                                 \
		if ((ret) == -ENOENT)                                        \
			SKIP(return, "KC_BIN unset: run through tests/run-tests.sh"); \
		ASSERT_EQ(0, (ret));                                         \
	} while (0)

static const char *const pair_names[] = { "alice", "bob" };

static void msg_id_of(uint8_t id[KC_MSGID_LEN], unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0x14;
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* One SEND of inner_len bytes, not waiting for its ACK. */
static int send_msg(struct kc_client *c, const struct test_session *s,
		    uint64_t seq, const char *to, size_t inner_len)
{
	static uint8_t inner[65536];
	uint8_t id[KC_MSGID_LEN];

	msg_id_of(id, (unsigned int)seq);
	memset(inner, (int)seq, inner_len);
	return ts_send(c, s, seq, to, id, inner, inner_len, TS_GOOD);
}

/* One SEND and its ACK's status (or a -errno). */
static int send_wait(struct kc_client *c, const struct test_session *s,
		     uint64_t seq, const char *to, size_t inner_len)
{
	uint16_t status;
	int ret = send_msg(c, s, seq, to, inner_len);

	if (!ret)
		ret = ts_await_ack(c, s, seq, &status, NULL);
	return ret ? ret : status;
}

/* A connection of id with one session; 0 or -errno. */
static int connect_session(const struct agent_proc *a,
			   const struct test_ident *ti, struct kc_client **c,
			   struct test_session *s)
{
	int st, ret = ti_connect(a, ti, c);

	if (!ret)
		ret = ts_open(*c, ti, s, &st);
	return ret;
}

/* ---------------------------------------------------------------- disk */

FIXTURE(disk)
{
	struct agent_proc a;
	struct test_ident ids[2]; /* alice, bob */
	char log_dir[160];
	bool mounted;
};

/*
 * The same attack on two full disks: max_store_mb = 1 (128 KiB for the
 * directory, 14 segments of 64 KiB for the log), and a real one, the
 * log's folder on a tmpfs of 192 KiB (3 segments; needs root to mount).
 */
FIXTURE_VARIANT(disk)
{
	const char *const (*conf)[2];
	const char *tmpfs_size;
	unsigned int min_msgs; /* 2,000-byte messages that fit, at least */
};

static const char *const store_cap_conf[][2] = {
	{ "max_store_mb", "1" },
	{ "log_segment_bytes", "65536" },
	{ NULL, NULL },
};
static const char *const full_disk_conf[][2] = {
	{ "log_segment_bytes", "65536" },
	{ NULL, NULL },
};

FIXTURE_VARIANT_ADD(disk, store_cap)
{
	.conf = store_cap_conf,
	.min_msgs = 14 * 30,
};

FIXTURE_VARIANT_ADD(disk, full_disk)
{
	.conf = full_disk_conf,
	.tmpfs_size = "size=192k,mode=0700",
	.min_msgs = 3 * 30,
};

FIXTURE_SETUP(disk)
{
	START_OR_SKIP(prepare(&self->a, self->ids, pair_names, 2,
			      variant->conf));
	if (variant->tmpfs_size) {
		snprintf(self->log_dir, sizeof(self->log_dir), "%s/log",
			 self->a.dir);
		ASSERT_TRUE(!mkdir(self->log_dir, 0700) || errno == EEXIST);
		if (mount("kc-test", self->log_dir, "tmpfs", 0,
			  variant->tmpfs_size))
			SKIP(return, "cannot mount a small tmpfs (%s): needs root",
			     strerror(errno));
		self->mounted = true;
	}
	ASSERT_EQ(0, launch(&self->a, self->ids, 2));
}

FIXTURE_TEARDOWN(disk)
{
	stop_agent(_metadata, &self->a);
	if (self->mounted)
		umount(self->log_dir);
	finish(_metadata, &self->a, self->ids, 2);
}

/*
 * Bob is offline; alice fills the store with 2,000-byte messages one at
 * a time until TRY_LATER. The last segment then has about 1 KiB left:
 * one more large SEND and two small ones, written in one TCP segment so
 * they land in one round, get TRY_LATER, OK, OK: only what does not fit
 * is refused. Bob is still served: his queue comes, his PING is answered.
 */
TEST_F_TIMEOUT(disk, refuses_only_what_does_not_fit, 180)
{
	struct kc_client *ca, *cb;
	struct test_session s;
	uint64_t seq = 0;
	uint16_t st[3];
	struct kc_frame f;
	int one = 1, zero = 0, ret, fd;

	ASSERT_EQ(0, connect_session(&self->a, &self->ids[0], &ca, &s));
	do {
		ret = send_wait(ca, &s, ++seq, "bob", 2000);
		ASSERT_LE(0, ret);
	} while (ret == KC_OK && seq < 1000);
	ASSERT_EQ(KC_TRY_LATER, ret);
	TH_LOG("store full after %llu messages", (unsigned long long)seq - 1);
	EXPECT_LT(variant->min_msgs, seq);

	fd = kc_tls_client_fd(kc_client_tls(ca));
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)));
	ASSERT_EQ(0, send_msg(ca, &s, seq + 1, "bob", 2000));
	ASSERT_EQ(0, send_msg(ca, &s, seq + 2, "bob", 32));
	ASSERT_EQ(0, send_msg(ca, &s, seq + 3, "bob", 32));
	ASSERT_EQ(0,
		  setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, ts_await_ack(ca, &s, seq + 1 + i, &st[i], NULL));
	EXPECT_EQ(KC_TRY_LATER, st[0]);
	EXPECT_EQ(KC_OK, st[1]);
	EXPECT_EQ(KC_OK, st[2]);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "no room"));
	EXPECT_FALSE(agent_proc_log_has(&self->a, "a round failed"));

	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[1], &cb));
	ASSERT_EQ(0, kc_client_next_event(cb, TEST_WAIT_MS, &f));
	EXPECT_EQ(KC_T_DELIVER, f.type);
	EXPECT_EQ(0, tc_ping(cb, 1));
	kc_client_close(ca);
	kc_client_close(cb);
}

/* --------------------------------------------------------------- small */

enum { ALICE, BOB, CAROL, NIDS };

FIXTURE(small)
{
	struct agent_proc a;
	struct test_ident ids[NIDS];
};

FIXTURE_SETUP(small)
{
	static const char *const conf[][2] = {
		{ "queue_max_messages", "5" },
		{ "send_rate", "1" },
		{ "send_burst", "8" },
		{ "open_rate_conn", "2" },   /* burst 8 */
		{ "open_rate_client", "3" }, /* burst 12 */
		{ "max_conns_per_addr", "6" },
		{ "handshakes_per_addr", "4" }, /* burst 8 */
		{ "idle_timeout", "2" },
		{ "handshake_timeout", "2" },
		{ NULL, NULL },
	};
	static const char *const names[NIDS] = { "alice", "bob", "carol" };

	START_OR_SKIP(start_with(&self->a, self->ids, names, NIDS, conf));
}

FIXTURE_TEARDOWN(small)
{
	finish(_metadata, &self->a, self->ids, NIDS);
}

/*
 * One counter from the agent's metrics socket (DIR/metrics.sock, the text
 * `kcourierd status` reads), or -1: each refusal above is counted there.
 */
static long long metric(const struct agent_proc *a, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char text[65536], key[128];
	size_t len = 0;
	ssize_t n;
	const char *p;
	int fd;

	if ((size_t)snprintf(text, sizeof(text), "%s/metrics.sock", a->dir) >=
	    sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, text, strlen(text) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	text[len] = 0;
	snprintf(key, sizeof(key), "\nkcourier_%s ", name);
	p = strstr(text, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

#define SMALL_TEST(name) TEST_F_TIMEOUT(small, name, 180)

/* Bob's queue holds 5: the 6th for him is TRY_LATER, carol still gets hers. */
SMALL_TEST(queue_quota)
{
	struct kc_client *ca, *cc;
	struct test_session s;
	struct kc_frame f;

	ASSERT_EQ(0, connect_session(&self->a, &self->ids[ALICE], &ca, &s));
	for (uint64_t seq = 1; seq <= 5; seq++)
		ASSERT_EQ(KC_OK, send_wait(ca, &s, seq, "bob", 100));
	EXPECT_EQ(KC_TRY_LATER, send_wait(ca, &s, 6, "bob", 100));
	EXPECT_EQ(1, metric(&self->a, "sends_over_quota_total"));
	EXPECT_EQ(KC_OK, send_wait(ca, &s, 7, "carol", 100));
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[CAROL], &cc));
	ASSERT_EQ(0, kc_client_next_event(cc, TEST_WAIT_MS, &f));
	EXPECT_EQ(KC_T_DELIVER, f.type);
	EXPECT_EQ(0, tc_ping(cc, 2));
	kc_client_close(ca);
	kc_client_close(cc);
}

/*
 * Alice pipelines 12 SENDs to four recipients: her bucket holds 8, so 8
 * are stored and the rest are RATE_LIMITED; bob's own SEND goes through,
 * and a second after, alice's resend with the same counter is stored.
 */
SMALL_TEST(send_rate)
{
	static const char *const to[] = { "alice", "bob", "carol" };
	struct kc_client *ca, *cb;
	struct test_session s, sb;
	int ok = 0, limited = 0;
	uint16_t status;

	ASSERT_EQ(0, connect_session(&self->a, &self->ids[ALICE], &ca, &s));
	ASSERT_EQ(0, connect_session(&self->a, &self->ids[BOB], &cb, &sb));
	for (uint64_t seq = 1; seq <= 12; seq++)
		ASSERT_EQ(0, send_msg(ca, &s, seq, to[seq % 3], 64));
	for (uint64_t seq = 1; seq <= 12; seq++) {
		ASSERT_EQ(0, ts_await_ack(ca, &s, seq, &status, NULL));
		ok += status == KC_OK;
		limited += status == KC_RATE_LIMITED;
	}
	EXPECT_LE(8, ok);
	EXPECT_GE(9, ok); /* a token may come back while they are judged */
	EXPECT_EQ(12, ok + limited);
	EXPECT_EQ(limited, metric(&self->a, "sends_rate_limited_total"));
	EXPECT_EQ(KC_OK, send_wait(cb, &sb, 1, "alice", 64));
	sleep(1);
	EXPECT_EQ(KC_OK, send_wait(ca, &s, 13, "bob", 64));
	kc_client_close(ca);
	kc_client_close(cb);
}

/* OPEN_SESSION with a wrapped key of random bytes (it does not unwrap). */
static int open_garbage(struct kc_client *c)
{
	struct kc_frame req = { .type = KC_T_OPEN_SESSION }, ans;
	uint8_t sid[KC_SID_LEN], wrapped[KC_RSA_LEN];
	int ret;

	kc_random(sid, sizeof(sid));
	kc_random(wrapped, sizeof(wrapped));
	wrapped[0] = 0; /* below the modulus: a real RSA operation */
	req.u.open = (struct kc_open_session){ sid, wrapped };
	ret = kc_client_call(c, &req, KC_T_SESSION, TEST_WAIT_MS, &ans);
	if (ret == -EREMOTEIO)
		return kc_client_status(c);
	return ret ? ret : KC_OK;
}

/* A good OPEN_SESSION's status. */
static int open_good(struct kc_client *c, const struct test_ident *ti)
{
	struct test_session s;
	int st = -1, ret = ts_open(c, ti, &s, &st);

	return ret == -EREMOTEIO ? st : ret ? ret : KC_OK;
}

/*
 * Opens on c, alternating keys that do not unwrap and good ones, until
 * the first refusal: how many went through, its status in *status.
 */
static int open_until_refused(struct kc_client *c, const struct test_ident *ti,
			      int max, int *status)
{
	int n;

	for (n = 0; n < max; n++) {
		*status = n % 2 ? open_garbage(c) : open_good(c, ti);
		if (*status != KC_OK)
			break;
	}
	return n;
}

/*
 * One connection: 8 OPEN_SESSIONs (its burst, and perhaps one a refill
 * brought), half of them with keys that do not unwrap, then
 * RATE_LIMITED. Another client opens its session at once.
 */
SMALL_TEST(open_session_budget_per_connection)
{
	struct kc_client *ca, *cb;
	int n, st;

	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &ca));
	n = open_until_refused(ca, &self->ids[ALICE], 20, &st);
	EXPECT_LE(8, n);
	EXPECT_GE(10, n);
	EXPECT_EQ(KC_RATE_LIMITED, st);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[BOB], &cb));
	EXPECT_EQ(KC_OK, open_good(cb, &self->ids[BOB]));
	kc_client_close(ca);
	kc_client_close(cb);
}

/*
 * One client on three connections: 12 OPEN_SESSIONs (its burst) over
 * them, each connection well within its own budget; then a fresh
 * connection of the same client is RATE_LIMITED within a few tries (a
 * refill may bring one); bob is not.
 */
SMALL_TEST(open_session_budget_per_client)
{
	struct kc_client *c[3], *cb;
	int n = 0, st;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &c[i]));
	for (int i = 0; i < 12; i++)
		n += open_garbage(c[i % 3]) == KC_OK;
	EXPECT_EQ(12, n);
	kc_client_close(c[0]);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &c[0]));
	EXPECT_GE(3, open_until_refused(c[0], &self->ids[ALICE], 8, &st));
	EXPECT_EQ(KC_RATE_LIMITED, st);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[BOB], &cb));
	EXPECT_EQ(KC_OK, open_good(cb, &self->ids[BOB]));
	for (int i = 0; i < 3; i++)
		kc_client_close(c[i]);
	kc_client_close(cb);
}

/* A TCP connection to the agent from source address `from`. */
static int tcp_from(const char *from, const char *addr)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, from, &src.sin_addr);
	dst.sin_port = htons((uint16_t)atoi(strrchr(addr, ':') + 1));
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* True when the agent ended fd (EOF or reset) within ms. */
static bool ended_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b;

	if (poll(&pfd, 1, ms) != 1)
		return false;
	return read(fd, &b, 1) <= 0;
}

/*
 * 127.0.0.2 opens 7 connections and holds them (in their handshake): one
 * of them, whichever the two workers took last, is closed at once, the
 * other 6 stay. Alice, from 127.0.0.1, is served.
 */
SMALL_TEST(connections_per_address)
{
	struct kc_client *ca;
	int fds[7], ended = 0;

	for (int i = 0; i < 7; i++) {
		fds[i] = tcp_from("127.0.0.2", self->a.addr);
		ASSERT_LE(0, fds[i]);
	}
	usleep(500 * 1000);
	for (int i = 0; i < 7; i++)
		ended += ended_within(fds[i], 0);
	EXPECT_EQ(1, ended);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &ca));
	EXPECT_EQ(0, tc_ping(ca, 3));
	EXPECT_TRUE(agent_proc_log_has(&self->a, "max_conns_per_addr"));
	kc_client_close(ca);
	for (int i = 0; i < 7; i++)
		close(fds[i]);
}

/*
 * 127.0.0.3 connects and closes 12 times as fast as it can: past its
 * burst (8) its connections are closed at accept. Alice is served.
 */
SMALL_TEST(handshakes_per_address)
{
	struct kc_client *ca;
	bool logged = false;

	for (int i = 0; i < 12; i++) {
		int fd = tcp_from("127.0.0.3", self->a.addr);

		ASSERT_LE(0, fd);
		close(fd);
	}
	for (int i = 0; i < 40 && !logged; i++) {
		logged = agent_proc_log_has(&self->a, "handshakes_per_addr");
		if (!logged)
			usleep(50 * 1000);
	}
	EXPECT_TRUE(logged);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &ca));
	EXPECT_EQ(0, tc_ping(ca, 4));
	kc_client_close(ca);
}

/*
 * Slowloris, both sides of the handshake: a TCP peer trickling a byte a
 * second of a ClientHello is cut at handshake_timeout (2 s); an
 * authenticated one trickling a byte a second of a frame is cut at
 * idle_timeout (2 s), since bytes that make no frame do not count as
 * traffic. Bob, pinging every half second, stays.
 */
SMALL_TEST(slowloris)
{
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };
	struct kc_client *ca, *cb;
	bool raw_cut = false, auth_cut = false;
	int fd, afd;

	fd = tcp_from("127.0.0.1", self->a.addr);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[ALICE], &ca));
	ASSERT_EQ(0, tc_ping(ca, 5)); /* a first frame: now idle_timeout */
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[BOB], &cb));
	afd = kc_tls_client_fd(kc_client_tls(ca));
	for (int i = 0; i < 12 && !(raw_cut && auth_cut); i++) {
		uint8_t zero = 0;

		if (!raw_cut)
			raw_cut =
				write(fd, &hello[i % sizeof(hello)], 1) != 1 ||
				ended_within(fd, 0);
		if (!auth_cut)
			auth_cut = tc_send_raw(ca, &zero, 1) ||
				   ended_within(afd, 0);
		ASSERT_EQ(0, tc_ping(cb, 100 + i));
		usleep(500 * 1000);
		ASSERT_EQ(0, tc_ping(cb, 200 + i));
		usleep(500 * 1000);
	}
	EXPECT_TRUE(raw_cut);
	EXPECT_TRUE(auth_cut);
	kc_client_close(ca);
	kc_client_close(cb);
	close(fd);
}

/* --------------------------------------------------------------- flood */

FIXTURE(flood)
{
	struct agent_proc a;
	struct test_ident ids[2]; /* alice floods, bob pings */
};

/*
 * Both bounds on unsent output: each connection's (output_pause_bytes,
 * 1 MiB by default), and all connections' together (output_memory_mb),
 * with the first set out of the way.
 */
FIXTURE_VARIANT(flood)
{
	const char *const (*conf)[2];
};

static const char *const per_connection_conf[][2] = { { NULL, NULL } };
static const char *const global_budget_conf[][2] = {
	{ "output_pause_bytes", "1073741824" },
	{ "output_memory_mb", "2" },
	{ NULL, NULL },
};

FIXTURE_VARIANT_ADD(flood, per_connection)
{
	.conf = per_connection_conf,
};

FIXTURE_VARIANT_ADD(flood, global_budget)
{
	.conf = global_budget_conf,
};

FIXTURE_SETUP(flood)
{
	START_OR_SKIP(start_with(&self->a, self->ids, pair_names, 2,
				 variant->conf));
}

FIXTURE_TEARDOWN(flood)
{
	finish(_metadata, &self->a, self->ids, 2);
}

#define FLOODERS 4
#define FLOOD_FRAMES 100000

struct flooder {
	struct kc_client *c;
	const uint8_t *buf;
	size_t len;
	int ret;
};

/* Writes every GET_SEAL and never reads; blocks when the agent stops. */
static void *flood_main(void *arg)
{
	struct flooder *f = arg;

	f->ret = tc_send_raw(f->c, f->buf, f->len);
	return NULL;
}

/* VmRSS or VmHWM of pid, in KiB; 0 when it cannot be read. */
static unsigned long vm_kib(pid_t pid, const char *field)
{
	char path[64], line[128];
	unsigned long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			sscanf(line + strlen(field), ": %lu", &kib);
	fclose(f);
	return kib;
}

/* Whether pid has a mapping whose path contains name. */
static bool maps_have(pid_t pid, const char *name)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/* clang links ASan in statically: its runtime's symbols are in the binary. */
static bool agent_has_asan(const struct agent_proc *a)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd),
		 "nm -D '%s' 2>/dev/null | grep -q __asan_init", a->bin);
	return system(cmd) == 0;
}

static uint8_t *get_seal_frames(size_t *len)
{
	struct kc_frame f = { .type = KC_T_GET_SEAL };
	size_t one = kc_frame_size(&f);
	uint8_t *buf = malloc(one * FLOOD_FRAMES);

	if (!buf)
		return NULL;
	for (size_t i = 0; i < FLOOD_FRAMES; i++)
		kc_frame_encode(&f, buf + i * one, one);
	*len = one * FLOOD_FRAMES;
	return buf;
}

/*
 * Four connections of alice each pipeline 100,000 GET_SEALs (about 80
 * MB of answers each) and never read. Bob's PINGs meanwhile are answered
 * within 100 ms, and the agent's memory grows by a bounded amount: each
 * connection stops being read once output_pause_bytes (1 MiB) of its
 * answers wait.
 */
/*
 * Bob's PINGs while the flood runs: how many took longer than limit_ms,
 * and the slowest.
 */
static int ping_during_flood(struct kc_client *cb, unsigned long limit_ms,
			     int pings, unsigned long *worst_ms, int *slow)
{
	*worst_ms = 0;
	*slow = 0;
	for (int i = 0; i < pings; i++) {
		uint64_t t0 = kc_mono_ms(), ms;
		int ret = tc_ping(cb, 10 + (uint64_t)i);

		if (ret)
			return ret;
		ms = kc_mono_ms() - t0;
		*worst_ms = ms > *worst_ms ? ms : *worst_ms;
		*slow += ms >= limit_ms;
		usleep(100 * 1000);
	}
	return 0;
}

/*
 * 20 PINGs: each within 100 ms (300 ms under ASan, two to three times
 * slower), one of them allowed more for this shared machine's scheduler
 * (before the flow control the flood delayed every PING by 0.6 s or more).
 * ASan keeps freed memory in quarantine, so RSS is checked without it.
 */
TEST_F_TIMEOUT(flood, get_seal_pipelining_is_bounded, 180)
{
	struct flooder fl[FLOODERS];
	pthread_t th[FLOODERS];
	unsigned long rss0, hwm, worst_ms, limit_ms = 100;
	struct kc_client *cb;
	uint8_t *frames;
	bool asan;
	size_t len;
	int slow;

	frames = get_seal_frames(&len);
	ASSERT_NE(NULL, frames);
	ASSERT_EQ(0, ti_connect(&self->a, &self->ids[1], &cb));
	ASSERT_EQ(0, tc_ping(cb, 1));
	asan = maps_have(self->a.pid, "libasan") || agent_has_asan(&self->a);
	limit_ms = asan ? 300 : 100;
	rss0 = vm_kib(self->a.pid, "VmRSS");
	for (int i = 0; i < FLOODERS; i++) {
		fl[i] = (struct flooder){ .buf = frames, .len = len };
		ASSERT_EQ(0, ti_connect(&self->a, &self->ids[0], &fl[i].c));
		ASSERT_EQ(0, pthread_create(&th[i], NULL, flood_main, &fl[i]));
	}
	ASSERT_EQ(0, ping_during_flood(cb, limit_ms, 20, &worst_ms, &slow));
	hwm = vm_kib(self->a.pid, "VmHWM");
	TH_LOG("agent RSS before %lu KiB, peak %lu KiB (+%lu KiB); PINGs over "
	       "%lu ms: %d of 20, slowest %lu ms",
	       rss0, hwm, hwm - rss0, limit_ms, slow, worst_ms);
	EXPECT_GE(1, slow);
	EXPECT_GT(1000, worst_ms);
	if (!asan)
		EXPECT_GT(24 * 1024, hwm - rss0);
	for (int i = 0; i < FLOODERS; i++) {
		shutdown(kc_tls_client_fd(kc_client_tls(fl[i].c)), SHUT_RDWR);
		pthread_join(th[i], NULL);
		kc_client_close(fl[i].c);
	}
	EXPECT_EQ(0, tc_ping(cb, 99));
	kc_client_close(cb);
	free(frames);
}

TEST_HARNESS_MAIN
