// SPDX-License-Identifier: GPL-2.0-only
/*
 * Session keys in the kernel keyring (keyring.h) and the user tier's mirror
 * of them (crypto_ops.h set_keyring): real keyctl calls, checked by reading
 * the keys back through the kernel, as an operator's `keyctl` would.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "crypto.h"
#include "crypto_ops.h"
#include "keyring.h"

/* Finds kcourier:<sid>:<role> in the ring; returns its serial or -1. */
static key_serial_t find_key(struct kc_keyring *kr, const uint8_t *sid,
			     const char *role)
{
	char name[KC_KEYNAME_MAX];

	kc_keyring_name(sid, role, name);
	return (key_serial_t)keyctl_search(kr->ring, "user", name, 0);
}

FIXTURE(keyring)
{
	struct kc_keyring kr;
	struct kc_crypto *c;
	uint8_t sid[KC_SID_LEN];
	uint8_t k[KC_KEY_LEN];
};

FIXTURE_SETUP(keyring)
{
	int ret = kc_keyring_open(&self->kr);

	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "kernel keyring not available here (%s)",
		     strerror(-ret));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, kc_crypto_open("user", &self->c));
	ASSERT_EQ(0, self->c->ops->set_keyring(self->c, &self->kr, 60));
	kc_random(self->sid, sizeof(self->sid));
	kc_random(self->k, sizeof(self->k));
}

FIXTURE_TEARDOWN(keyring)
{
	kc_crypto_close(self->c);
}

TEST_F(keyring, name_format)
{
	static const uint8_t sid[KC_SID_LEN] = { 0x01, 0xab, [15] = 0xff };
	char name[KC_KEYNAME_MAX];

	kc_keyring_name(sid, "enc", name);
	EXPECT_STREQ("kcourier:01ab00000000000000000000000000ff:enc", name);
}

TEST_F(keyring, session_keys_visible_then_unlinked)
{
	uint8_t got[2 * KC_KEY_LEN], km[KC_KEY_LEN];
	key_serial_t enc, mac;
	kc_handle_t h;

	ASSERT_EQ(0, kc_session_install(self->c, self->sid, self->k, &h));
	enc = find_key(&self->kr, self->sid, "enc");
	mac = find_key(&self->kr, self->sid, "mac");
	ASSERT_GT(enc, 0);
	ASSERT_GT(mac, 0);

	/* The kernel holds exactly K and Km = HMAC(K, label || 1). */
	ASSERT_EQ(KC_KEY_LEN, keyctl_read(enc, (char *)got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, self->k, KC_KEY_LEN));
	ASSERT_EQ(0, kc_derive_km(self->k, km));
	ASSERT_EQ(KC_KEY_LEN, keyctl_read(mac, (char *)got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, km, KC_KEY_LEN));

	kc_session_drop(self->c, h);
	EXPECT_EQ(-1, find_key(&self->kr, self->sid, "enc"));
	EXPECT_EQ(-1, find_key(&self->kr, self->sid, "mac"));
}

TEST_F(keyring, keys_carry_the_session_timeout)
{
	char *desc = NULL;
	kc_handle_t h;
	key_serial_t enc;

	ASSERT_EQ(0, kc_session_install(self->c, self->sid, self->k, &h));
	enc = find_key(&self->kr, self->sid, "enc");
	ASSERT_GT(enc, 0);
	/* A timeout shows as an expiry in /proc/keys; read it there. */
	FILE *f = fopen("/proc/keys", "r");
	char line[512], serial[16];
	int found = 0;

	ASSERT_NE(NULL, f);
	snprintf(serial, sizeof(serial), "%08x ", enc);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, serial, strlen(serial))) {
			/* columns: serial flags usage timeout ... ; "perm" = none */
			found = 1;
			EXPECT_EQ(NULL, strstr(line, " perm "));
		}
	fclose(f);
	EXPECT_EQ(1, found);
	free(desc);
	kc_session_drop(self->c, h);
}

TEST_F(keyring, sessions_without_sid_stay_out)
{
	kc_handle_t h;

	ASSERT_EQ(0, kc_session_install(self->c, NULL, self->k, &h));
	kc_session_drop(self->c, h);
	/* Nothing to find: no name exists for an anonymous session. */
	EXPECT_EQ(-1, find_key(&self->kr, self->sid, "enc"));
}

TEST_F(keyring, purge_removes_leftovers)
{
	key_serial_t stale;

	/* What a killed agent leaves behind: a key with no owner. */
	ASSERT_EQ(0, kc_keyring_add(&self->kr, "user", self->sid, "enc",
				    self->k, KC_KEY_LEN, 60, &stale));
	ASSERT_GE(kc_keyring_purge(&self->kr), 1);
	EXPECT_EQ(-1, find_key(&self->kr, self->sid, "enc"));
}

TEST_F(keyring, destroy_withdraws_live_sessions)
{
	kc_handle_t h;

	ASSERT_EQ(0, kc_session_install(self->c, self->sid, self->k, &h));
	ASSERT_GT(find_key(&self->kr, self->sid, "enc"), 0);
	kc_crypto_close(self->c);
	self->c = NULL;
	EXPECT_EQ(-1, find_key(&self->kr, self->sid, "enc"));
}

TEST_HARNESS_MAIN
