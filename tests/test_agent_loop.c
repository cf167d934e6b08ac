// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd end to end: a real agent process (`kcourierd init`, `token`,
 * `run` on 127.0.0.1, two workers) and clients speaking PROTOCOL.md over
 * TLS with the library's codec (tests/lib/agent_proc.h, agent_client.h).
 *
 * agent.*: transport and requests (PING, REGISTER and its errors, LOOKUP,
 * OPEN_SESSION, whose answer does not tell a key that does not unwrap,
 * GET_SEAL), the seven SEND checks in order (UNKNOWN_SESSION, BAD_MAC,
 * REPLAY, padding, BAD_FRAME, NOT_FOUND), delivery (stored queue, live on
 * either worker, in ACK order, DELIVERED -> RECEIPT, duplicates stored
 * once, a recipient connecting mid-stream gets everything once), framing
 * errors (len 0 and oversized close only that connection; bad bodies and
 * unknown types are answered; frames up to max_frame once authenticated),
 * revoked certificates, and durability: kill -9 right after the ACKs
 * loses nothing.
 * tuned.*: an agent with small limits (max_frame, handshake and idle
 * timeouts, session TTL, max_connections).
 *
 * Each test gets a fresh state directory and agent; the teardown checks
 * that SIGTERM stops the agent cleanly (exit status 0). KC_TEST_KEEP=1
 * keeps the directories (and agent.log) for a look.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "lib/kernel_keys.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "tls/ktls.h"
#include "tls/tlsclient.h"
#include "kselftest_harness.h"

/* Setup makes keys and starts an agent: slower than the default 30 s. */
#define AGENT_TEST(name) TEST_F_TIMEOUT(agent, name, 180)

/*
 * Where the kernel has kTLS (the VM lab), the agent must have put every
 * connection whose mode it decided on it: the suite then ran over kTLS.
 * Elsewhere all of them stay on GnuTLS. Tests that kill the agent leave
 * no counters; they are not checked.
 */
static void check_record_layers(struct __test_metadata *_metadata,
				const struct agent_proc *a)
{
	unsigned long on, off;

	ASSERT_EQ(0, agent_proc_record_layers(a, &on, &off));
	TH_LOG("record layers: kTLS %lu, GnuTLS %lu", on, off);
	if (kc_ktls_probe() == 0) {
		EXPECT_EQ(0, off);
	} else {
		EXPECT_EQ(0, on);
	}
}

/*
 * A clean SIGTERM stop exits 0 (LeakSanitizer included); after any
 * failure the agent's log goes to the test output.
 */
static void stop_agent(struct __test_metadata *_metadata, struct agent_proc *a)
{
	int rc = a->pid ? agent_proc_stop(a) : 0;

	if (rc || _metadata->exit_code)
		agent_proc_dump_log(a);
	EXPECT_EQ(0, rc);
	if (!rc)
		check_record_layers(_metadata, a);
}

FIXTURE(agent)
{
	struct agent_proc a;
	struct test_ident alice, bob;
};

FIXTURE_SETUP(agent)
{
	int ret = agent_proc_init(&self->a, 2);

	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	/*
	 * The user tier unless KC_TEST_CRYPTO names one; the keyring checks
	 * look for that tier's key type (agent_proc_key_type).
	 */
	if (!self->a.crypto)
		self->a.crypto = "user";
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_make(&self->bob, "bob"));
}

FIXTURE_TEARDOWN(agent)
{
	stop_agent(_metadata, &self->a);
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

static void msg_id_of(uint8_t id[KC_MSGID_LEN], unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0xa5;
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

static const uint8_t zero_id[KC_MSGID_LEN];

/* Sends one message and returns the ACK's status (or a -errno). */
static int send_one(struct kc_client *c, const struct test_session *s,
		    uint64_t seq, const char *to, unsigned int n,
		    unsigned int tamper, uint8_t ack_id[KC_MSGID_LEN])
{
	uint8_t id[KC_MSGID_LEN], inner[32];
	uint16_t status;
	int ret;

	msg_id_of(id, n);
	memset(inner, (int)n, sizeof(inner));
	ret = ts_send(c, s, seq, to, id, inner, sizeof(inner), tamper);
	if (!ret)
		ret = ts_await_ack(c, s, seq, &status, ack_id);
	return ret ? ret : status;
}

AGENT_TEST(ping_pong)
{
	struct kc_client *c;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	EXPECT_EQ(0, tc_ping(c, 0x0123456789abcdefull));
	EXPECT_EQ(0, tc_ping(c, 7));
	kc_client_close(c);
}

/* Without a certificate only REGISTER is allowed; then it closes. */
AGENT_TEST(no_cert_ping_unauthorized)
{
	struct kc_frame req = { .type = KC_T_PING };
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_connect(&self->a, NULL, &c));
	ASSERT_EQ(0, kc_client_send(c, &req));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNAUTHORIZED, status);
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
}

AGENT_TEST(register_token_once)
{
	struct test_ident carol;
	char token[65], pin[65];
	int status;

	ASSERT_EQ(0, agent_proc_token(&self->a, token));
	ASSERT_EQ(0, ti_register(&self->a, &self->alice, token, &status));
	/* The CA certificate is the one the pin names. */
	ASSERT_EQ(0, kc_cert_pin(self->alice.ca_cert, self->alice.ca_cert_len,
				 pin));
	EXPECT_STREQ(self->a.pin, pin);
	EXPECT_NE(NULL, self->alice.seal_pub);
	/* Used token: BAD_TOKEN, whoever tries. */
	EXPECT_EQ(-EREMOTEIO,
		  ti_register(&self->a, &self->bob, token, &status));
	EXPECT_EQ(KC_BAD_TOKEN, status);
	/* A taken id with a fresh token: EXISTS, and the token survives. */
	ASSERT_EQ(0, agent_proc_token(&self->a, token));
	ASSERT_EQ(0, ti_make(&carol, "alice"));
	EXPECT_EQ(-EREMOTEIO, ti_register(&self->a, &carol, token, &status));
	EXPECT_EQ(KC_EXISTS, status);
	ti_free(&carol);
	EXPECT_EQ(0, ti_register(&self->a, &self->bob, token, &status));
}

AGENT_TEST(register_bad_requests)
{
	struct test_ident bad;
	char token[65];
	int status;

	ASSERT_EQ(0, agent_proc_token(&self->a, token));
	/* Id grammar. */
	ASSERT_EQ(0, ti_make(&bad, "Not_An-Id"));
	EXPECT_EQ(-EREMOTEIO, ti_register(&self->a, &bad, token, &status));
	EXPECT_EQ(KC_BAD_REQUEST, status);
	ti_free(&bad);
	/* enc_sig that does not verify. */
	ASSERT_EQ(0, ti_make(&bad, "mallory"));
	bad.enc_sig[100] ^= 1;
	EXPECT_EQ(-EREMOTEIO, ti_register(&self->a, &bad, token, &status));
	EXPECT_EQ(KC_BAD_REQUEST, status);
	ti_free(&bad);
	/* The token was not used by the failures. */
	EXPECT_EQ(0, ti_register(&self->a, &self->alice, token, &status));
}

AGENT_TEST(register_on_certified_connection)
{
	struct kc_frame req;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ti_register_frame(&self->bob, "whatever", &req);
	ASSERT_EQ(0, kc_client_send(c, &req));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_BAD_REQUEST, status);
	EXPECT_EQ(0, tc_ping(c, 1)); /* the connection stays */
	kc_client_close(c);
}

AGENT_TEST(lookup)
{
	struct kc_frame req = { .type = KC_T_LOOKUP }, ans;
	struct kc_client *c;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	req.u.lookup.client_id = (struct kc_bytes){ (const uint8_t *)"bob", 3 };
	ASSERT_EQ(0, kc_client_call(c, &req, KC_T_KEYS, TEST_WAIT_MS, &ans));
	EXPECT_EQ(3, ans.u.keys.client_id.len);
	ASSERT_EQ(self->bob.enc_spki_len, ans.u.keys.enc_spki.len);
	EXPECT_EQ(0, memcmp(self->bob.enc_spki, ans.u.keys.enc_spki.p,
			    self->bob.enc_spki_len));
	ASSERT_EQ(self->bob.cert_len, ans.u.keys.id_cert.len);
	EXPECT_EQ(0, memcmp(self->bob.cert, ans.u.keys.id_cert.p,
			    self->bob.cert_len));
	EXPECT_EQ(0,
		  memcmp(self->bob.enc_sig, ans.u.keys.enc_sig.p, KC_RSA_LEN));
	req.u.lookup.client_id =
		(struct kc_bytes){ (const uint8_t *)"dave", 4 };
	EXPECT_EQ(-EREMOTEIO,
		  kc_client_call(c, &req, KC_T_KEYS, TEST_WAIT_MS, &ans));
	EXPECT_EQ(KC_NOT_FOUND, kc_client_status(c));
	kc_client_close(c);
}

/*
 * OPEN_SESSION with `wrapped` as given, then one SEND in that session
 * under a K of our own: the ACK's status, or -errno.
 */
static int open_as_given_then_send(struct kc_client *c,
				   const uint8_t wrapped[KC_RSA_LEN])
{
	struct kc_frame req = { .type = KC_T_OPEN_SESSION }, ans;
	struct test_session s;
	int ret;

	kc_random(s.sid, sizeof(s.sid));
	kc_random(s.k, sizeof(s.k));
	ret = kc_derive_km(s.k, s.km);
	req.u.open = (struct kc_open_session){ s.sid, wrapped };
	if (!ret)
		ret = kc_client_call(c, &req, KC_T_SESSION, TEST_WAIT_MS, &ans);
	if (ret)
		return ret;
	if (memcmp(ans.u.session.sid, s.sid, KC_SID_LEN))
		return -EPROTO;
	return send_one(c, &s, 1, "alice", 1, TS_GOOD, NULL);
}

#define BAD_KEYS_LINE "stats: OPEN_SESSION keys that did not unwrap so far: "

/* SIGUSR1, then the count of keys that did not unwrap from the log. */
static long bad_keys_count(const struct agent_proc *a)
{
	char rest[64];
	long n;

	if (kill(a->pid, SIGUSR1))
		return -errno;
	for (int tries = 0; tries < 100; tries++) {
		if (agent_proc_log_after(a, BAD_KEYS_LINE, rest, sizeof(rest)))
			return sscanf(rest, "%ld", &n) == 1 ? n : -EPROTO;
		usleep(100 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * OPEN_SESSION's errors are decided before the unwrap: EXISTS for a live
 * sid. A key that does not unwrap is no error (section 4): SESSION all
 * the same, and the session's SENDs fail the MAC; a value above the
 * modulus too. Operators see them counted in the stats.
 */
AGENT_TEST(open_session_errors)
{
	struct test_session s1, s2;
	uint8_t sid[KC_SID_LEN], junk[KC_RSA_LEN];
	struct kc_client *c, *c2;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c2));
	kc_random(sid, sizeof(sid));
	ASSERT_EQ(0, ts_open_sid(c, &self->alice, sid, &s1, &status));
	EXPECT_LT(0, s1.ttl_s);
	/* A live sid, on this connection or any other: EXISTS. */
	EXPECT_EQ(-EREMOTEIO, ts_open_sid(c, &self->alice, sid, &s2, &status));
	EXPECT_EQ(KC_EXISTS, status);
	EXPECT_EQ(-EREMOTEIO, ts_open_sid(c2, &self->alice, sid, &s2, &status));
	EXPECT_EQ(KC_EXISTS, status);
	/* Not OAEP of 32 bytes: SESSION, then BAD_MAC on its first SEND. */
	kc_random(junk, sizeof(junk));
	junk[0] = 0;
	EXPECT_EQ(KC_BAD_MAC, open_as_given_then_send(c, junk));
	/* All ones is above any RSA-2048 modulus: the same. */
	memset(junk, 0xff, sizeof(junk));
	EXPECT_EQ(KC_BAD_MAC, open_as_given_then_send(c2, junk));
	/* The good session goes on. */
	EXPECT_EQ(KC_OK, send_one(c, &s1, 1, "alice", 1, TS_GOOD, NULL));
	EXPECT_EQ(2, bad_keys_count(&self->a));
	kc_client_close(c);
	kc_client_close(c2);
}

/* u32 len, type, 16 sid, u32 ttl_s */
#define SESSION_FRAME_LEN (KC_FRAME_HDR_LEN + KC_SID_LEN + 4)

static int recv_exact(struct kc_client *c, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t got = kc_tls_client_recv(kc_client_tls(c), p, n,
						 TEST_WAIT_MS);

		if (got <= 0)
			return got ? (int)got : -ECONNRESET;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* OPEN_SESSION, and its answer's bytes exactly as they came. */
static int open_raw_answer(struct kc_client *c, const uint8_t sid[KC_SID_LEN],
			   const uint8_t wrapped[KC_RSA_LEN],
			   uint8_t answer[SESSION_FRAME_LEN])
{
	struct kc_frame req = { .type = KC_T_OPEN_SESSION };
	int ret;

	req.u.open = (struct kc_open_session){ sid, wrapped };
	ret = kc_client_send(c, &req);
	return ret ? ret : recv_exact(c, answer, SESSION_FRAME_LEN);
}

/*
 * Whether a wrapped key unwrapped must not show in OPEN_SESSION's answer
 * (PROTOCOL.md section 4): a good key and a junk one get the same bytes
 * but for the sid each echoes, and nothing else follows. Their timing is
 * not measured (no timed tests); it is the same by construction: both go
 * through the one tier call, which does one RSA private operation and a
 * branch-free OAEP decode, draws a fallback K either way and picks K
 * without a branch, and makes the session with whichever K it has;
 * sessions.c masks the failure to 0 before anything branches on it, so
 * the same SESSION is written on the same path.
 */
AGENT_TEST(open_session_answer_does_not_tell)
{
	uint8_t good[KC_RSA_LEN], junk[KC_RSA_LEN], k[KC_KEY_LEN];
	uint8_t sid_good[KC_SID_LEN], sid_junk[KC_SID_LEN];
	uint8_t a_good[SESSION_FRAME_LEN], a_junk[SESSION_FRAME_LEN];
	static const uint8_t head[] = { 0, 0, 0, SESSION_FRAME_LEN - 4,
					KC_T_SESSION };
	struct kc_client *c;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	kc_random(k, sizeof(k));
	ASSERT_EQ(0, kc_oaep_wrap(self->alice.seal_pub, k, sizeof(k), good));
	kc_random(junk, sizeof(junk));
	junk[0] = 0;
	kc_random(sid_good, sizeof(sid_good));
	kc_random(sid_junk, sizeof(sid_junk));
	ASSERT_EQ(0, open_raw_answer(c, sid_good, good, a_good));
	ASSERT_EQ(0, open_raw_answer(c, sid_junk, junk, a_junk));
	EXPECT_EQ(0, memcmp(a_good, head, sizeof(head)));
	EXPECT_EQ(0, memcmp(a_junk, head, sizeof(head)));
	EXPECT_EQ(0, memcmp(a_good + sizeof(head), sid_good, KC_SID_LEN));
	EXPECT_EQ(0, memcmp(a_junk + sizeof(head), sid_junk, KC_SID_LEN));
	EXPECT_EQ(0, memcmp(a_good + sizeof(head) + KC_SID_LEN,
			    a_junk + sizeof(head) + KC_SID_LEN, 4));
	EXPECT_EQ(0, tc_ping(c, 1));
	kc_client_close(c);
}

/* One DELIVER from the client's events; checks sender, id and inner. */
static int expect_deliver(struct kc_client *c, const char *from, unsigned int n,
			  uint64_t *stored_at)
{
	uint8_t id[KC_MSGID_LEN], inner[32];
	struct kc_frame f;
	int ret = kc_client_next_event(c, TEST_WAIT_MS, &f);

	if (ret)
		return ret;
	msg_id_of(id, n);
	memset(inner, (int)n, sizeof(inner));
	if (f.type != KC_T_DELIVER || f.u.deliver.from.len != strlen(from) ||
	    memcmp(f.u.deliver.from.p, from, strlen(from)) ||
	    memcmp(f.u.deliver.msg_id, id, KC_MSGID_LEN) ||
	    f.u.deliver.inner.len != sizeof(inner) ||
	    memcmp(f.u.deliver.inner.p, inner, sizeof(inner)))
		return -EPROTO;
	if (stored_at)
		*stored_at = f.u.deliver.stored_at_ms;
	return 0;
}

static int send_delivered(struct kc_client *c, unsigned int n)
{
	struct kc_frame f = { .type = KC_T_DELIVERED };
	uint8_t id[KC_MSGID_LEN];

	msg_id_of(id, n);
	f.u.delivered.msg_id = id;
	return kc_client_send(c, &f);
}

/* Queued while bob is away, delivered when he connects, then a receipt. */
AGENT_TEST(send_deliver_receipt)
{
	struct kc_client *ca, *cb;
	struct test_session s;
	uint8_t ack_id[KC_MSGID_LEN], id[KC_MSGID_LEN];
	uint64_t stored_at = 0;
	struct kc_frame f;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	ASSERT_EQ(0, ts_open(ca, &self->alice, &s, &status));
	ASSERT_EQ(KC_OK, send_one(ca, &s, 1, "bob", 1, TS_GOOD, ack_id));
	msg_id_of(id, 1);
	EXPECT_EQ(0, memcmp(ack_id, id, KC_MSGID_LEN));

	ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
	ASSERT_EQ(0, expect_deliver(cb, "alice", 1, &stored_at));
	EXPECT_LT(0, stored_at);
	ASSERT_EQ(0, send_delivered(cb, 1));

	ASSERT_EQ(0, kc_client_next_event(ca, TEST_WAIT_MS, &f));
	ASSERT_EQ(KC_T_RECEIPT, f.type);
	EXPECT_EQ(0, memcmp(f.u.receipt.msg_id, id, KC_MSGID_LEN));
	ASSERT_EQ(3, f.u.receipt.recipient.len);
	EXPECT_EQ(0, memcmp(f.u.receipt.recipient.p, "bob", 3));

	/* DELIVERED has no answer: the next answer bob gets is his PONG. */
	EXPECT_EQ(0, tc_ping(cb, 9));
	EXPECT_FALSE(kc_client_event_ready(cb));
	kc_client_close(ca);
	kc_client_close(cb);
}

/* Bob online (on either worker): live DELIVERs, in ACK order. */
AGENT_TEST(live_delivery_in_order)
{
	struct kc_client *ca, *cb[4];
	struct test_session s;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	/* Several connections of bob, spread over the workers. */
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb[i]));
		ASSERT_EQ(0, tc_ping(cb[i], (uint64_t)i));
	}
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	ASSERT_EQ(0, ts_open(ca, &self->alice, &s, &status));
	for (unsigned int n = 1; n <= 20; n++)
		ASSERT_EQ(KC_OK, send_one(ca, &s, n, "bob", n, TS_GOOD, NULL));
	for (int i = 0; i < 4; i++) {
		for (unsigned int n = 1; n <= 20; n++)
			ASSERT_EQ(0, expect_deliver(cb[i], "alice", n, NULL));
		kc_client_close(cb[i]);
	}
	kc_client_close(ca);
}

/* A seq at or below the highest accepted: REPLAY, and the session goes on. */
AGENT_TEST(replay)
{
	uint8_t ack_id[KC_MSGID_LEN];
	struct test_session s;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	ASSERT_EQ(KC_OK, send_one(c, &s, 5, "bob", 1, TS_GOOD, NULL));
	EXPECT_EQ(KC_REPLAY, send_one(c, &s, 5, "bob", 2, TS_GOOD, ack_id));
	EXPECT_EQ(0, memcmp(ack_id, zero_id, KC_MSGID_LEN));
	EXPECT_EQ(KC_REPLAY, send_one(c, &s, 4, "bob", 3, TS_GOOD, NULL));
	EXPECT_EQ(KC_OK, send_one(c, &s, 6, "bob", 4, TS_GOOD, NULL));
	kc_client_close(c);
}

AGENT_TEST(bad_mac_and_padding)
{
	uint8_t ack_id[KC_MSGID_LEN];
	struct test_session s;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	EXPECT_EQ(KC_BAD_MAC, send_one(c, &s, 1, "bob", 1, TS_BAD_MAC, ack_id));
	EXPECT_EQ(0, memcmp(ack_id, zero_id, KC_MSGID_LEN));
	/* A bad MAC does not use up the seq. */
	EXPECT_EQ(KC_OK, send_one(c, &s, 1, "bob", 1, TS_GOOD, NULL));
	EXPECT_EQ(KC_BAD_MAC,
		  send_one(c, &s, 2, "bob", 2, TS_BAD_PADDING, ack_id));
	EXPECT_EQ(0, memcmp(ack_id, zero_id, KC_MSGID_LEN));
	/* Bad padding behind a good MAC: seq 2 passed step 2, so it is used. */
	EXPECT_EQ(KC_REPLAY, send_one(c, &s, 2, "bob", 2, TS_GOOD, NULL));
	/* Step 3 comes before step 4: a replay with bad padding is REPLAY. */
	EXPECT_EQ(KC_REPLAY,
		  send_one(c, &s, 2, "bob", 2, TS_BAD_PADDING, NULL));
	/* Step 5: MAC and padding fine, the plaintext does not decode. */
	EXPECT_EQ(KC_BAD_FRAME,
		  send_one(c, &s, 3, "bob", 3, TS_BAD_PLAIN, ack_id));
	EXPECT_EQ(0, memcmp(ack_id, zero_id, KC_MSGID_LEN));
	EXPECT_EQ(KC_REPLAY, send_one(c, &s, 3, "bob", 3, TS_GOOD, NULL));
	EXPECT_EQ(KC_OK, send_one(c, &s, 4, "bob", 4, TS_GOOD, NULL));
	kc_client_close(c);
}

AGENT_TEST(unknown_session_and_recipient)
{
	uint8_t ack_id[KC_MSGID_LEN], id[KC_MSGID_LEN];
	struct test_session s, fake;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	/* A session nobody opened. */
	kc_random(fake.sid, sizeof(fake.sid));
	kc_random(fake.k, sizeof(fake.k));
	ASSERT_EQ(0, kc_derive_km(fake.k, fake.km));
	EXPECT_EQ(KC_UNKNOWN_SESSION,
		  send_one(c, &fake, 1, "alice", 1, TS_GOOD, ack_id));
	EXPECT_EQ(0, memcmp(ack_id, zero_id, KC_MSGID_LEN));
	/* Step 6: no such recipient, with the message's msg_id. */
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	EXPECT_EQ(KC_NOT_FOUND,
		  send_one(c, &s, 1, "nobody", 7, TS_GOOD, ack_id));
	msg_id_of(id, 7);
	EXPECT_EQ(0, memcmp(ack_id, id, KC_MSGID_LEN));
	/* To oneself is a recipient like any other. */
	EXPECT_EQ(KC_OK, send_one(c, &s, 2, "alice", 8, TS_GOOD, NULL));
	EXPECT_EQ(0, expect_deliver(c, "alice", 8, NULL));
	kc_client_close(c);
}

/*
 * Version 2 finds duplicates by counter, never by msg_id: two messages
 * with one msg_id and their own counters are two messages (the resend of
 * one counter is test_agent_log's).
 */
AGENT_TEST(same_msg_id_new_counter_is_a_new_message)
{
	struct kc_client *ca, *cb;
	struct test_session s;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	ASSERT_EQ(0, ts_open(ca, &self->alice, &s, &status));
	EXPECT_EQ(KC_OK, send_one(ca, &s, 1, "bob", 1, TS_GOOD, NULL));
	EXPECT_EQ(KC_OK, send_one(ca, &s, 2, "bob", 1, TS_GOOD, NULL));
	EXPECT_EQ(KC_OK, send_one(ca, &s, 3, "bob", 2, TS_GOOD, NULL));
	ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
	EXPECT_EQ(0, expect_deliver(cb, "alice", 1, NULL));
	EXPECT_EQ(0, expect_deliver(cb, "alice", 1, NULL));
	EXPECT_EQ(0, expect_deliver(cb, "alice", 2, NULL));
	EXPECT_EQ(0, tc_ping(cb, 1));
	EXPECT_FALSE(kc_client_event_ready(cb));
	kc_client_close(ca);
	kc_client_close(cb);
}

/* len 0 loses framing: ERROR BAD_FRAME, that connection closes, others go on.
 */
AGENT_TEST(garbage_frame_closes_only_that_connection)
{
	static const uint8_t len0[] = { 0, 0, 0, 0, KC_T_PING };
	struct kc_client *bad, *good;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &good));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &bad));
	ASSERT_EQ(0, tc_ping(good, 1));
	ASSERT_EQ(0, tc_ping(bad, 2));
	ASSERT_EQ(0, tc_send_raw(bad, len0, sizeof(len0)));
	ASSERT_EQ(0, tc_await_error(bad, &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
	EXPECT_TRUE(tc_closed(bad));
	EXPECT_EQ(0, tc_ping(good, 3));
	kc_client_close(bad);
	kc_client_close(good);
}

/* A length above max_frame: TOO_LARGE before any body is read, then close. */
AGENT_TEST(frame_too_large)
{
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, KC_T_PING };
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, tc_send_raw(c, huge, sizeof(huge)));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_TOO_LARGE, status);
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
}

/* Body errors and unknown types are answered; the connection stays. */
AGENT_TEST(bad_body_and_unknown_type)
{
	static const uint8_t short_ping[] = { 0, 0, 0, 4, KC_T_PING, 1, 2, 3 };
	static const uint8_t odd_type[] = { 0, 0, 0, 2, 0x7e, 0 };
	/* A PONG is an answer type: not a request either. */
	static const uint8_t answer_type[] = {
		0, 0, 0, 9, KC_T_PONG, 0, 0, 0, 0, 0, 0, 0, 1,
	};
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, tc_send_raw(c, short_ping, sizeof(short_ping)));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
	ASSERT_EQ(0, tc_send_raw(c, odd_type, sizeof(odd_type)));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNKNOWN_TYPE, status);
	ASSERT_EQ(0, tc_send_raw(c, answer_type, sizeof(answer_type)));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNKNOWN_TYPE, status);
	EXPECT_EQ(0, tc_ping(c, 4));
	kc_client_close(c);
}

AGENT_TEST(get_seal)
{
	struct kc_frame req = { .type = KC_T_GET_SEAL }, ans;
	struct kc_client *c;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, kc_client_call(c, &req, KC_T_SEAL, TEST_WAIT_MS, &ans));
	ASSERT_EQ(self->alice.seal_cert_len, ans.u.seal.seal_cert.len);
	EXPECT_EQ(0, memcmp(self->alice.seal_cert, ans.u.seal.seal_cert.p,
			    self->alice.seal_cert_len));
	kc_client_close(c);
}

/* A revoked client's certificate: ERROR UNAUTHORIZED, then closed. */
AGENT_TEST(revoked_certificate)
{
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, agent_proc_revoke(&self->a, "alice"));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNAUTHORIZED, status);
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
}

#define CRASH_MESSAGES 40

/*
 * Every ACK OK was fsync'd: after kill -9 and a restart each acknowledged
 * message is delivered, and none twice (the queue comes before any answer,
 * so everything queued is in front of the PONG).
 */
AGENT_TEST(kill9_keeps_acknowledged_messages)
{
	uint8_t id[KC_MSGID_LEN], inner[32];
	struct kc_client *ca, *cb;
	struct test_session s;
	uint16_t status16;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	ASSERT_EQ(0, ts_open(ca, &self->alice, &s, &status));
	/* Pipelined, so several land in one group commit. */
	for (unsigned int n = 1; n <= CRASH_MESSAGES; n++) {
		msg_id_of(id, n);
		memset(inner, (int)n, sizeof(inner));
		ASSERT_EQ(0, ts_send(ca, &s, n, "bob", id, inner, sizeof(inner),
				     TS_GOOD));
	}
	for (unsigned int n = 1; n <= CRASH_MESSAGES; n++) {
		ASSERT_EQ(0, ts_await_ack(ca, &s, n, &status16, NULL));
		ASSERT_EQ(KC_OK, status16);
	}
	agent_proc_kill(&self->a);
	kc_client_close(ca);

	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
	ASSERT_EQ(0, tc_ping(cb, 1));
	for (unsigned int n = 1; n <= CRASH_MESSAGES; n++)
		ASSERT_EQ(0, expect_deliver(cb, "alice", n, NULL));
	EXPECT_FALSE(kc_client_event_ready(cb));
	kc_client_close(cb);
}

/*
 * A live session's K and Km are in the "kcourier" keyring: as "user" keys,
 * the user tier's mirror (docs/DESIGN.md "Keys"), or as "logon" keys
 * under KC_TEST_CRYPTO=afalg or kmod.
 */
AGENT_TEST(session_keys_in_keyring)
{
	const char *type = agent_proc_key_type(&self->a);
	char name[KC_KEYNAME_MAX];
	struct test_session s;
	struct kc_keyring kr;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	kr.ring = agent_proc_keyring(&self->a);
	ASSERT_LT(0, kr.ring);
	kc_keyring_name(s.sid, "enc", name);
	EXPECT_LE(0, test_ring_find(kr.ring, type, name));
	kc_keyring_name(s.sid, "mac", name);
	EXPECT_LE(0, test_ring_find(kr.ring, type, name));
	kc_client_close(c);
}

/* Writes SENDs first..last (msg n = seq n) without waiting for ACKs. */
static int send_range_of(struct kc_client *c, const struct test_session *s,
			 const char *to, unsigned int first, unsigned int last,
			 size_t inner_len)
{
	uint8_t id[KC_MSGID_LEN], *inner = malloc(inner_len);
	int ret = inner ? 0 : -ENOMEM;

	for (unsigned int n = first; !ret && n <= last; n++) {
		msg_id_of(id, n);
		memset(inner, (int)n, inner_len);
		ret = ts_send(c, s, n, to, id, inner, inner_len, TS_GOOD);
	}
	free(inner);
	return ret;
}

/* The same with inner 32 bytes long, as the DELIVER checks expect. */
static int send_range(struct kc_client *c, const struct test_session *s,
		      const char *to, unsigned int first, unsigned int last)
{
	return send_range_of(c, s, to, first, last, 32);
}

static int acks_ok(struct kc_client *c, const struct test_session *s,
		   unsigned int first, unsigned int last)
{
	uint16_t status;
	int ret = 0;

	for (unsigned int n = first; !ret && n <= last; n++) {
		ret = ts_await_ack(c, s, n, &status, NULL);
		if (!ret && status != KC_OK)
			ret = -EPROTO;
	}
	return ret;
}

#define RACE_MESSAGES 300

/*
 * Bob connects while alice's messages are being committed: what he gets
 * from the stored queue and what is routed to him live overlap, and he
 * must still see every message once, in ACK order (more than one queue
 * chunk, so the paced loading is part of it).
 */
AGENT_TEST(connect_during_sends_no_loss_no_dup)
{
	struct kc_client *ca, *cb;
	struct test_session s;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	ASSERT_EQ(0, ts_open(ca, &self->alice, &s, &status));
	ASSERT_EQ(0, send_range(ca, &s, "bob", 1, RACE_MESSAGES / 2));
	ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
	ASSERT_EQ(0, send_range(ca, &s, "bob", RACE_MESSAGES / 2 + 1,
				RACE_MESSAGES));
	ASSERT_EQ(0, acks_ok(ca, &s, 1, RACE_MESSAGES));
	for (unsigned int n = 1; n <= RACE_MESSAGES; n++)
		ASSERT_EQ(0, expect_deliver(cb, "alice", n, NULL));
	/* Everything routed to bob was sent before this PONG. */
	ASSERT_EQ(0, tc_ping(cb, 1));
	EXPECT_FALSE(kc_client_event_ready(cb));
	kc_client_close(ca);
	kc_client_close(cb);
}

#define BIG_INNER (200u * 1024)
#define BIG_MESSAGES 8

/*
 * With a certificate, frames may be as long as max_frame, not just the
 * 16 KiB allowed before authentication; pipelined, more arrives at once
 * than the agent buffers for a connection, and each is still answered.
 */
AGENT_TEST(authenticated_frames_above_16k)
{
	struct test_session s;
	struct kc_client *c;
	int status;

	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	ASSERT_EQ(0, send_range_of(c, &s, "bob", 1, BIG_MESSAGES, BIG_INNER));
	EXPECT_EQ(0, acks_ok(c, &s, 1, BIG_MESSAGES));
	kc_client_close(c);
}

/*
 * An agent with small limits: frames of 16 KiB (so max_message is 15 KiB),
 * one-second handshake timeout and session TTL, three connections.
 */
FIXTURE(tuned)
{
	struct agent_proc a;
	struct test_ident alice;
};

FIXTURE_SETUP(tuned)
{
	int ret = agent_proc_init(&self->a, 2);

	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	/* Enrolled first, so no REGISTER connection counts against the limit.
	 */
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ASSERT_EQ(0, agent_proc_config(&self->a, "max_frame", "16384"));
	ASSERT_EQ(0, agent_proc_config(&self->a, "handshake_timeout", "1"));
	ASSERT_EQ(0, agent_proc_config(&self->a, "session_ttl", "1"));
	ASSERT_EQ(0, agent_proc_config(&self->a, "max_connections", "3"));
	ASSERT_EQ(0, agent_proc_start(&self->a));
}

FIXTURE_TEARDOWN(tuned)
{
	stop_agent(_metadata, &self->a);
	ti_free(&self->alice);
	agent_proc_destroy(&self->a);
}

#define TUNED_TEST(name) TEST_F_TIMEOUT(tuned, name, 180)

/* Step 6: inner above max_message is TOO_LARGE, with the msg_id. */
TUNED_TEST(message_too_large)
{
	uint8_t id[KC_MSGID_LEN], ack_id[KC_MSGID_LEN];
	static uint8_t inner[16000];
	struct test_session s;
	struct kc_client *c;
	uint16_t status;
	int st;

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &st));
	msg_id_of(id, 1);
	ASSERT_EQ(0, ts_send(c, &s, 1, "alice", id, inner, sizeof(inner),
			     TS_GOOD));
	ASSERT_EQ(0, ts_await_ack(c, &s, 1, &status, ack_id));
	EXPECT_EQ(KC_TOO_LARGE, status);
	EXPECT_EQ(0, memcmp(ack_id, id, KC_MSGID_LEN));
	ASSERT_EQ(0, ts_send(c, &s, 2, "alice", id, inner, 15360, TS_GOOD));
	ASSERT_EQ(0, ts_await_ack(c, &s, 2, &status, NULL));
	EXPECT_EQ(KC_OK, status);
	kc_client_close(c);
}

/* A connection that never sends a frame is closed by the agent. */
TUNED_TEST(handshake_timeout)
{
	struct kc_client *c;

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
}

/* A TCP connection on the agent's port (addr is "127.0.0.1:PORT"). */
static int tcp_connect(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	sin.sin_port = htons((uint16_t)atoi(strrchr(addr, ':') + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* True once the peer ends the connection (EOF or reset) within 20 s. */
static bool tcp_closed(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b;

	if (poll(&pfd, 1, TEST_WAIT_MS) != 1)
		return false;
	return read(fd, &b, 1) <= 0;
}

/* Not even a ClientHello: closed handshake_timeout after accept. */
TUNED_TEST(handshake_timeout_before_tls)
{
	int fd = tcp_connect(self->a.addr);

	ASSERT_LE(0, fd);
	EXPECT_TRUE(tcp_closed(fd));
	close(fd);
}

/*
 * The deadline is the first whole frame, not the handshake's end nor the
 * first byte: part of a frame does not stop it.
 */
TUNED_TEST(handshake_timeout_part_of_a_frame)
{
	static const uint8_t part[] = { 0, 0, 0 };
	struct kc_client *c;

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, tc_send_raw(c, part, sizeof(part)));
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
}

#define IDLE_TIMEOUT_S 3

/*
 * idle_timeout counts whole frames, not bytes (a slowloris peer is cut):
 * a PING each second keeps the connection open well past it, a PING
 * sent a byte a second does not.
 */
TUNED_TEST(idle_timeout)
{
	static const uint8_t ping[] = {
		0, 0, 0, 9, KC_T_PING, 0, 0, 0, 0, 0, 0, 0, 7,
	};
	struct kc_client *c;
	char secs[16];

	snprintf(secs, sizeof(secs), "%d", IDLE_TIMEOUT_S);
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ASSERT_EQ(0, agent_proc_config(&self->a, "idle_timeout", secs));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, tc_ping(c, 1)); /* the first frame */
	for (int i = 0; i < IDLE_TIMEOUT_S + 1; i++) {
		sleep(1);
		ASSERT_EQ(0, tc_ping(c, 2 + (uint64_t)i));
	}
	/* Once cut, a write may fail: what counts is the close. */
	for (size_t i = 0; i < IDLE_TIMEOUT_S + 2; i++) {
		sleep(1);
		tc_send_raw(c, &ping[i], 1);
	}
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "idle timeout"));
}

/* A session ends ttl_s after SESSION: then UNKNOWN_SESSION. */
TUNED_TEST(session_expires)
{
	struct test_session s;
	struct kc_client *c;
	int st;

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &st));
	EXPECT_EQ(1, s.ttl_s);
	EXPECT_EQ(KC_OK, send_one(c, &s, 1, "alice", 1, TS_GOOD, NULL));
	usleep(2100 * 1000);
	EXPECT_EQ(KC_UNKNOWN_SESSION,
		  send_one(c, &s, 2, "alice", 2, TS_GOOD, NULL));
	kc_client_close(c);
}

/* Beyond max_connections the agent closes new connections at once. */
TUNED_TEST(max_connections)
{
	struct kc_client *c[4];

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c[i]));
		ASSERT_EQ(0, tc_ping(c[i], (uint64_t)i));
	}
	EXPECT_NE(0, ti_connect(&self->a, &self->alice, &c[3]));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, tc_ping(c[i], 10 + (uint64_t)i));
	for (int i = 0; i < 3; i++)
		kc_client_close(c[i]);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "max_connections (3)"));
}

TEST_HARNESS_MAIN
