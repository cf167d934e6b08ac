// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transport of PROTOCOL.md section 3, both ends, on real GnuTLS.
 *
 * The agent end (agent/tls.c) runs in a thread that pumps bytes between a
 * loopback TCP socket and kc_tls_feed()/kc_tls_pending_output(), the way
 * the io_uring loop does (tests/lib/tls_echo.h). After its handshake it
 * writes one greeting line, "peer:<kc_tls_peer() result>:<id>\n", then
 * echoes whatever it reads. The client end is lib/tlsclient.c, or a raw
 * GnuTLS client in memory (tests/lib/tls_mem.h) where the test needs a
 * client that breaks the rules (no ALPN, TLS 1.2), or gnutls-cli as an
 * implementation that shares no code with ours. test_ktls.c runs the
 * per-suite cases again with the record layer in the kernel.
 *
 * tls.<cipher>.*: what the kTLS work will run again per cipher suite:
 *   handshake, echo both ways (small and 1 MiB), a flipped ciphertext
 *   byte, close_notify, KeyUpdate, pass-through mode.
 * policy.*: pins, chain checks, ALPN, versions, resumption (next to a
 *   control that does resume, so the probe can fail), buffer caps,
 *   timeouts, gnutls-cli.
 * peer.<case>.*: which client certificates name a client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../agent/conn/bytebuf.h"
#include "../agent/conn/tls.h"
#include "kselftest_harness.h"
#include "lib/testpki.h"
#include "lib/tls_echo.h"
#include "lib/tls_mem.h"
#include "tls/tlsclient.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

#define BIG (1024 * 1024)
#define LINE_MAX 256
#define MEM_ROUNDS 64

/*
 * Each test runs in a child that ends with _exit(), which skips
 * LeakSanitizer's exit-time check; teardowns ask for it explicitly.
 */
static void leak_check(struct __test_metadata *_metadata)
{
#ifdef HAVE_LSAN
	EXPECT_EQ(0, __lsan_do_recoverable_leak_check());
#endif
}

/* tls: per cipher suite */

FIXTURE(tls)
{
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct echo_agent agent;
	struct kc_tls_client *cli;
	struct rawcli raw;
	struct kc_tls_conn *conn;
};

FIXTURE_VARIANT(tls)
{
	const char *cipher; /* GnuTLS name, forced on the client */
};

FIXTURE_VARIANT_ADD(tls, aes128gcm)
{
	.cipher = "AES-128-GCM",
};

FIXTURE_VARIANT_ADD(tls, aes256gcm)
{
	.cipher = "AES-256-GCM",
};

FIXTURE_VARIANT_ADD(tls, chacha20)
{
	.cipher = "CHACHA20-POLY1305",
};

FIXTURE_SETUP(tls)
{
	ASSERT_EQ(0, echo_pki_make(&self->pki, "alice"));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->srv;
}

FIXTURE_TEARDOWN(tls)
{
	kc_tls_client_close(self->cli);
	echo_agent_stop(&self->agent);
	kc_tls_conn_free(self->conn);
	rawcli_free(&self->raw);
	kc_tls_server_free(self->srv);
	echo_pki_free(&self->pki);
	leak_check(_metadata);
}

TEST_F(tls, handshake)
{
	struct kc_bytes chain[4];
	struct kc_bytes pinned;
	char line[LINE_MAX];

	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin,
					 &self->pki.client, variant->cipher,
					 &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_STREQ("peer:0:alice\n", line);
	EXPECT_STREQ(variant->cipher, kc_tls_client_cipher(self->cli));

	/* The agent sends its certificate and the CA, in that order. */
	ASSERT_EQ(2, kc_tls_client_peer_chain(self->cli, chain, 4));
	ASSERT_EQ(self->pki.server.der.size, chain[0].len);
	EXPECT_EQ(0, memcmp(self->pki.server.der.data, chain[0].p,
			    chain[0].len));
	ASSERT_EQ(self->pki.ca.der.size, chain[1].len);
	EXPECT_EQ(0, memcmp(self->pki.ca.der.data, chain[1].p, chain[1].len));
	pinned = kc_tls_client_pinned_cert(self->cli);
	EXPECT_EQ(chain[1].p, pinned.p);

	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(0, self->agent.peer_rc);
	EXPECT_STREQ("alice", self->agent.peer_id);
	EXPECT_STREQ(variant->cipher, self->agent.cipher);
	/* kc_tls_client_close sent close_notify. */
	EXPECT_EQ(0, self->agent.read_rc);
}

TEST_F(tls, echo_small)
{
	static const char msg[] = "hello, agent";
	char line[LINE_MAX];

	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin, NULL,
					 variant->cipher, &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_STREQ("peer:-2:\n", line); /* -ENOENT: no certificate */
	ASSERT_EQ(0, kc_tls_client_send(self->cli, msg, sizeof(msg) - 1));
	ASSERT_EQ(0, echo_recv_all(self->cli, (uint8_t *)line, sizeof(msg) - 1));
	EXPECT_EQ(0, memcmp(msg, line, sizeof(msg) - 1));
}

TEST_F_TIMEOUT(tls, echo_1mib, 120)
{
	uint8_t *out = malloc(BIG), *back = malloc(BIG);
	char line[LINE_MAX];

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, gnutls_rnd(GNUTLS_RND_NONCE, out, BIG));
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin,
					 &self->pki.client, variant->cipher,
					 &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	/* The agent keeps reading while less than ECHO_HIGH waits to go out. */
	ASSERT_EQ(0, kc_tls_client_send(self->cli, out, BIG));
	ASSERT_EQ(0, echo_recv_all(self->cli, back, BIG));
	EXPECT_EQ(0, memcmp(out, back, BIG));
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(BIG, self->agent.echoed);
	free(out);
	free(back);
}

TEST_F(tls, flipped_byte_kills_connection)
{
	static const char msg[] = "this record gets one bit flipped";
	char line[LINE_MAX];
	ssize_t n;

	self->agent.tamper = true;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin,
					 &self->pki.client, variant->cipher,
					 &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	ASSERT_EQ(0, kc_tls_client_send(self->cli, msg, sizeof(msg) - 1));
	/* No echo: the agent sends bad_record_mac and closes. */
	n = kc_tls_client_recv(self->cli, line, sizeof(line), 0);
	EXPECT_GT(0, n);
	TH_LOG("client saw %zd: %s", n, kc_tls_client_strerror());
	echo_agent_stop(&self->agent);
	EXPECT_TRUE(self->agent.flipped);
	EXPECT_EQ(-EBADMSG, self->agent.read_rc);
	EXPECT_EQ(0, self->agent.echoed);
	TH_LOG("agent: %s", self->agent.reason);
}

TEST_F(tls, close_notify_from_agent)
{
	char line[LINE_MAX];

	self->agent.bye_after_greeting = true;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin,
					 &self->pki.client, variant->cipher,
					 &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_EQ(0, kc_tls_client_recv(self->cli, line, sizeof(line), 0));
}

/*
 * RFC 8446 4.6.3: a KeyUpdate asking for ours is answered before the
 * agent's next record, and both sides keep talking on the new keys.
 */
TEST_F(tls, key_update)
{
	uint8_t buf[64];
	const uint8_t *p;
	size_t n, one_record;
	int i;

	ASSERT_EQ(0, rawcli_open(&self->raw, self->srv, variant->cipher,
				 &self->conn));
	one_record = 5 + gnutls_record_overhead_size(self->raw.s);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, gnutls_session_key_update(self->raw.s,
						       GNUTLS_KU_PEER));
		ASSERT_EQ(5, gnutls_record_send(self->raw.s, "ping!", 5));
		rawcli_shuttle(&self->raw, self->conn);
		ASSERT_EQ(5, kc_tls_read(self->conn, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp("ping!", buf, 5));
		ASSERT_EQ(5, kc_tls_write(self->conn, (const uint8_t *)"pong!",
					  5));
		/* The agent's KeyUpdate goes out in front of "pong!". */
		kc_tls_pending_output(self->conn, &p, &n);
		EXPECT_LT(one_record, n);
		ASSERT_EQ(5, rawcli_recv(&self->raw, self->conn, buf,
					 sizeof(buf)));
		EXPECT_EQ(0, memcmp("pong!", buf, 5));
	}
}

TEST_F(tls, passthrough)
{
	uint8_t buf[64];
	const uint8_t *p;
	size_t n;

	ASSERT_EQ(0, kc_tls_conn_new(self->srv, &self->conn));
	EXPECT_EQ(-ENOTCONN, kc_tls_set_passthrough(self->conn));
	kc_tls_conn_free(self->conn);
	self->conn = NULL;

	ASSERT_EQ(0, rawcli_open(&self->raw, self->srv, variant->cipher,
				 &self->conn));
	/* A record not yet read through GnuTLS must not be skipped. */
	ASSERT_EQ(3, gnutls_record_send(self->raw.s, "old", 3));
	rawcli_shuttle(&self->raw, self->conn);
	EXPECT_EQ(-EBUSY, kc_tls_set_passthrough(self->conn));
	ASSERT_EQ(3, kc_tls_read(self->conn, buf, sizeof(buf)));
	ASSERT_EQ(0, kc_tls_set_passthrough(self->conn));

	ASSERT_EQ(5, kc_tls_write(self->conn, (const uint8_t *)"plain", 5));
	kc_tls_pending_output(self->conn, &p, &n);
	ASSERT_EQ(5, n);
	EXPECT_EQ(0, memcmp("plain", p, 5));
	kc_tls_consume_output(self->conn, 5);
	ASSERT_EQ(0, kc_tls_feed(self->conn, (const uint8_t *)"bytes", 5));
	ASSERT_EQ(5, kc_tls_read(self->conn, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp("bytes", buf, 5));
	EXPECT_EQ(-EAGAIN, kc_tls_read(self->conn, buf, sizeof(buf)));
	EXPECT_EQ(-EOPNOTSUPP, kc_tls_bye(self->conn));
}

/* policy */

FIXTURE(policy)
{
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct echo_agent agent;
	struct kc_tls_client *cli;
	struct rawcli raw;
	struct kc_tls_conn *conn;
	char dir[64];
};

static const char *const cli_file_names[] = { "ca.pem", "client.pem",
					      "client.key" };

static void remove_dir(const char *dir)
{
	char path[128];
	size_t i;

	if (!dir[0])
		return;
	for (i = 0; i < sizeof(cli_file_names) / sizeof(cli_file_names[0]);
	     i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cli_file_names[i]);
		unlink(path);
	}
	rmdir(dir);
}

FIXTURE_SETUP(policy)
{
	ASSERT_EQ(0, echo_pki_make(&self->pki, "alice"));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->srv;
}

FIXTURE_TEARDOWN(policy)
{
	kc_tls_client_close(self->cli);
	echo_agent_stop(&self->agent);
	kc_tls_conn_free(self->conn);
	rawcli_free(&self->raw);
	kc_tls_server_free(self->srv);
	echo_pki_free(&self->pki);
	remove_dir(self->dir);
	leak_check(_metadata);
}

TEST_F(policy, pin_matches_openssl)
{
	char ours[65];

	ASSERT_EQ(0, kc_cert_pin(self->pki.ca.der.data, self->pki.ca.der.size,
				 ours));
	EXPECT_STREQ(self->pki.pin, ours);
}

TEST_F(policy, wrong_pin_refused)
{
	struct echo_pki other;

	ASSERT_EQ(0, echo_pki_make(&other, NULL));
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	EXPECT_EQ(-EKEYREJECTED, echo_client_connect(&self->agent, other.pin,
						     &self->pki.client, NULL,
						     &self->cli));
	EXPECT_STREQ("server certificate does not match the pinned CA "
		     "fingerprint", kc_tls_client_strerror());
	EXPECT_EQ(NULL, self->cli);
	echo_agent_stop(&self->agent);
	/* The client's bad_certificate alert ended it before any data. */
	EXPECT_EQ(-ECONNABORTED, self->agent.hs_rc);
	EXPECT_EQ(0, self->agent.echoed);
	echo_pki_free(&other);
}

TEST_F(policy, pin_on_leaf_refused)
{
	char leaf_pin[65];

	ASSERT_EQ(0, testpki_pin(&self->pki.server.der, leaf_pin));
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	EXPECT_EQ(-EKEYREJECTED, echo_client_connect(&self->agent, leaf_pin, NULL,
						     NULL, &self->cli));
	TH_LOG("%s", kc_tls_client_strerror());
}

/* The pin is found, but the chain up to it does not verify. */
static void bad_leaf_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(policy) *self,
			  const struct testpki_profile *prof, const char *why)
{
	struct testpki_cert leaf;

	ASSERT_EQ(0, testpki_issue(&leaf, &self->pki.ca, prof));
	kc_tls_server_free(self->srv);
	ASSERT_EQ(0, echo_server_new(&leaf, &self->pki.ca, 0, &self->srv));
	self->agent.srv = self->srv;
	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	EXPECT_EQ(-EKEYREJECTED, echo_client_connect(&self->agent, self->pki.pin,
						     NULL, NULL, &self->cli));
	TH_LOG("%s", kc_tls_client_strerror());
	EXPECT_NE(NULL, strstr(kc_tls_client_strerror(),
			       "does not verify to the pinned CA"));
	EXPECT_NE(NULL, strstr(kc_tls_client_strerror(), why));
	testpki_free(&leaf);
}

TEST_F(policy, expired_server_cert_refused)
{
	const struct testpki_profile prof = {
		.cn = "kcourierd",
		.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
		.eku = GNUTLS_KP_TLS_WWW_SERVER,
		.days_valid = -1,
	};

	bad_leaf_case(_metadata, self, &prof, "expired");
}

TEST_F(policy, client_eku_server_cert_refused)
{
	const struct testpki_profile prof = {
		.cn = "kcourierd",
		.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
		.eku = GNUTLS_KP_TLS_WWW_CLIENT,
	};

	bad_leaf_case(_metadata, self, &prof, "purpose");
}

TEST_F(policy, bad_arguments)
{
	struct kc_bytes chain[1] = {
		{ self->pki.client.der.data, self->pki.client.der.size }
	};
	struct kc_tls_client_cred cred = {
		.chain = chain,
		.chain_len = 1,
		.key_pkcs8 = { self->pki.server.key_der.data,
			       self->pki.server.key_der.size },
	};
	struct kc_tls_client_opts opts = { .cipher = "+VERS-TLS1.2" };

	EXPECT_EQ(-EINVAL, kc_tls_client_connect("127.0.0.1:1", "abcd", NULL,
						 0, &self->cli));
	EXPECT_EQ(-EINVAL, kc_tls_client_connect("127.0.0.1", self->pki.pin,
						 NULL, 0, &self->cli));
	EXPECT_EQ(-EINVAL, kc_tls_client_connect("::1:80", self->pki.pin,
						 NULL, 0, &self->cli));
	EXPECT_EQ(-EINVAL, kc_tls_client_connect("127.0.0.1:70000",
						 self->pki.pin, NULL, 0,
						 &self->cli));
	/* A key that is not the certificate's. */
	EXPECT_EQ(-EINVAL, kc_tls_client_connect("127.0.0.1:1", self->pki.pin,
						 &cred, 0, &self->cli));
	EXPECT_STREQ("client key does not match its certificate",
		     kc_tls_client_strerror());
	EXPECT_EQ(-EINVAL, kc_tls_client_connect_opts(
				   "127.0.0.1:1", self->pki.pin, &opts,
				   &self->cli));
}

TEST_F(policy, connection_refused)
{
	char addr[64];
	int fd, port;

	/* A port that was just free and has no listener. */
	fd = echo_listen_on(AF_INET, &port);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	EXPECT_EQ(-ECONNREFUSED, kc_tls_client_connect(addr, self->pki.pin,
						       NULL, 0, &self->cli));
	TH_LOG("%s", kc_tls_client_strerror());
}

TEST_F(policy, ipv6)
{
	char addr[64], line[LINE_MAX];

	if (echo_agent_start(&self->agent, AF_INET6))
		SKIP(return, "no IPv6 loopback here");
	snprintf(addr, sizeof(addr), "[::1]:%d", self->agent.port);
	ASSERT_EQ(0, kc_tls_client_connect(addr, self->pki.pin, NULL, 0,
					   &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_STREQ("peer:-2:\n", line);
}

TEST_F(policy, server_key_must_match)
{
	struct kc_tls_server *srv = NULL;
	struct kc_tls_server_cfg cfg = {
		.cert = echo_blob(&self->pki.server.der),
		.ca = echo_blob(&self->pki.ca.der),
		.key_pkcs8 = echo_blob(&self->pki.client.key_der),
	};

	EXPECT_EQ(-EINVAL, kc_tls_server_new(&cfg, &srv));
	EXPECT_EQ(NULL, srv);
	cfg.key_pkcs8 = echo_blob(&self->pki.server.der);
	EXPECT_EQ(-EINVAL, kc_tls_server_new(&cfg, &srv));
}

/* tls.crt and ca.crt as they sit in the state directory work as well. */
TEST_F(policy, server_accepts_pem)
{
	gnutls_datum_t crt = { NULL, 0 }, ca = { NULL, 0 }, key = { NULL, 0 };
	struct kc_tls_server *srv = NULL;
	struct kc_tls_server_cfg cfg;

	ASSERT_EQ(0, gnutls_x509_crt_export2(self->pki.server.crt,
					     GNUTLS_X509_FMT_PEM, &crt));
	ASSERT_EQ(0, gnutls_x509_crt_export2(self->pki.ca.crt,
					     GNUTLS_X509_FMT_PEM, &ca));
	ASSERT_EQ(0, gnutls_x509_privkey_export2_pkcs8(
			     self->pki.server.key, GNUTLS_X509_FMT_PEM, NULL,
			     GNUTLS_PKCS_PLAIN, &key));
	cfg = (struct kc_tls_server_cfg){ .cert = echo_blob(&crt),
					  .ca = echo_blob(&ca),
					  .key_pkcs8 = echo_blob(&key) };
	EXPECT_EQ(0, kc_tls_server_new(&cfg, &srv));
	kc_tls_server_free(srv);
	gnutls_free(crt.data);
	gnutls_free(ca.data);
	gnutls_free(key.data);
}

/* A receive that times out leaves the connection usable. */
TEST_F(policy, recv_timeout)
{
	char line[LINE_MAX];

	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ASSERT_EQ(0, echo_client_connect(&self->agent, self->pki.pin, NULL, NULL,
					 &self->cli));
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	EXPECT_EQ(-ETIMEDOUT, kc_tls_client_recv(self->cli, line,
						 sizeof(line), 50));
	ASSERT_EQ(0, kc_tls_client_send(self->cli, "ok", 2));
	ASSERT_EQ(0, echo_recv_all(self->cli, (uint8_t *)line, 2));
	EXPECT_EQ(0, memcmp("ok", line, 2));
}

static void expect_refused(struct __test_metadata *_metadata,
			   struct rawcli *rc, struct kc_tls_server *srv,
			   struct kc_tls_conn **conn, const char *prio,
			   const char *alpn)
{
	int cret, sret;

	ASSERT_EQ(0, rawcli_init(rc, prio, alpn, 0));
	ASSERT_EQ(0, kc_tls_conn_new(srv, conn));
	rawcli_handshake(rc, *conn, &cret, &sret);
	EXPECT_EQ(-EPROTO, sret);
	EXPECT_GT(0, cret);
	TH_LOG("agent: %s; client: %s (%s)", kc_tls_reason(*conn),
	       gnutls_strerror(cret),
	       gnutls_alert_get_name(gnutls_alert_get(rc->s)));
	/* Nothing decrypts or encrypts on a refused connection. */
	EXPECT_EQ(-EPROTO, kc_tls_write(*conn, (const uint8_t *)"x", 1));
	EXPECT_EQ(-ENOTCONN, kc_tls_peer(*conn, (char[KC_TLS_ID_SIZE]){ 0 }));
}

TEST_F(policy, no_alpn_refused)
{
	expect_refused(_metadata, &self->raw, self->srv, &self->conn,
		       KC_TLS_PRIORITY, NULL);
	EXPECT_EQ(GNUTLS_A_NO_APPLICATION_PROTOCOL,
		  gnutls_alert_get(self->raw.s));
}

TEST_F(policy, other_alpn_refused)
{
	expect_refused(_metadata, &self->raw, self->srv, &self->conn,
		       KC_TLS_PRIORITY, "h2");
	EXPECT_EQ(GNUTLS_A_NO_APPLICATION_PROTOCOL,
		  gnutls_alert_get(self->raw.s));
}

/* A version 1 client is refused like any other: kcourier/1 is not ours. */
TEST_F(policy, v1_alpn_refused)
{
	expect_refused(_metadata, &self->raw, self->srv, &self->conn,
		       KC_TLS_PRIORITY, "kcourier/1");
	EXPECT_EQ(GNUTLS_A_NO_APPLICATION_PROTOCOL,
		  gnutls_alert_get(self->raw.s));
}

/*
 * The client end against a plain GnuTLS server that sends the agent's
 * chain but selects some other protocol, or none: the handshake itself
 * completes, and only the client's own check can refuse it.
 */
struct alien_agent {
	const struct echo_pki *pki;
	const char *alpn; /* NULL: no ALPN extension */
	int lfd, port;
	pthread_t thread;
	int hs_rc;
};

static int alien_session(struct alien_agent *a,
			 gnutls_certificate_credentials_t cred,
			 gnutls_session_t *s)
{
	gnutls_x509_crt_t chain[] = { a->pki->server.crt, a->pki->ca.crt };
	gnutls_datum_t proto = { (unsigned char *)a->alpn,
				 a->alpn ? (unsigned int)strlen(a->alpn) : 0 };

	if (gnutls_certificate_set_x509_key(cred, chain, 2,
					    a->pki->server.key) < 0 ||
	    gnutls_init(s, GNUTLS_SERVER) < 0 ||
	    gnutls_priority_set_direct(*s, KC_TLS_PRIORITY, NULL) < 0 ||
	    gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    (a->alpn && gnutls_alpn_set_protocols(*s, &proto, 1, 0) < 0))
		return -EINVAL;
	return 0;
}

static void *alien_agent_run(void *arg)
{
	struct alien_agent *a = arg;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	int fd = accept(a->lfd, NULL, NULL);

	a->hs_rc = GNUTLS_E_INTERNAL_ERROR;
	if (fd >= 0 && gnutls_certificate_allocate_credentials(&cred) >= 0 &&
	    !alien_session(a, cred, &s)) {
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, 10000);
		do
			a->hs_rc = gnutls_handshake(s);
		while (a->hs_rc < 0 && !gnutls_error_is_fatal(a->hs_rc));
	}
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void alien_case(struct __test_metadata *_metadata,
		       const struct echo_pki *pki, const char *alpn)
{
	struct alien_agent a = { .pki = pki, .alpn = alpn };
	struct kc_tls_client_opts opts = { 0 };
	struct kc_tls_client *cli = NULL;

	a.lfd = echo_listen_on(AF_INET, &a.port);
	ASSERT_LE(0, a.lfd);
	ASSERT_EQ(0, pthread_create(&a.thread, NULL, alien_agent_run, &a));
	EXPECT_EQ(-EPROTO, echo_connect(a.port, pki->pin, NULL, &opts, &cli));
	TH_LOG("client: %s", kc_tls_client_strerror());
	EXPECT_NE(NULL, strstr(kc_tls_client_strerror(), "kcourier/2"));
	kc_tls_client_close(cli);
	pthread_join(a.thread, NULL);
	close(a.lfd);
	/* The server saw nothing wrong: the refusal is the client's. */
	EXPECT_EQ(0, a.hs_rc) TH_LOG("server: %s", gnutls_strerror(a.hs_rc));
}

TEST_F(policy, client_refuses_v1_agent)
{
	alien_case(_metadata, &self->pki, "kcourier/1");
}

TEST_F(policy, client_refuses_agent_without_alpn)
{
	alien_case(_metadata, &self->pki, NULL);
}

TEST_F(policy, tls12_refused)
{
	expect_refused(_metadata, &self->raw, self->srv, &self->conn,
		       "NORMAL:-VERS-ALL:+VERS-TLS1.2", KC_TLS_ALPN);
	/* GnuTLS finds no TLS 1.3 suite in a 1.2-only hello. */
	EXPECT_EQ(GNUTLS_A_HANDSHAKE_FAILURE, gnutls_alert_get(self->raw.s));
}

/* A raw GnuTLS server that does issue tickets, as a control. */
static int raw_ticket_server(struct rawcli *rs, const struct echo_pki *pki,
			     const gnutls_datum_t *ticket_key)
{
	gnutls_datum_t proto = { (unsigned char *)KC_TLS_ALPN,
				 sizeof(KC_TLS_ALPN) - 1 };

	memset(rs, 0, sizeof(*rs));
	if (gnutls_certificate_allocate_credentials(&rs->cred) < 0 ||
	    gnutls_certificate_set_x509_key_mem2(
		    rs->cred, &pki->server.der, &pki->server.key_der,
		    GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN) < 0 ||
	    gnutls_init(&rs->s, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_priority_set_direct(rs->s, KC_TLS_PRIORITY, NULL) < 0 ||
	    gnutls_credentials_set(rs->s, GNUTLS_CRD_CERTIFICATE,
				   rs->cred) < 0 ||
	    gnutls_alpn_set_protocols(rs->s, &proto, 1, 0) < 0 ||
	    gnutls_session_ticket_enable_server(rs->s, ticket_key) < 0)
		return -EINVAL;
	rawcli_set_transport(rs, rs->s);
	return 0;
}

static void raw_move(struct rawcli *from, struct rawcli *to)
{
	size_t n = kc_bytebuf_size(&from->out);

	if (n && !kc_bytebuf_append(&to->in, kc_bytebuf_data(&from->out), n))
		kc_bytebuf_consume(&from->out, n);
}

static int raw_pair_handshake(struct rawcli *cli, struct rawcli *srv)
{
	int c = GNUTLS_E_AGAIN, s = GNUTLS_E_AGAIN, i;

	for (i = 0; i < MEM_ROUNDS; i++) {
		if (c == GNUTLS_E_AGAIN)
			c = gnutls_handshake(cli->s);
		raw_move(cli, srv);
		if (s == GNUTLS_E_AGAIN)
			s = gnutls_handshake(srv->s);
		raw_move(srv, cli);
		if (c != GNUTLS_E_AGAIN && s != GNUTLS_E_AGAIN)
			break;
	}
	return c ? c : s;
}

/* After one record from the server, what the client could resume with. */
static int raw_pair_session_data(struct rawcli *cli, struct rawcli *srv,
				 gnutls_datum_t *data)
{
	uint8_t buf[16];
	ssize_t n = GNUTLS_E_AGAIN;
	int i;

	if (gnutls_record_send(srv->s, "hi", 2) != 2)
		return -EIO;
	for (i = 0; i < MEM_ROUNDS && n == GNUTLS_E_AGAIN; i++) {
		raw_move(srv, cli);
		n = gnutls_record_recv(cli->s, buf, sizeof(buf));
	}
	if (n != 2)
		return -EIO;
	return gnutls_session_get_data2(cli->s, data);
}

/*
 * The probe the next test uses, against a server that issues tickets: it
 * must see a resumption, or the next test could not fail.
 */
TEST_F(policy, resumption_probe_control)
{
	gnutls_datum_t key = { NULL, 0 }, data = { NULL, 0 };
	struct rawcli cli[2], srv[2];
	int i;

	ASSERT_EQ(0, gnutls_session_ticket_key_generate(&key));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0,
			  rawcli_init(&cli[i], KC_TLS_PRIORITY, KC_TLS_ALPN, 0));
		ASSERT_EQ(0, raw_ticket_server(&srv[i], &self->pki, &key));
	}
	ASSERT_EQ(0, raw_pair_handshake(&cli[0], &srv[0]));
	ASSERT_EQ(0, raw_pair_session_data(&cli[0], &srv[0], &data));
	ASSERT_EQ(0, gnutls_session_set_data(cli[1].s, data.data, data.size));
	ASSERT_EQ(0, raw_pair_handshake(&cli[1], &srv[1]));
	EXPECT_TRUE(gnutls_session_is_resumed(cli[1].s));
	for (i = 0; i < 2; i++) {
		rawcli_free(&cli[i]);
		rawcli_free(&srv[i]);
	}
	gnutls_free(data.data);
	gnutls_free(key.data);
}

/*
 * A client that would gladly resume (no GNUTLS_NO_TICKETS) gets no ticket
 * from the agent, so its second connection is a full handshake.
 */
TEST_F(policy, no_resumption)
{
	gnutls_datum_t data = { NULL, 0 };
	struct rawcli second;
	struct kc_tls_conn *conn2 = NULL;
	uint8_t buf[16];
	int cret, sret;

	ASSERT_EQ(0, rawcli_init(&self->raw, KC_TLS_PRIORITY, KC_TLS_ALPN, 0));
	ASSERT_EQ(0, kc_tls_conn_new(self->srv, &self->conn));
	rawcli_handshake(&self->raw, self->conn, &cret, &sret);
	ASSERT_EQ(0, cret);
	ASSERT_EQ(0, sret);
	/* A NewSessionTicket would arrive with the first records. */
	ASSERT_EQ(2, kc_tls_write(self->conn, (const uint8_t *)"hi", 2));
	ASSERT_EQ(2, rawcli_recv(&self->raw, self->conn, buf, sizeof(buf)));
	ASSERT_EQ(0, gnutls_session_get_data2(self->raw.s, &data));

	ASSERT_EQ(0, rawcli_init(&second, KC_TLS_PRIORITY, KC_TLS_ALPN, 0));
	ASSERT_EQ(0, gnutls_session_set_data(second.s, data.data, data.size));
	ASSERT_EQ(0, kc_tls_conn_new(self->srv, &conn2));
	rawcli_handshake(&second, conn2, &cret, &sret);
	EXPECT_EQ(0, cret);
	EXPECT_EQ(0, sret);
	EXPECT_FALSE(gnutls_session_is_resumed(second.s));
	EXPECT_FALSE(gnutls_session_is_resumed(kc_tls_session(conn2)));
	kc_tls_conn_free(conn2);
	rawcli_free(&second);
	gnutls_free(data.data);
}

TEST_F(policy, input_cap)
{
	uint8_t *junk = calloc(1, KC_TLS_IN_MAX_DEFAULT + 1);

	ASSERT_NE(NULL, junk);
	ASSERT_EQ(0, kc_tls_conn_new(self->srv, &self->conn));
	EXPECT_EQ(-ENOBUFS, kc_tls_feed(self->conn, junk,
					KC_TLS_IN_MAX_DEFAULT + 1));
	EXPECT_EQ(0, kc_tls_feed(self->conn, junk, KC_TLS_IN_MAX_DEFAULT));
	EXPECT_EQ(-ENOBUFS, kc_tls_feed(self->conn, junk, 1));
	/* Zeros are no ClientHello. */
	EXPECT_EQ(-EPROTO, kc_tls_handshake_step(self->conn));
	free(junk);
}

TEST_F(policy, output_cap)
{
	static const size_t cap = 64 * 1024;
	uint8_t *big = calloc(1, cap);
	const uint8_t *p;
	size_t n;
	int ret;

	ASSERT_NE(NULL, big);
	kc_tls_server_free(self->srv);
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, cap,
				     &self->srv));
	ret = rawcli_open(&self->raw, self->srv, "AES-128-GCM", &self->conn);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-ENOBUFS, kc_tls_write(self->conn, big, cap));
	kc_tls_pending_output(self->conn, &p, &n);
	EXPECT_EQ(0, n);
	ASSERT_EQ(cap / 2, kc_tls_write(self->conn, big, cap / 2));
	EXPECT_EQ(-ENOBUFS, kc_tls_write(self->conn, big, cap / 2));
	kc_tls_pending_output(self->conn, &p, &n);
	kc_tls_consume_output(self->conn, n);
	EXPECT_EQ(cap / 2, kc_tls_write(self->conn, big, cap / 2));
	free(big);
}

/* gnutls-cli, an independent client */

static int make_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/kc-tls-XXXXXX");
	return mkdtemp(dir) ? 0 : -errno;
}

/*
 * Runs gnutls-cli with args; feeds it nothing until its output shows
 * `until` (or it ends), then closes its stdin so it says goodbye.
 * Returns the exit status, output in out.
 */
static int run_gnutls_cli(char *const argv[], const char *until, char *out,
			  size_t cap)
{
	int in[2], outp[2], status = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(outp, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	while (len + 1 < cap && (n = read(outp[0], out + len,
					   cap - 1 - len)) > 0) {
		len += (size_t)n;
		out[len] = '\0';
		if (in[1] >= 0 && strstr(out, until)) {
			close(in[1]);
			in[1] = -1;
		}
	}
	out[len] = '\0';
	if (in[1] >= 0)
		close(in[1]);
	close(outp[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have_gnutls_cli(void)
{
	return !system("gnutls-cli --version >/dev/null 2>&1");
}

static void cli_files(struct __test_metadata *_metadata, char *dir,
		      size_t cap, const struct echo_pki *pki, char paths[3][128])
{
	ASSERT_EQ(0, make_dir(dir, cap));
	snprintf(paths[0], 128, "%s/%s", dir, cli_file_names[0]);
	snprintf(paths[1], 128, "%s/%s", dir, cli_file_names[1]);
	snprintf(paths[2], 128, "%s/%s", dir, cli_file_names[2]);
	ASSERT_EQ(0, testpki_write_pem(&pki->ca, paths[0], NULL));
	ASSERT_EQ(0, testpki_write_pem(&pki->client, paths[1], paths[2]));
}

/*
 * gnutls-cli against the agent end, with our client certificate: it must
 * complete the handshake with ALPN and read the greeting that names it.
 * noinline keeps the large locals out of the harness function that calls
 * setjmp.
 */
static __attribute__((noinline)) void
gnutls_cli_case(struct __test_metadata *_metadata, struct echo_agent *agent,
		const struct echo_pki *pki, char *dir, size_t dir_cap)
{
	char paths[3][128], args[3][160], port[16], out[32768];
	int rc;

	cli_files(_metadata, dir, dir_cap, pki, paths);
	ASSERT_EQ(0, echo_agent_start(agent, AF_INET));
	snprintf(port, sizeof(port), "%d", agent->port);
	snprintf(args[0], 160, "--x509cafile=%s", paths[0]);
	snprintf(args[1], 160, "--x509certfile=%s", paths[1]);
	snprintf(args[2], 160, "--x509keyfile=%s", paths[2]);
	char *argv[] = { "gnutls-cli", "--alpn=" KC_TLS_ALPN,
			 "--verify-hostname=localhost", args[0], args[1],
			 args[2], "-p", port, "127.0.0.1", NULL };

	rc = run_gnutls_cli(argv, "peer:", out, sizeof(out));
	TH_LOG("gnutls-cli said:\n%s", out);
	echo_agent_stop(agent);
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(out, "- Status: The certificate is trusted."));
	EXPECT_NE(NULL, strstr(out, "- Handshake was completed"));
	EXPECT_NE(NULL, strstr(out, "- Application protocol: kcourier/2"));
	EXPECT_NE(NULL, strstr(out, "peer:0:alice"));
	EXPECT_EQ(0, agent->peer_rc);
}


TEST_F(policy, gnutls_cli_handshake)
{
	if (!have_gnutls_cli())
		SKIP(return, "gnutls-cli not installed (Debian gnutls-bin)");
	gnutls_cli_case(_metadata, &self->agent, &self->pki, self->dir,
			sizeof(self->dir));
}


/* peer: which client certificates name a client */

FIXTURE(peer)
{
	struct echo_pki pki;
	struct testpki_cert other_ca, cert;
	struct kc_tls_server *srv;
	struct echo_agent agent;
	struct kc_tls_client *cli;
};

FIXTURE_VARIANT(peer)
{
	struct testpki_profile prof;
	bool other_ca;
	int expect;
	const char *id;
	/*
	 * GnuTLS itself refuses, in the handshake, a CertificateVerify made
	 * with a key whose keyUsage forbids signing (RFC 5280 4.2.1.3).
	 */
	bool refused_in_handshake;
};

#define CLIENT_KU GNUTLS_KEY_DIGITAL_SIGNATURE

FIXTURE_VARIANT_ADD(peer, good)
{
	.prof = { .cn = "bob-2.x_y", .pk = GNUTLS_PK_RSA,
		  .key_usage = CLIENT_KU, .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.expect = 0,
	.id = "bob-2.x_y",
};

FIXTURE_VARIANT_ADD(peer, other_ca)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA, .key_usage = CLIENT_KU,
		  .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.other_ca = true,
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, server_eku)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA, .key_usage = CLIENT_KU,
		  .eku = GNUTLS_KP_TLS_WWW_SERVER },
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, no_eku)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA, .key_usage = CLIENT_KU },
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, no_digital_signature)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA,
		  .key_usage = GNUTLS_KEY_KEY_ENCIPHERMENT,
		  .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.refused_in_handshake = true,
};

FIXTURE_VARIANT_ADD(peer, ecdsa_key)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_ECDSA, .key_usage = CLIENT_KU,
		  .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, rsa3072)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA, .bits = 3072,
		  .key_usage = CLIENT_KU, .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, cn_not_an_id)
{
	.prof = { .cn = "Bob Smith", .pk = GNUTLS_PK_RSA,
		  .key_usage = CLIENT_KU, .eku = GNUTLS_KP_TLS_WWW_CLIENT },
	.expect = -EACCES,
};

FIXTURE_VARIANT_ADD(peer, expired)
{
	.prof = { .cn = "bob", .pk = GNUTLS_PK_RSA, .key_usage = CLIENT_KU,
		  .eku = GNUTLS_KP_TLS_WWW_CLIENT, .days_valid = -2 },
	.expect = -EACCES,
};

FIXTURE_SETUP(peer)
{
	const struct testpki_cert *issuer = &self->pki.ca;

	ASSERT_EQ(0, echo_pki_make(&self->pki, NULL));
	if (variant->other_ca) {
		/* Same name as the real CA: only the key tells them apart. */
		ASSERT_EQ(0, testpki_make_ca(&self->other_ca,
					     "kcourier test CA"));
		issuer = &self->other_ca;
	}
	ASSERT_EQ(0, testpki_issue(&self->cert, issuer, &variant->prof));
	ASSERT_EQ(0, echo_server_new(&self->pki.server, &self->pki.ca, 0,
				     &self->srv));
	self->agent.srv = self->srv;
}

FIXTURE_TEARDOWN(peer)
{
	kc_tls_client_close(self->cli);
	echo_agent_stop(&self->agent);
	kc_tls_server_free(self->srv);
	testpki_free(&self->cert);
	testpki_free(&self->other_ca);
	echo_pki_free(&self->pki);
	leak_check(_metadata);
}

/* The handshake completes either way; only kc_tls_peer() tells them apart. */
TEST_F(peer, judged)
{
	char line[LINE_MAX], want[LINE_MAX];
	int ret;

	ASSERT_EQ(0, echo_agent_start(&self->agent, AF_INET));
	ret = echo_client_connect(&self->agent, self->pki.pin, &self->cert, NULL,
				  &self->cli);
	if (variant->refused_in_handshake) {
		/* The client may finish first (RFC 8446 2), then hear why. */
		if (!ret)
			ret = echo_read_line(self->cli, line, sizeof(line));
		EXPECT_EQ(-ECONNABORTED, ret);
		echo_agent_stop(&self->agent);
		EXPECT_EQ(-EPROTO, self->agent.hs_rc);
		TH_LOG("agent: %s", self->agent.reason);
		return;
	}
	ASSERT_EQ(0, ret);
	ASSERT_LT(0, echo_read_line(self->cli, line, sizeof(line)));
	snprintf(want, sizeof(want), "peer:%d:%s\n", variant->expect,
		 variant->id ? variant->id : "");
	EXPECT_STREQ(want, line);
	kc_tls_client_close(self->cli);
	self->cli = NULL;
	echo_agent_stop(&self->agent);
	EXPECT_EQ(0, self->agent.hs_rc);
	TH_LOG("agent: %s", self->agent.reason);
}

TEST_HARNESS_MAIN
