// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel TLS: after the GnuTLS handshake the traffic keys go into the
 * socket (lib/ktls.c) on both ends, the agent's (agent/ktls.c, driven by
 * tests/lib/tls_echo.c the way the ring drives it) and the client's
 * (lib/tlsclient.c).
 *
 * ktls.<suite>_<mode>.*: every TLS 1.3 suite kTLS takes, with the record
 *   layer in the kernel on both ends (ktls) or in GnuTLS on both ends
 *   (gnutls), the same tests: the handshake and who holds the record
 *   layer, data both ways in many records and in 1 MiB, close_notify
 *   either way, and a byte flipped in a captured record (by a relay in
 *   the middle, since no user code sees kTLS ciphertext) each way: that
 *   connection dies with the right error, another one stays up.
 * mixed.<suite>.*: one end in the kernel, the other in GnuTLS, so the
 *   kernel's records are proven to be TLS and not merely agreed between
 *   two kernels; and a switch made late, after records went through
 *   GnuTLS, so the sequence numbers carry over.
 * engine.*: the hand-over's preconditions, which need no kernel support,
 *   and the fallback where the kernel has no kTLS.
 * daemon.*: a real kcourierd (one worker, its io_uring loop): each
 *   connection's record layer is in the log, kTLS where the kernel has
 *   it; close_notify goes both ways; a flipped byte in a captured record
 *   kills that connection only.
 *
 * The kTLS cases SKIP where the kernel has no tls ULP (the build host);
 * tests/vm/ runs them under Debian's kernel.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../agent/conn/tls_ktls.h"
#include "../agent/conn/tls.h"
#include "tls/ktls.h"
#include "kselftest_harness.h"
#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "lib/tls_echo.h"
#include "lib/tls_mem.h"
#include "lib/tls_proxy.h"
#include "tls/tlsclient.h"

#define BIG (1024 * 1024)
#define ROUNDS 64
#define MIXED_LEN (64 * 1024)
#define LATE_AFTER 3000 /* bytes echoed through GnuTLS before the switch */

/* Why the kernel paths cannot run here, or NULL when they can. */
static const char *ktls_missing(void)
{
	static char why[128];
	int ret = kc_ktls_probe();

	if (!ret)
		return NULL;
	if (ret == -ENOENT)
		return "no kTLS: TCP_ULP tls not available on this kernel";
	snprintf(why, sizeof(why), "no kTLS: the TCP_ULP probe failed: %s",
		 strerror(-ret));
	return why;
}

static int connect_port(const struct echo_pki *pki, int port,
			const char *cipher, bool ktls,
			struct kc_tls_client **out)
{
	struct kc_tls_client_opts opts = { .cipher = cipher, .no_ktls = !ktls };

	return echo_connect(port, pki->pin, &pki->client, &opts, out);
}

/* One round trip of len bytes of pattern on an open connection. */
static int round_trip(struct kc_tls_client *c, size_t len, uint8_t seed)
{
	uint8_t *out = malloc(len), *back = malloc(len);
	int ret = -ENOMEM;
	size_t i;

	if (!out || !back)
		goto cleanup;
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(seed + i * 7);
	ret = kc_tls_client_send(c, out, len);
	if (!ret)
		ret = echo_recv_all(c, back, len);
	if (!ret && memcmp(out, back, len))
		ret = -EBADMSG;
cleanup:
	free(out);
	free(back);
	return ret;
}

/* ktls: per suite, both ends in the kernel or both in GnuTLS */

FIXTURE(ktls)
{
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct echo_agent agent, other;
	struct tls_proxy proxy;
	struct kc_tls_client *cli, *cli2;
};

FIXTURE_VARIANT(ktls)
{
	const char *cipher;
	bool ktls;
};

FIXTURE_VARIANT_ADD(ktls, aes128gcm_ktls)
{
	.cipher = "AES-128-GCM",
	.ktls = true,
};

FIXTURE_VARIANT_ADD(ktls, aes128gcm_gnutls)
{
	.cipher = "AES-128-GCM",
};

FIXTURE_VARIANT_ADD(ktls, aes256gcm_ktls)
{
	.cipher = "AES-256-GCM",
	.ktls = true,
};

FIXTURE_VARIANT_ADD(ktls, aes256gcm_gnutls)
{
	.cipher = "AES-256-GCM",
};

FIXTURE_VARIANT_ADD(ktls, chacha20_ktls)
{
	.cipher = "CHACHA20-POLY1305",
	.ktls = true,
};

FIXTURE_VARIANT_ADD(ktls, chacha20_gnutls)
{
	.cipher = "CHACHA20-POLY1305",
};

FIXTURE_SETUP(ktls)
{
	const char *why = variant->ktls ? ktls_missing() : NULL;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, echo_pki_make(&self->pki, "alice"));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->other.srv = self->srv;
	self->agent.ktls = self->other.ktls = variant->ktls;
}

FIXTURE_TEARDOWN(ktls)
{
	kc_tls_client_close(self->cli);
	kc_tls_client_close(self->cli2);
	tls_proxy_stop(&self->proxy);
	echo_agent_stop(&self->agent);
	echo_agent_stop(&self->other);
	kc_tls_server_free(self->srv);
	echo_pki_free(&self->pki);
}

/* Connects to port, reads the greeting and checks who has the records. */
static void open_checked(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ktls) *self,
			 const FIXTURE_VARIANT(ktls) *variant, int port,
			 struct kc_tls_client **cli)
{
	char line[ECHO_LINE_MAX];

	ASSERT_EQ(0, connect_port(&self->pki, port, variant->cipher,
				  variant->ktls, cli));
	ASSERT_LT(0, echo_read_line(*cli, line, sizeof(line)));
	EXPECT_STREQ("peer:0:alice\n", line);
	EXPECT_EQ(variant->ktls, kc_tls_client_ktls(*cli));
	EXPECT_STREQ(variant->cipher, kc_tls_client_cipher(*cli));
}

/* What the agent end reported once the connection is over. */
static void expect_agent_mode(struct __test_metadata *_metadata,
			      const struct echo_agent *a, bool ktls)
{
	/* 1: never switched; the GnuTLS variants never ask. */
	EXPECT_EQ(ktls ? 0 : 1, a->ktls_rc);
}

TEST_F(ktls, handshake)
{
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	open_checked(_metadata, self, variant, self->agent.port, &self->cli);
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(0, self->agent.hs_rc);
	EXPECT_STREQ("alice", self->agent.peer_id);
	EXPECT_STREQ(variant->cipher, self->agent.cipher);
	expect_agent_mode(_metadata, &self->agent, variant->ktls);
	/* The client's close_notify arrived as such. */
	EXPECT_EQ(0, self->agent.read_rc);
}

/* Many records of many sizes, each way: sequence numbers move along. */
TEST_F_TIMEOUT(ktls, echo_rounds, 120)
{
	size_t total = 0;
	int i;

	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	open_checked(_metadata, self, variant, self->agent.port, &self->cli);
	for (i = 0; i < ROUNDS; i++) {
		size_t len = 1 + (size_t)i * 997 % 20000;

		ASSERT_EQ(0, round_trip(self->cli, len, (uint8_t)i));
		total += len;
	}
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(total, self->agent.echoed);
	expect_agent_mode(_metadata, &self->agent, variant->ktls);
}

TEST_F_TIMEOUT(ktls, echo_1mib, 240)
{
	uint8_t *out = malloc(BIG), *back = malloc(BIG);

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, gnutls_rnd(GNUTLS_RND_NONCE, out, BIG));
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	open_checked(_metadata, self, variant, self->agent.port, &self->cli);
	ASSERT_EQ(0, kc_tls_client_send(self->cli, out, BIG));
	ASSERT_EQ(0, echo_recv_all(self->cli, back, BIG));
	EXPECT_EQ(0, memcmp(out, back, BIG));
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(BIG, self->agent.echoed);
	expect_agent_mode(_metadata, &self->agent, variant->ktls);
	free(out);
	free(back);
}

TEST_F(ktls, close_notify_from_agent)
{
	char buf[16];

	self->agent.bye_after_greeting = true;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	open_checked(_metadata, self, variant, self->agent.port, &self->cli);
	EXPECT_EQ(0, kc_tls_client_recv(self->cli, buf, sizeof(buf), 0));
	/* And it stays closed. */
	EXPECT_EQ(0, kc_tls_client_recv(self->cli, buf, sizeof(buf), 0));
}

/*
 * A second connection, to its own agent end, that must not notice
 * anything: kernel TLS state is per socket.
 */
static void start_bystander(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ktls) *self,
			    const FIXTURE_VARIANT(ktls) *variant)
{
	ASSERT_EQ(0, echo_agent_start(&self->other, AF_INET));
	open_checked(_metadata, self, variant, self->other.port, &self->cli2);
	ASSERT_EQ(0, round_trip(self->cli2, 1000, 1));
}

static void check_bystander(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ktls) *self,
			    const FIXTURE_VARIANT(ktls) *variant)
{
	ASSERT_EQ(0, round_trip(self->cli2, 5000, 2));
	kc_tls_client_close(self->cli2);
	self->cli2 = NULL;
	echo_agent_stop(&self->other);
	EXPECT_EQ(0, self->other.read_rc);
	EXPECT_EQ(6000, self->other.echoed);
	expect_agent_mode(_metadata, &self->other, variant->ktls);
}

/* What the client sends is flipped: the agent end refuses the record. */
TEST_F_TIMEOUT(ktls, flipped_to_agent, 120)
{
	static const char msg[] = "this record gets one bit flipped";
	char buf[64];
	ssize_t n;

	start_bystander(_metadata, self, variant);
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, tls_proxy_start(&self->proxy, self->agent.port));
	open_checked(_metadata, self, variant, self->proxy.port, &self->cli);
	tls_proxy_arm(&self->proxy, true);
	ASSERT_EQ(0, kc_tls_client_send(self->cli, msg, sizeof(msg) - 1));
	/* No echo: GnuTLS answers bad_record_mac, the kernel just closes. */
	n = kc_tls_client_recv(self->cli, buf, sizeof(buf), 0);
	EXPECT_GT(0, n);
	TH_LOG("client saw %zd: %s", n, kc_tls_client_strerror());
	echo_agent_stop(&self->agent);
	EXPECT_TRUE(tls_proxy_flipped(&self->proxy, true));
	EXPECT_EQ(-EBADMSG, self->agent.read_rc);
	EXPECT_EQ(0, self->agent.echoed);
	expect_agent_mode(_metadata, &self->agent, variant->ktls);
	check_bystander(_metadata, self, variant);
}

/* What the agent end sends is flipped: the client refuses the record. */
TEST_F_TIMEOUT(ktls, flipped_to_client, 120)
{
	static const char msg[] = "the echo of this gets one bit flipped";
	char buf[64];
	ssize_t n;

	start_bystander(_metadata, self, variant);
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, tls_proxy_start(&self->proxy, self->agent.port));
	open_checked(_metadata, self, variant, self->proxy.port, &self->cli);
	tls_proxy_arm(&self->proxy, false);
	ASSERT_EQ(0, kc_tls_client_send(self->cli, msg, sizeof(msg) - 1));
	n = kc_tls_client_recv(self->cli, buf, sizeof(buf), 0);
	EXPECT_EQ(-EBADMSG, n);
	TH_LOG("client saw %zd: %s", n, kc_tls_client_strerror());
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_TRUE(tls_proxy_flipped(&self->proxy, false));
	EXPECT_EQ(sizeof(msg) - 1, self->agent.echoed);
	check_bystander(_metadata, self, variant);
}

/* mixed: one end in the kernel, the other in GnuTLS */

FIXTURE(mixed)
{
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct echo_agent agent;
	struct kc_tls_client *cli;
};

FIXTURE_VARIANT(mixed)
{
	const char *cipher;
};

FIXTURE_VARIANT_ADD(mixed, aes128gcm)
{
	.cipher = "AES-128-GCM",
};

FIXTURE_VARIANT_ADD(mixed, aes256gcm)
{
	.cipher = "AES-256-GCM",
};

FIXTURE_VARIANT_ADD(mixed, chacha20)
{
	.cipher = "CHACHA20-POLY1305",
};

FIXTURE_SETUP(mixed)
{
	const char *why = ktls_missing();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, echo_pki_make(&self->pki, "alice"));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->srv;
}

FIXTURE_TEARDOWN(mixed)
{
	kc_tls_client_close(self->cli);
	echo_agent_stop(&self->agent);
	kc_tls_server_free(self->srv);
	echo_pki_free(&self->pki);
}

/* Greeting, data both ways, close_notify, with the ends as given. */
static void mixed_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(mixed) *self, const char *cipher,
		       bool agent_ktls, bool client_ktls)
{
	char line[ECHO_LINE_MAX];

	self->agent.ktls = agent_ktls;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, connect_port(&self->pki, self->agent.port, cipher,
				  client_ktls, &self->cli));
	EXPECT_EQ(client_ktls, kc_tls_client_ktls(self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_STREQ("peer:0:alice\n", line);
	ASSERT_EQ(0, round_trip(self->cli, MIXED_LEN, 3));
	ASSERT_EQ(0, round_trip(self->cli, 1, 4));
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(agent_ktls ? 0 : 1, self->agent.ktls_rc);
	EXPECT_EQ(MIXED_LEN + 1, self->agent.echoed);
	EXPECT_EQ(0, self->agent.read_rc);
}

TEST_F_TIMEOUT(mixed, kernel_agent_gnutls_client, 120)
{
	mixed_case(_metadata, self, variant->cipher, true, false);
}

TEST_F_TIMEOUT(mixed, gnutls_agent_kernel_client, 120)
{
	mixed_case(_metadata, self, variant->cipher, false, true);
}

/*
 * The agent end switches only after LATE_AFTER bytes went through GnuTLS
 * both ways, so the kernel starts at sequence numbers above zero.
 */
TEST_F_TIMEOUT(mixed, late_switch, 120)
{
	char line[ECHO_LINE_MAX];
	size_t total = 0;
	int i;

	self->agent.ktls = true;
	self->agent.ktls_after = LATE_AFTER;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, connect_port(&self->pki, self->agent.port,
				  variant->cipher, true, &self->cli));
	ASSERT_TRUE(kc_tls_client_ktls(self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, round_trip(self->cli, 1000, (uint8_t)i));
		total += 1000;
	}
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(0, self->agent.ktls_rc);
	EXPECT_EQ(total, self->agent.echoed);
	EXPECT_EQ(0, self->agent.read_rc);
}

/* engine: what needs no kernel support */

FIXTURE(engine)
{
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct rawcli raw;
	struct kc_tls_conn *conn;
	struct echo_agent agent;
	struct kc_tls_client *cli;
};

FIXTURE_SETUP(engine)
{
	ASSERT_EQ(0, echo_pki_make(&self->pki, "alice"));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->srv;
}

FIXTURE_TEARDOWN(engine)
{
	kc_tls_client_close(self->cli);
	echo_agent_stop(&self->agent);
	kc_tls_conn_free(self->conn);
	rawcli_free(&self->raw);
	kc_tls_server_free(self->srv);
	echo_pki_free(&self->pki);
}

/*
 * GnuTLS pulls a record's header, then as much of the body as there is,
 * and keeps a partial record inside where no API shows it. Handing over
 * then would lose those bytes: the engine must say "not yet" until the
 * record is complete, and must not touch the socket meanwhile.
 */
TEST_F(engine, partial_record_blocks_handover)
{
	uint8_t buf[64];
	size_t n;

	ASSERT_EQ(0, rawcli_open(&self->raw, self->srv, "AES-128-GCM",
				 &self->conn));
	EXPECT_EQ(0, kc_tls_passthrough_ready(self->conn));
	ASSERT_EQ(4, gnutls_record_send(self->raw.s, "part", 4));
	n = kc_bytebuf_size(&self->raw.out);
	ASSERT_LT(10, n);
	ASSERT_EQ(0, kc_tls_feed(self->conn, kc_bytebuf_data(&self->raw.out),
				 10));
	kc_bytebuf_consume(&self->raw.out, 10);
	EXPECT_EQ(-EAGAIN, kc_tls_read(self->conn, buf, sizeof(buf)));
	EXPECT_EQ(-EBUSY, kc_tls_passthrough_ready(self->conn));
	/* fd -1: the check comes before any socket call. */
	EXPECT_EQ(-EBUSY, kc_tls_start_ktls(self->conn, -1));
	EXPECT_EQ(-EBUSY, kc_tls_set_passthrough(self->conn));
	rawcli_shuttle(&self->raw, self->conn);
	ASSERT_EQ(4, kc_tls_read(self->conn, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp("part", buf, 4));
	EXPECT_EQ(0, kc_tls_passthrough_ready(self->conn));
	EXPECT_FALSE(kc_tls_is_passthrough(self->conn));
}

/* Queued ciphertext of ours would be encrypted a second time. */
TEST_F(engine, pending_output_blocks_handover)
{
	ASSERT_EQ(0, rawcli_open(&self->raw, self->srv, "AES-256-GCM",
				 &self->conn));
	ASSERT_EQ(2, kc_tls_write(self->conn, (const uint8_t *)"hi", 2));
	EXPECT_EQ(-EBUSY, kc_tls_start_ktls(self->conn, -1));
	rawcli_shuttle(&self->raw, self->conn);
	EXPECT_EQ(0, kc_tls_passthrough_ready(self->conn));
}

/*
 * Where the kernel has no kTLS both ends ask for it, are refused, and go
 * on over GnuTLS as if nothing happened.
 */
TEST_F(engine, fallback_without_ktls)
{
	char line[ECHO_LINE_MAX];
	int probe = kc_ktls_probe();

	if (!probe)
		SKIP(return, "kTLS is available here: no fallback to see");
	self->agent.ktls = true;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, connect_port(&self->pki, self->agent.port, NULL, true,
				  &self->cli));
	EXPECT_FALSE(kc_tls_client_ktls(self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	ASSERT_EQ(0, round_trip(self->cli, 3000, 5));
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(probe, self->agent.ktls_rc);
	EXPECT_EQ(0, self->agent.read_rc);
	TH_LOG("kTLS refused: %s", strerror(-probe));
}

/* daemon: a real kcourierd */

FIXTURE(daemon)
{
	struct agent_proc a;
	struct test_ident alice;
	struct tls_proxy proxy;
	struct kc_client *c1, *c2;
};

FIXTURE_SETUP(daemon)
{
	int ret = agent_proc_init(&self->a, 1);

	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
}

FIXTURE_TEARDOWN(daemon)
{
	int rc;

	kc_client_close(self->c1);
	kc_client_close(self->c2);
	tls_proxy_stop(&self->proxy);
	rc = agent_proc_finish(&self->a, _metadata->exit_code);
	EXPECT_EQ(0, rc);
	ti_free(&self->alice);
	agent_proc_destroy(&self->a);
}

/* The log line kcourierd writes once it decided who has the records. */
static const char *mode_line(void)
{
	return ktls_missing() ? "connection alice: GnuTLS record layer"
			      : "connection alice: kTLS, ";
}

#define STATS_LINE AGENT_PROC_STATS_LINE

/*
 * The counters kcourierd logs at stop (and on SIGUSR1): every connection
 * on the kernel's record layer when it has kTLS, none when it has not.
 */
static void check_stats_line(struct __test_metadata *_metadata,
			     const struct agent_proc *a, bool have)
{
	unsigned long on = 0, off = 0;

	ASSERT_EQ(0, agent_proc_record_layers(a, &on, &off));
	TH_LOG("kTLS %lu, GnuTLS %lu", on, off);
	if (have) {
		EXPECT_LE(2, on); /* one without a certificate, and alice's */
		EXPECT_EQ(0, off);
	} else {
		EXPECT_EQ(0, on);
		EXPECT_LE(2, off);
	}
}

#define UNREGISTERED_LINE "connection (unregistered): "

/*
 * A connection without a certificate gets its record layer like any
 * other. The REGISTER of the setup may not show it: the agent closes
 * that connection after the answer, which can come before the switch.
 * One that sends nothing stays open long enough (handshake_timeout).
 */
static bool unregistered_decided(const struct agent_proc *a)
{
	struct kc_client *c;
	int i;

	if (ti_connect(a, NULL, &c))
		return false;
	for (i = 0; i < 500 && !agent_proc_log_has(a, UNREGISTERED_LINE); i++)
		usleep(10000);
	kc_client_close(c);
	return agent_proc_log_has(a, UNREGISTERED_LINE);
}

/*
 * Pings over the record layer the log names, then a frame error: the
 * agent answers ERROR and closes with close_notify (from the kernel under
 * kTLS), and the client's close_notify earlier was taken as a clean end.
 * One test, because each agent costs its keys (slow in the guest).
 */
TEST_F_TIMEOUT(daemon, record_layer_and_close_notify, 300)
{
	static const uint8_t len0[] = { 0, 0, 0, 0, KC_T_PING };
	bool have = !ktls_missing();
	uint8_t b;
	int i, status;

	EXPECT_TRUE(unregistered_decided(&self->a));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &self->c1));
	EXPECT_EQ(have, kc_tls_client_ktls(kc_client_tls(self->c1)));
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, tc_ping(self->c1, (uint64_t)i));
	ASSERT_EQ(0, tc_send_raw(self->c1, len0, sizeof(len0)));
	ASSERT_EQ(0, tc_await_error(self->c1, &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
	EXPECT_EQ(0, kc_tls_client_recv(kc_client_tls(self->c1), &b, 1,
					TEST_WAIT_MS));
	TH_LOG("%s", kc_tls_client_strerror());
	kc_client_close(self->c1);
	self->c1 = NULL;
	/* SIGUSR1 logs the counters while the agent keeps running. */
	ASSERT_EQ(0, kill(self->a.pid, SIGUSR1));
	for (i = 0; i < 500 && !agent_proc_log_has(&self->a, STATS_LINE); i++)
		usleep(10000);
	EXPECT_TRUE(agent_proc_log_has(&self->a, STATS_LINE));
	EXPECT_EQ(0, kill(self->a.pid, 0));
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	EXPECT_TRUE(agent_proc_log_has(&self->a, mode_line()));
	/* The registering client's close_notify was taken as such. */
	EXPECT_FALSE(agent_proc_log_has(&self->a, "Input/output error"));
	EXPECT_FALSE(agent_proc_log_has(&self->a, "unexpected record"));
	check_stats_line(_metadata, &self->a, have);
}

TEST_F_TIMEOUT(daemon, flipped_record_kills_one_connection, 300)
{
	struct agent_proc via = self->a;

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &self->c2));
	ASSERT_EQ(0, tc_ping(self->c2, 1));
	ASSERT_EQ(0, tls_proxy_start(&self->proxy,
				     atoi(strrchr(self->a.addr, ':') + 1)));
	snprintf(via.addr, sizeof(via.addr), "127.0.0.1:%d",
		 self->proxy.port);
	ASSERT_EQ(0, ti_connect(&via, &self->alice, &self->c1));
	ASSERT_EQ(0, tc_ping(self->c1, 2));
	EXPECT_TRUE(agent_proc_log_has(&self->a, mode_line()));
	tls_proxy_arm(&self->proxy, true);
	EXPECT_NE(0, tc_ping(self->c1, 3));
	EXPECT_TRUE(tls_proxy_flipped(&self->proxy, true));
	EXPECT_TRUE(tc_closed(self->c1));
	/* The other connection, and a new one, do not notice. */
	EXPECT_EQ(0, tc_ping(self->c2, 4));
	kc_client_close(self->c1);
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &self->c1));
	EXPECT_EQ(0, tc_ping(self->c1, 5));
	EXPECT_EQ(0, tc_ping(self->c2, 6));
}

TEST_HARNESS_MAIN
