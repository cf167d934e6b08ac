// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key quota (lib/crypto/key_quota.h) and the per-client session cap
 * the agent sizes from it under the afalg tier.
 *
 * quota.*: on any kernel with keyrings (the host included): what
 * kc_key_quota_self reads is /proc/key-users' line for this user, and a
 * key added moves it by one; the cap's arithmetic.
 * afalg_quota.*: needs AF_ALG (the VM lab): the user's quota is lowered
 * (root_maxkeys, restored after), so the agent's cap is small; alice
 * opens sessions until TRY_LATER, and gets exactly the cap the agent
 * logged, not the whole quota: bob still opens his; with the quota full,
 * sessions' keys stay in locked memory and still work.
 */
#include <errno.h>
#include <keyutils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "base/status.h"
#include "crypto/crypto_ops.h"
#include "crypto/key_quota.h"
#include "kselftest_harness.h"

TEST(quota_follows_a_key)
{
	struct kc_key_quota before, after;
	key_serial_t ring, key;

	if (access("/proc/key-users", R_OK))
		SKIP(return, "no /proc/key-users: this kernel has no keyrings");
	ring = keyctl_join_session_keyring(NULL);
	ASSERT_LT(0, ring);
	ASSERT_EQ(0, kc_key_quota_self(&before));
	ASSERT_LT(0, before.max);
	key = add_key("user", "kcourier-test:quota", "x", 1,
		      KEY_SPEC_SESSION_KEYRING);
	ASSERT_LT(0, key);
	ASSERT_EQ(0, kc_key_quota_self(&after));
	EXPECT_EQ(before.used + 1, after.used);
	EXPECT_EQ(before.max, after.max);
	keyctl_unlink(key, KEY_SPEC_SESSION_KEYRING);
}

TEST(quota_of_a_user_without_keys)
{
	struct kc_key_quota q;
	uint32_t maxkeys;
	FILE *f;

	if (access("/proc/key-users", R_OK))
		SKIP(return, "no /proc/key-users: this kernel has no keyrings");
	f = fopen("/proc/sys/kernel/keys/maxkeys", "re");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%u", &maxkeys));
	fclose(f);
	/* A uid nobody uses owns no key: the whole default quota. */
	ASSERT_EQ(0, kc_key_quota_read(4000000000u, &q));
	EXPECT_EQ(0, q.used);
	EXPECT_EQ(maxkeys, q.max);
}

TEST(session_cap_arithmetic)
{
	struct kc_key_quota q = { .used = 8, .max = 200 };

	/* 192 left, 2 keys a session, a quarter each: 24. */
	EXPECT_EQ(24, kc_key_quota_session_cap(&q, 2, 4, 256));
	EXPECT_EQ(10, kc_key_quota_session_cap(&q, 2, 4, 10));
	q.used = 200;
	EXPECT_EQ(1, kc_key_quota_session_cap(&q, 2, 4, 256));
	q.used = 300; /* over quota (it was lowered): still 1 */
	EXPECT_EQ(1, kc_key_quota_session_cap(&q, 2, 4, 256));
}

#define ROOT_MAXKEYS "/proc/sys/kernel/keys/root_maxkeys"
#define HEADROOM 40 /* keys left for the agent when it starts */

static int read_root_maxkeys(unsigned int *v)
{
	FILE *f = fopen(ROOT_MAXKEYS, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%u", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_root_maxkeys(unsigned int v)
{
	FILE *f = fopen(ROOT_MAXKEYS, "we");
	int ok;

	if (!f)
		return -errno;
	ok = fprintf(f, "%u\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

FIXTURE(afalg_quota)
{
	struct agent_proc a;
	struct test_ident alice, bob;
	unsigned int saved_max;
	bool lowered;
};

/*
 * One agent start (each is slow under TCG): the quota is lowered first,
 * as a non-root user's 200 keys would leave little room, then the agent
 * starts on afalg and the clients enroll.
 */
FIXTURE_SETUP(afalg_quota)
{
	struct kc_key_quota q;
	char why[256];
	int ret;

	if (kc_crypto_available("afalg", why, sizeof(why)))
		SKIP(return, "tier afalg is not available: %s", why);
	if (geteuid())
		SKIP(return, "lowering the key quota needs root (the VM lab)");
	ret = agent_proc_init(&self->a, 1);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
	ASSERT_EQ(0, ti_make(&self->bob, "bob"));
	ASSERT_EQ(0, read_root_maxkeys(&self->saved_max));
	ASSERT_EQ(0, kc_key_quota_self(&q));
	ASSERT_EQ(0, write_root_maxkeys(q.used + HEADROOM));
	self->lowered = true;
	self->a.crypto = "afalg";
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	TH_LOG("agent up, clients enrolled");
}

FIXTURE_TEARDOWN(afalg_quota)
{
	int rc = agent_proc_finish(&self->a, _metadata->exit_code);

	EXPECT_EQ(0, rc);
	if (self->lowered)
		EXPECT_EQ(0, write_root_maxkeys(self->saved_max));
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

/*
 * Alice opens sessions until TRY_LATER and gets exactly the cap the
 * agent logged, not the whole quota: bob still opens his. Then the quota
 * is full (lowered to what is in use): a new session's keys stay in the
 * agent's locked memory, and a SEND in it passes its MAC and is stored,
 * as under the user tier.
 */
TEST_F_TIMEOUT(afalg_quota, cap_then_fallback_to_memory, 900)
{
	uint8_t id[KC_MSGID_LEN] = { 0x14 }, inner[16] = { 1 };
	struct kc_client *ca, *cb;
	struct test_session s;
	struct kc_key_quota q;
	unsigned int cap = 0;
	char rest[128];
	uint16_t status;
	int n, st = KC_OK;

	ASSERT_TRUE(agent_proc_log_after(&self->a, "keys in use: at most ",
					 rest, sizeof(rest)));
	ASSERT_EQ(1, sscanf(rest, "%u", &cap));
	TH_LOG("session cap per client: %u", cap);
	ASSERT_LT(1, cap);
	ASSERT_GT(HEADROOM / 2, cap);
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &ca));
	for (n = 0; n <= (int)cap; n++) {
		if (ts_open(ca, &self->alice, &s, &st))
			break;
	}
	EXPECT_EQ((int)cap, n);
	EXPECT_EQ(KC_TRY_LATER, st);
	ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
	EXPECT_EQ(0, ts_open(cb, &self->bob, &s, &st));
	TH_LOG("cap held; filling the quota");

	ASSERT_EQ(0, kc_key_quota_self(&q));
	ASSERT_EQ(0, write_root_maxkeys(q.used));
	ASSERT_EQ(0, ts_open(cb, &self->bob, &s, &st));
	ASSERT_EQ(0, ts_send(cb, &s, 1, "alice", id, inner, sizeof(inner),
			     TS_GOOD));
	ASSERT_EQ(0, ts_await_ack(cb, &s, 1, &status, NULL));
	EXPECT_EQ(KC_OK, status);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "key quota full"));
	kc_client_close(ca);
	kc_client_close(cb);
}

TEST_HARNESS_MAIN
