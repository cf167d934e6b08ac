// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may talk to a running kcourierd (PROTOCOL.md section 3): tokens that
 * have expired, client certificates from another CA, a connection without
 * a certificate (one REGISTER, frames of 16 KiB at most, one answer and
 * then the close), an independent TLS client (gnutls-cli) with a
 * certificate and ALPN, and the session keys' life in the keyring from
 * OPEN_SESSION to the connection's end.
 *
 * Each test runs the real agent binary on loopback (tests/lib/agent_proc).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "crypto/keyring.h"
#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "lib/kernel_keys.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

FIXTURE(auth)
{
	struct agent_proc a;
	struct test_ident alice;
	char tmp[64];
};

FIXTURE_SETUP(auth)
{
	int ret = agent_proc_init(&self->a, 1);

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
	strcpy(self->tmp, "/tmp/kc-auth.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmp));
}

FIXTURE_TEARDOWN(auth)
{
	char cmd[128];

	if (_metadata->exit_code)
		agent_proc_dump_log(&self->a);
	agent_proc_destroy(&self->a);
	ti_free(&self->alice);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->tmp);
	if (self->tmp[0] && system(cmd))
		TH_LOG("could not remove %s", self->tmp);
}

/* `kcourierd token --ttl SECONDS`: one token into out. */
static int token_with_ttl(const struct agent_proc *a, int ttl, char out[65])
{
	char cmd[PATH_MAX + 256];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "'%s' token --dir '%s' --ttl %d 2>/dev/null",
		 a->bin, a->dir, ttl);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	ok = fgets(out, 65, p) && strlen(out) == 64;
	return pclose(p) == 0 && ok ? 0 : -EIO;
}

TEST_F_TIMEOUT(auth, expired_token, 120)
{
	char token[65];
	int status = -1;

	ASSERT_EQ(0, token_with_ttl(&self->a, 1, token));
	sleep(2); /* let the one-second token lapse */
	EXPECT_EQ(-EREMOTEIO, ti_register(&self->a, &self->alice, token,
					  &status));
	EXPECT_EQ(KC_EXPIRED, status);

	/* An expired token is not used up by the refusal, and a fresh one works. */
	ASSERT_EQ(0, agent_proc_token(&self->a, token));
	EXPECT_EQ(0, ti_register(&self->a, &self->alice, token, &status));
}

/*
 * alice registers with a second agent, then shows that agent's certificate
 * to the first: it pins the right CA, but its certificate is not one of
 * this CA's, so the agent answers UNAUTHORIZED and closes.
 */
TEST_F_TIMEOUT(auth, certificate_from_another_ca, 180)
{
	struct agent_proc other;
	struct kc_client *c;
	int status = -1;

	ASSERT_EQ(0, agent_proc_init(&other, 1));
	ASSERT_EQ(0, agent_proc_start(&other));
	ASSERT_EQ(0, ti_enroll(&other, &self->alice));
	agent_proc_destroy(&other);

	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	EXPECT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNAUTHORIZED, status);
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);

	/* The agent goes on serving: the same id can still register here. */
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	EXPECT_EQ(0, tc_ping(c, 7));
	kc_client_close(c);
}

/*
 * Without a certificate (section 3): one ERROR, then nothing but the
 * close, whatever was sent behind the first frame.
 */
static int answer_then_close(struct kc_client *c, int *status)
{
	int ret = tc_await_error(c, status);

	if (!ret && !tc_closed(c))
		ret = -EISCONN;
	return ret;
}

/* Raw bytes on a new connection without a certificate: the one ERROR. */
static int unauthenticated_raw(const struct agent_proc *a, const void *p,
			       size_t len, int *status)
{
	struct kc_client *c;
	int ret = ti_connect(a, NULL, &c);

	if (ret)
		return ret;
	ret = tc_send_raw(c, p, len);
	if (!ret)
		ret = answer_then_close(c, status);
	kc_client_close(c);
	return ret;
}

/* REGISTERED or ERROR, the connection ends after it (ti_register checks). */
TEST_F_TIMEOUT(auth, register_then_close, 120)
{
	char token[65];
	int status = -1;

	ASSERT_EQ(0, agent_proc_token(&self->a, token));
	EXPECT_EQ(0, ti_register(&self->a, &self->alice, token, &status));
	EXPECT_EQ(-EREMOTEIO,
		  ti_register(&self->a, &self->alice, token, &status));
	EXPECT_EQ(KC_BAD_TOKEN, status);
}

/* Only the first of two requests is answered: REGISTER, PING behind it. */
TEST_F_TIMEOUT(auth, unauthenticated_one_answer, 120)
{
	struct kc_frame reg, ping = { .type = KC_T_PING };
	struct kc_client *c;
	int status = -1;

	ASSERT_EQ(0, ti_connect(&self->a, NULL, &c));
	ti_register_frame(&self->alice, "no-such-token", &reg);
	ASSERT_EQ(0, kc_client_send(c, &reg));
	ASSERT_EQ(0, kc_client_send(c, &ping));
	EXPECT_EQ(0, answer_then_close(c, &status));
	EXPECT_EQ(KC_BAD_TOKEN, status);
	kc_client_close(c);
}

/* Unknown types are UNAUTHORIZED too; a bad REGISTER body BAD_FRAME. */
TEST_F_TIMEOUT(auth, unauthenticated_bad_frames, 120)
{
	static const uint8_t odd_type[] = { 0, 0, 0, 2, 0x7e, 0 };
	static const uint8_t short_register[] = { 0, 0, 0, 3, KC_T_REGISTER,
						  0, 9 };
	static const uint8_t len0[] = { 0, 0, 0, 0, KC_T_REGISTER };
	int status = -1;

	EXPECT_EQ(0, unauthenticated_raw(&self->a, odd_type, sizeof(odd_type),
					 &status));
	EXPECT_EQ(KC_UNAUTHORIZED, status);
	EXPECT_EQ(0, unauthenticated_raw(&self->a, short_register,
					 sizeof(short_register), &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
	EXPECT_EQ(0,
		  unauthenticated_raw(&self->a, len0, sizeof(len0), &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
}

#define UNAUTH_MAX 16384

/* A REGISTER frame of len bytes after the len field: the body all zero. */
static uint8_t *register_of_len(uint32_t len, size_t *total)
{
	uint8_t *f = calloc(1, 4 + (size_t)len);

	if (!f)
		return NULL;
	f[0] = (uint8_t)(len >> 24);
	f[1] = (uint8_t)(len >> 16);
	f[2] = (uint8_t)(len >> 8);
	f[3] = (uint8_t)len;
	f[4] = KC_T_REGISTER;
	*total = 4 + (size_t)len;
	return f;
}

/*
 * Before authentication len may be 16,384 at most: 16,384 is framing
 * (its zero body then fails to decode), one more is TOO_LARGE on the
 * len alone, so the answer comes though no body is ever sent.
 */
TEST_F_TIMEOUT(auth, unauthenticated_frame_limit, 120)
{
	size_t total;
	uint8_t *f = register_of_len(UNAUTH_MAX, &total);
	int status = -1;

	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, unauthenticated_raw(&self->a, f, total, &status));
	EXPECT_EQ(KC_BAD_FRAME, status);
	free(f);
	f = register_of_len(UNAUTH_MAX + 1, &total);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, unauthenticated_raw(&self->a, f, 5, &status));
	EXPECT_EQ(KC_TOO_LARGE, status);
	free(f);
}

/*
 * A frame within max_frame but above the limit before authentication,
 * body and all at once: TOO_LARGE all the same, however much follows.
 */
TEST_F_TIMEOUT(auth, unauthenticated_large_frame_sent_whole, 120)
{
	size_t total;
	uint8_t *f = register_of_len(1024 * 1024 - 1, &total);
	int status = -1;

	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, unauthenticated_raw(&self->a, f, total, &status));
	EXPECT_EQ(KC_TOO_LARGE, status);
	free(f);
}

/* PEM files for gnutls-cli: alice's certificate and key, the agent's CA. */
static int write_client_pem(const struct test_ident *ti, const char *dir)
{
	char path[128];
	FILE *f;
	X509 *x;
	const unsigned char *p = ti->cert;
	int ok;

	snprintf(path, sizeof(path), "%s/alice.crt", dir);
	f = fopen(path, "w");
	x = d2i_X509(NULL, &p, (long)ti->cert_len);
	ok = f && x && PEM_write_X509(f, x);
	X509_free(x);
	if (f)
		fclose(f);
	if (!ok)
		return -EIO;
	snprintf(path, sizeof(path), "%s/alice.key", dir);
	f = fopen(path, "w");
	ok = f && PEM_write_PrivateKey(f, ti->id_key, NULL, NULL, 0, NULL,
				       NULL);
	if (f)
		fclose(f);
	return ok ? 0 : -EIO;
}

/*
 * Runs gnutls-cli offering ALPN alpn, with a PING frame on its standard
 * input, and returns what it printed (stdout and stderr) in out.
 */
static int run_gnutls_cli(const struct agent_proc *a, const char *dir,
			  const char *alpn, char *out, size_t cap)
{
	const char *port = strrchr(a->addr, ':') + 1;
	char cmd[1024];
	size_t n = 0;
	FILE *p;

	/* PING: u32 len 9, type 0x06, nonce 0x0102030405060708. */
	snprintf(cmd, sizeof(cmd),
		 "(printf '\\000\\000\\000\\011\\006\\001\\002\\003\\004\\005"
		 "\\006\\007\\010'; sleep 2) | timeout 30 gnutls-cli "
		 "--alpn=%s --verify-hostname='kcourier agent' "
		 "--x509cafile='%s/ca.crt' --x509certfile='%s/alice.crt' "
		 "--x509keyfile='%s/alice.key' -p %s 127.0.0.1 2>&1 | od -An -c",
		 alpn, a->dir, dir, dir, port);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	return pclose(p) == -1 ? -errno : 0;
}

static bool have_gnutls_cli(void)
{
	return !system("gnutls-cli --version >/dev/null 2>&1");
}

/* od -c splits text over lines of 16; joins it back without spaces. */
static void flatten(const char *out, char *flat)
{
	size_t i, j = 0;

	for (i = 0; out[i]; i++)
		if (out[i] != ' ' && out[i] != '\n')
			flat[j++] = out[i];
	flat[j] = '\0';
}

TEST_F_TIMEOUT(auth, gnutls_cli_with_client_certificate, 120)
{
	static char out[65536];
	char flat[sizeof(out)];

	if (!have_gnutls_cli())
		SKIP(return, "gnutls-cli not installed (Debian gnutls-bin)");
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, write_client_pem(&self->alice, self->tmp));
	ASSERT_EQ(0, run_gnutls_cli(&self->a, self->tmp, "kcourier/2", out,
				    sizeof(out)));
	flatten(out, flat);
	EXPECT_NE(NULL, strstr(flat, "Handshakewascompleted"));
	EXPECT_NE(NULL, strstr(flat, "Applicationprotocol:kcourier/2"));
	EXPECT_NE(NULL, strstr(flat, "certificateistrusted"));
	/* PONG: u32 len 9, type 0x87, the same nonce. */
	EXPECT_NE(NULL, strstr(flat, "\\0\\0\\0\\t207001002003004005006\\a\\b"));
	if (_metadata->exit_code)
		TH_LOG("gnutls-cli (through od -c): %.4000s", out);
}

/*
 * A client of version 1 (or of anything else) is refused in the
 * handshake with no_application_protocol: no frame of ours is read.
 */
TEST_F_TIMEOUT(auth, gnutls_cli_with_another_alpn_refused, 120)
{
	static const char *const others[] = { "kcourier/1", "other" };
	static char out[65536];
	char flat[sizeof(out)];
	size_t i;

	if (!have_gnutls_cli())
		SKIP(return, "gnutls-cli not installed (Debian gnutls-bin)");
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, write_client_pem(&self->alice, self->tmp));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ASSERT_EQ(0, run_gnutls_cli(&self->a, self->tmp, others[i], out,
					    sizeof(out)));
		flatten(out, flat);
		EXPECT_EQ(NULL, strstr(flat, "Handshakewascompleted"));
		EXPECT_NE(NULL, strstr(flat, "Nosupportedapplicationprotocol"));
		/* No PONG: u32 len 9, type 0x87. */
		EXPECT_EQ(NULL, strstr(flat, "\\0\\0\\0\\t207"));
		if (_metadata->exit_code)
			TH_LOG("gnutls-cli --alpn=%s (through od -c): %.4000s",
			       others[i], out);
	}
}

/* Exit status of a shell command, output discarded; -1 if it did not run. */
static int shell_status(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Keys appear with OPEN_SESSION and are unlinked when the connection ends.
 * Meanwhile this test is another process of the agent's uid: it can list
 * the ring and describe the keys (`keyctl show`, `keyctl describe`), but
 * reading one is refused (`keyctl pipe`, keyctl_read: EACCES), even for
 * these "user" keys, which a possessor could read.
 */
TEST_F_TIMEOUT(auth, session_keys_private_and_gone_after_close, 120)
{
	const char *type = agent_proc_key_type(&self->a);
	char enc[KC_KEYNAME_MAX], mac[KC_KEYNAME_MAX];
	uint8_t buf[64];
	struct test_session s;
	key_serial_t ring, key;
	struct kc_client *c;
	int status, tries;

	ring = agent_proc_keyring(&self->a);
	ASSERT_LT(0, ring);
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	kc_keyring_name(s.sid, "enc", enc);
	kc_keyring_name(s.sid, "mac", mac);
	key = test_ring_find(ring, type, enc);
	ASSERT_LT(0, key) TH_LOG("%s: %s", enc, strerror(errno));
	EXPECT_LT(0, test_ring_find(ring, type, mac));
	/* Seen, never read: not by this process, not by keyctl(1). */
	EXPECT_EQ(-1, keyctl_read(key, (char *)buf, sizeof(buf)));
	/* A logon key (afalg, kmod) cannot be read by anyone at all. */
	EXPECT_TRUE(errno == EACCES || errno == EOPNOTSUPP);
	EXPECT_EQ(-1, keyctl_search(ring, type, enc, 0));
	EXPECT_NE(0, shell_status("keyctl pipe %d >/dev/null 2>&1", key));
	EXPECT_EQ(0, shell_status("keyctl describe %d >/dev/null 2>&1", key));
	EXPECT_EQ(0, shell_status("keyctl show %d 2>/dev/null | grep -q '%s'",
				  ring, enc));
	/* Not reachable from the user keyring, so not possessed through it. */
	EXPECT_NE(0, shell_status("keyctl show @u 2>/dev/null | grep -q '%s'",
				  enc));
	kc_client_close(c);

	/* The agent sees the close on its next turn; give it up to 10 s. */
	for (tries = 0; tries < 100; tries++) {
		if (test_ring_find(ring, type, enc) < 0 &&
		    test_ring_find(ring, type, mac) < 0)
			break;
		usleep(100 * 1000);
	}
	EXPECT_GT(0, test_ring_find(ring, type, enc));
	EXPECT_GT(0, test_ring_find(ring, type, mac));
}

TEST_HARNESS_MAIN
