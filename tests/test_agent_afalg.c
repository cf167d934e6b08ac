// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd on a kernel crypto tier, end to end, one variant per tier
 * (afalg, kmod): `kcourierd run --crypto <tier>` with two workers, a client that opens a session and sends. The
 * agent unwraps K (through the kernel's RSA where the seal key could go
 * into the keyring; test_rsa_keyring checks that), keeps K and Km only as
 * logon keys
 * kcourier:<sid>:enc/:mac and checks every SEND with the kernel's
 * hmac(sha256) and cbc(aes); the ACKs (OK, BAD_MAC for a bad tag and for
 * bad padding) show it did. Then `--crypto auto` logs its measured choice.
 *
 * With kmod the module does the unwrap itself (KCOURIER_IOC_UNWRAP) and
 * the session's keys are the ones it made.
 *
 * Needs a kernel with AF_ALG and key-by-serial, or kcourier.ko loaded (the
 * VM lab, tests/vm/); a kernel without them SKIPs with the reason.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "lib/kernel_keys.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "crypto/keyring.h"
#include "base/status.h"
#include "kselftest_harness.h"

FIXTURE(afalg_agent)
{
	struct agent_proc a;
	struct test_ident alice, bob;
};

FIXTURE_VARIANT(afalg_agent)
{
	const char *tier;
};

FIXTURE_VARIANT_ADD(afalg_agent, afalg)
{
	.tier = "afalg",
};

FIXTURE_VARIANT_ADD(afalg_agent, kmod)
{
	.tier = "kmod",
};

FIXTURE_SETUP(afalg_agent)
{
	char why[256];
	int ret;

	if (kc_crypto_available(variant->tier, why, sizeof(why)))
		SKIP(return, "tier %s is not available: %s", variant->tier,
		     why);
	ret = agent_proc_init(&self->a, 2);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	self->a.crypto = variant->tier;
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_make(&self->bob, "bob"));
}

FIXTURE_TEARDOWN(afalg_agent)
{
	int rc = agent_proc_finish(&self->a, _metadata->exit_code);

	EXPECT_EQ(0, rc);
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

/* Sends one 32-byte message to bob; the ACK's status or a -errno. */
static int send_one(struct kc_client *c, const struct test_session *s,
		    uint64_t seq, unsigned int tamper)
{
	uint8_t id[KC_MSGID_LEN], inner[32];
	uint16_t status;
	int ret;

	memset(id, 0, sizeof(id));
	id[15] = (uint8_t)seq;
	memset(inner, (int)seq, sizeof(inner));
	ret = ts_send(c, s, seq, "bob", id, inner, sizeof(inner), tamper);
	if (!ret)
		ret = ts_await_ack(c, s, seq, &status, NULL);
	return ret ? ret : status;
}

/* kcourier:<sid>:<role> of `type` in the ring, or -1. */
static key_serial_t session_key(const struct kc_keyring *kr,
				const uint8_t *sid, const char *role,
				const char *type)
{
	char name[KC_KEYNAME_MAX];

	kc_keyring_name(sid, role, name);
	return test_ring_find(kr->ring, type, name);
}

static bool session_keys_gone(const struct kc_keyring *kr, const uint8_t *sid)
{
	return session_key(kr, sid, "enc", "logon") < 0 &&
	       session_key(kr, sid, "mac", "logon") < 0;
}

TEST_F_TIMEOUT(afalg_agent, sessions_in_logon_keys, 600)
{
	static const char *const roles[] = { "enc", "mac" };
	char choice[256], line[128];
	struct test_session s;
	struct kc_keyring kr;
	struct kc_client *c;
	key_serial_t serial;
	uint8_t buf[64];
	int status, i, tries;

	snprintf(line, sizeof(line), "crypto tier %s (--crypto)", variant->tier);
	EXPECT_TRUE(agent_proc_log_has(&self->a, line));
	snprintf(line, sizeof(line), "crypto tier %s, keyring", variant->tier);
	EXPECT_TRUE(agent_proc_log_has(&self->a, line));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	kr.ring = agent_proc_keyring(&self->a);
	ASSERT_LT(0, kr.ring);
	for (i = 0; i < 2; i++) {
		serial = session_key(&kr, s.sid, roles[i], "logon");
		ASSERT_LT(0, serial)
			TH_LOG("%s: %s", roles[i], strerror(errno));
		EXPECT_EQ(-1, keyctl_read(serial, (char *)buf, sizeof(buf)));
		EXPECT_TRUE(errno == EOPNOTSUPP || errno == EACCES);
		EXPECT_EQ(-1, session_key(&kr, s.sid, roles[i], "user"));
	}
	EXPECT_EQ(KC_OK, send_one(c, &s, 1, TS_GOOD));
	EXPECT_EQ(KC_BAD_MAC, send_one(c, &s, 2, TS_BAD_MAC));
	EXPECT_EQ(KC_BAD_MAC, send_one(c, &s, 3, TS_BAD_PADDING));
	EXPECT_EQ(KC_OK, send_one(c, &s, 4, TS_GOOD));
	kc_client_close(c);

	/* The agent sees the close on its next turn; give it up to 10 s. */
	for (tries = 0; tries < 100 && !session_keys_gone(&kr, s.sid); tries++)
		usleep(100 * 1000);
	EXPECT_TRUE(session_keys_gone(&kr, s.sid));

	/* auto measures both tiers here and logs the numbers. */
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	self->a.crypto = "auto";
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_TRUE(agent_proc_log_after(&self->a, "crypto tier auto: ", choice,
					 sizeof(choice)));
	TH_LOG("auto chose %s", choice);
	EXPECT_NE(NULL, strstr(choice, "opens/s"));
	explicit_bzero(&s, sizeof(s));
}

TEST_HARNESS_MAIN
