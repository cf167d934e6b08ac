// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's hardening, on a real kcourierd (docs/OPERATIONS.md "Keys
 * and privilege"):
 *
 * harden.no_core_no_secret_env: RLIMIT_CORE 0 in /proc/PID/limits, the
 *   passphrase variable gone from /proc/PID/environ.
 * harden.seccomp_on_every_thread: every task of the agent in
 *   /proc/PID/task/ has a filter (Seccomp: 2) and traffic works under it.
 * seccomp.*: the agent's filter in a child process: an allowed call works,
 *   a call off the list fails with EPERM, socket() of another family too,
 *   and execve kills the process (SIGSYS), from a thread as in a worker.
 * harden.revoke_closes_live_connection: `kcourierd revoke` reaches the
 *   running agent through DIR/control.sock (mode 0600): the client's open
 *   connection gets ERROR UNAUTHORIZED and is closed, and it cannot
 *   connect again.
 * harden.rotate_seal*: `kcourierd rotate-seal` with a live agent: the
 *   session opened before goes on, GET_SEAL answers the new certificate,
 *   new sessions work under the new key and, until session_ttl has passed,
 *   under the old one; after it the old key is destroyed (a session
 *   wrapped to it gets a random K: BAD_MAC), and a restart uses the new.
 * harden.drops_to_user: started as root with `user = nobody`, the agent
 *   runs with every uid and gid of nobody and no supplementary groups, and
 *   serves. SKIPs when not root or without a nobody user.
 */
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include <openssl/x509.h>
#include "seccomp_filter.h"

/* The value of "Key:" in /proc/PID[/task/TID]/status, or "" */
static void status_field(const char *path, const char *key, char *out,
			 size_t cap)
{
	char line[256];
	size_t klen = strlen(key);
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, cap, "%s",
			 line + klen + 1 + strspn(line + klen + 1, " \t"));
		out[strcspn(out, "\n")] = '\0';
	}
	if (f)
		fclose(f);
}

static bool file_has(const char *path, const char *text, size_t text_len)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	return n >= text_len && memmem(buf, n, text, text_len) != NULL;
}

/* OPEN_SESSION and one SEND to itself: the agent serves. */
static int serve_one(struct agent_proc *a, struct test_ident *ti)
{
	uint8_t id[KC_MSGID_LEN], inner[16] = { 1 };
	struct test_session s;
	struct kc_client *c;
	uint16_t status = 0xffff;
	int st, ret = ti_connect(a, ti, &c);

	if (ret)
		return ret;
	ret = ts_open(c, ti, &s, &st);
	kc_random(id, sizeof(id));
	if (!ret)
		ret = ts_send(c, &s, 1, ti->id, id, inner, sizeof(inner),
			      TS_GOOD);
	if (!ret)
		ret = ts_await_ack(c, &s, 1, &status, id);
	kc_client_close(c);
	return ret ? ret : status;
}

FIXTURE(harden)
{
	struct agent_proc a;
	struct test_ident alice;
};

FIXTURE_SETUP(harden)
{
	int ret = agent_proc_init(&self->a, 2);

	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	self->a.crypto = "user";
	ASSERT_EQ(0, ti_make(&self->alice, "alice"));
}

FIXTURE_TEARDOWN(harden)
{
	if (_metadata->exit_code)
		agent_proc_dump_log(&self->a);
	ti_free(&self->alice);
	agent_proc_destroy(&self->a);
}

TEST_F_TIMEOUT(harden, no_core_no_secret_env, 120)
{
	const char *pass = getenv("KCOURIER_PASSPHRASE");
	char path[64], line[256], soft[16] = "", hard[16] = "";
	FILE *f;

	ASSERT_NE(NULL, pass);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)self->a.pid);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Max core file size %15s %15s", soft, hard);
	fclose(f);
	EXPECT_STREQ("0", soft);
	EXPECT_STREQ("0", hard);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)self->a.pid);
	EXPECT_FALSE(file_has(path, pass, strlen(pass)));
	EXPECT_FALSE(file_has(path, "KCOURIER_PASSPHRASE=", 20));
}

TEST_F_TIMEOUT(harden, seccomp_on_every_thread, 120)
{
	char path[320], value[64];
	struct dirent *de;
	int tasks = 0, filtered = 0;
	DIR *d;

	ASSERT_EQ(0, agent_proc_start(&self->a));
	EXPECT_TRUE(agent_proc_log_has(&self->a, "seccomp: system-call "
						 "allow-list on every thread"));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)self->a.pid);
	d = opendir(path);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
			 (int)self->a.pid, de->d_name);
		status_field(path, "Seccomp", value, sizeof(value));
		tasks++;
		filtered += !strcmp(value, "2");
	}
	closedir(d);
	TH_LOG("%d threads, %d under the filter", tasks, filtered);
	EXPECT_LE(4, tasks); /* main, committer, two workers */
	EXPECT_EQ(tasks, filtered);
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	EXPECT_EQ(KC_OK, serve_one(&self->a, &self->alice));
}

/* Control socket: 0600, and a revoke closes the live connection. */
TEST_F_TIMEOUT(harden, revoke_closes_live_connection, 120)
{
	struct test_session s;
	struct kc_client *c, *again = NULL;
	char sock[200];
	struct stat st;
	int status = 0;

	ASSERT_EQ(0, agent_proc_start(&self->a));
	snprintf(sock, sizeof(sock), "%s/control.sock", self->a.dir);
	ASSERT_EQ(0, stat(sock, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	ASSERT_EQ(0, tc_ping(c, 7));
	ASSERT_EQ(0, agent_proc_revoke(&self->a, "alice"));
	/* Told at once: the ERROR comes without another request. */
	ASSERT_EQ(0, tc_await_error(c, &status));
	EXPECT_EQ(KC_UNAUTHORIZED, status);
	EXPECT_TRUE(tc_closed(c));
	kc_client_close(c);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "revoked alice: 1 connection "
						 "closed"));
	/* And from now on refused at authentication. */
	if (!ti_connect(&self->a, &self->alice, &again)) {
		EXPECT_NE(0, tc_ping(again, 8));
		kc_client_close(again);
	}
}

/* GET_SEAL: the agent's current seal public key and certificate bytes. */
static int get_seal(struct kc_client *c, EVP_PKEY **pub, uint8_t *der,
		    size_t *der_len)
{
	struct kc_frame req = { .type = KC_T_GET_SEAL }, ans;
	const unsigned char *p;
	X509 *x;
	int ret = kc_client_call(c, &req, KC_T_SEAL, TEST_WAIT_MS, &ans);

	if (ret)
		return ret;
	if (ans.u.seal.seal_cert.len > *der_len)
		return -E2BIG;
	*der_len = ans.u.seal.seal_cert.len;
	memcpy(der, ans.u.seal.seal_cert.p, *der_len);
	p = der;
	x = d2i_X509(NULL, &p, (long)*der_len);
	*pub = x ? X509_get_pubkey(x) : NULL;
	X509_free(x);
	return *pub ? 0 : -EBADMSG;
}

/* OPEN_SESSION wrapped to `seal`, then one SEND: its status. */
static int serve_with(struct agent_proc *a, struct test_ident *ti,
		      EVP_PKEY *seal)
{
	EVP_PKEY *own = ti->seal_pub;
	int ret;

	ti->seal_pub = seal;
	ret = serve_one(a, ti);
	ti->seal_pub = own;
	return ret;
}

/*
 * The agent's seal key now, by GET_SEAL on a new connection; checks that
 * it is not the one alice enrolled with.
 */
static void new_seal_key(struct __test_metadata *_metadata,
			 struct agent_proc *a, struct test_ident *ti,
			 EVP_PKEY **new_pub)
{
	uint8_t der[4096];
	size_t der_len = sizeof(der);
	struct kc_client *c;

	ASSERT_EQ(0, ti_connect(a, ti, &c));
	ASSERT_EQ(0, get_seal(c, new_pub, der, &der_len));
	kc_client_close(c);
	EXPECT_FALSE(der_len == ti->seal_cert_len &&
		     !memcmp(der, ti->seal_cert, der_len));
	EXPECT_NE(1, EVP_PKEY_eq(*new_pub, ti->seal_pub));
}

/*
 * A session_ttl far above what rotate-seal takes on a loaded machine (two
 * PBKDF2 runs and an RSA key generation: seconds, tens of them under
 * ASan), so the session opened before is still live after it.
 */
TEST_F_TIMEOUT(harden, rotate_seal, 180)
{
	uint8_t inner[16] = { 2 }, id[KC_MSGID_LEN];
	struct test_session s;
	EVP_PKEY *new_pub = NULL;
	struct kc_client *c;
	uint16_t st = 0xffff;
	int status;

	ASSERT_EQ(0, agent_proc_config(&self->a, "session_ttl", "600"));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &c));
	ASSERT_EQ(0, ts_open(c, &self->alice, &s, &status));
	ASSERT_EQ(0, agent_proc_rotate_seal(&self->a));
	EXPECT_TRUE(agent_proc_log_has(&self->a, "rotate-seal: new seal key "
						 "in use"));
	/* The live session finishes on what it has. */
	kc_random(id, sizeof(id));
	ASSERT_EQ(0, ts_send(c, &s, 1, "alice", id, inner, sizeof(inner),
			     TS_GOOD));
	ASSERT_EQ(0, ts_await_ack(c, &s, 1, &st, id));
	EXPECT_EQ(KC_OK, st);
	kc_client_close(c);
	/* GET_SEAL tells the new key; new sessions under it work. */
	new_seal_key(_metadata, &self->a, &self->alice, &new_pub);
	EXPECT_EQ(KC_OK, serve_with(&self->a, &self->alice, new_pub));
	/* A client that has not asked yet still gets in, for session_ttl. */
	EXPECT_EQ(KC_OK, serve_one(&self->a, &self->alice));
	EVP_PKEY_free(new_pub);
}

/* session_ttl 1: the old key is destroyed a second after the rotation. */
TEST_F_TIMEOUT(harden, rotate_seal_destroys_the_old_key, 180)
{
	EVP_PKEY *new_pub = NULL;

	ASSERT_EQ(0, agent_proc_config(&self->a, "session_ttl", "1"));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	ASSERT_EQ(0, agent_proc_rotate_seal(&self->a));
	for (int i = 0; i < 200 && !agent_proc_log_has(&self->a,
						      "the old seal key is "
						      "destroyed");
	     i++)
		usleep(100 * 1000);
	EXPECT_TRUE(agent_proc_log_has(&self->a, "the old seal key is "
						 "destroyed"));
	/* Wrapped to the old key: SESSION all the same, a K of nobody's. */
	EXPECT_EQ(KC_BAD_MAC, serve_one(&self->a, &self->alice));
	new_seal_key(_metadata, &self->a, &self->alice, &new_pub);
	EXPECT_EQ(KC_OK, serve_with(&self->a, &self->alice, new_pub));
	/* The files hold the new pair: a restart uses it. */
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	EXPECT_EQ(KC_OK, serve_with(&self->a, &self->alice, new_pub));
	EVP_PKEY_free(new_pub);
}

/* Root, and a user to become. */
static bool can_drop(struct passwd **pw)
{
	*pw = getpwnam("nobody");
	return geteuid() == 0 && *pw;
}

TEST_F_TIMEOUT(harden, drops_to_user, 120)
{
	char path[64], value[128], want[64], cmd[512];
	struct passwd *pw;

	if (!can_drop(&pw))
		SKIP(return, "needs root and a 'nobody' user to drop to");
	ASSERT_EQ(0, agent_proc_config(&self->a, "user", "nobody"));
	/* The agent keeps writing there as nobody: it must own it. */
	snprintf(cmd, sizeof(cmd), "chown -R nobody '%s' && chmod 0711 '%s/..'",
		 self->a.dir, self->a.dir);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	EXPECT_TRUE(agent_proc_log_has(&self->a, "running as user nobody"));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)self->a.pid);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid,
		 pw->pw_uid, pw->pw_uid);
	status_field(path, "Uid", value, sizeof(value));
	EXPECT_STREQ(want, value);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_gid, pw->pw_gid,
		 pw->pw_gid, pw->pw_gid);
	status_field(path, "Gid", value, sizeof(value));
	EXPECT_STREQ(want, value);
	status_field(path, "Groups", value, sizeof(value));
	EXPECT_STREQ("", value);
	status_field(path, "CapEff", value, sizeof(value));
	EXPECT_STREQ("0000000000000000", value);
	ASSERT_EQ(0, ti_enroll(&self->a, &self->alice));
	EXPECT_EQ(KC_OK, serve_one(&self->a, &self->alice));
	EXPECT_EQ(0, agent_proc_stop(&self->a));
}

TEST_F_TIMEOUT(harden, refuses_a_state_dir_of_another_user, 120)
{
	struct passwd *pw;

	if (!can_drop(&pw))
		SKIP(return, "needs root and a 'nobody' user to drop to");
	ASSERT_EQ(0, agent_proc_config(&self->a, "user", "nobody"));
	EXPECT_NE(0, agent_proc_start(&self->a));
	EXPECT_TRUE(agent_proc_log_has(&self->a, "chown -R"));
}

/* ---- the filter itself, in a child ---- */

struct in_thread {
	bool then_exec;
	int results[4];
};

/* A thread like a worker: the filter on itself, then the calls. */
static void *forbidden_in_thread(void *arg)
{
	struct in_thread *t = arg;
	struct utsname u;

	t->results[0] = kcd_seccomp_install(false);
	t->results[1] = uname(&u) ? errno : 0;
	t->results[2] = socket(AF_PACKET, SOCK_RAW, 0) < 0 ? errno : 0;
	t->results[3] = unshare(0) ? errno : 0;
	if (t->then_exec && !t->results[0]) {
		char *argv[] = { "/bin/true", NULL };

		execv(argv[0], argv); /* SIGSYS: the whole process dies */
	}
	return NULL;
}

/* Exit code: 0 when every expectation held, else which did not. */
static int child_with_filter(bool then_exec)
{
	struct in_thread t = { .then_exec = then_exec };
	pthread_t tid;

	if (pthread_create(&tid, NULL, forbidden_in_thread, &t) ||
	    pthread_join(tid, NULL))
		return 10;
	if (t.results[0])
		return 11;
	if (t.results[1] != 0)
		return 12;
	if (t.results[2] != EPERM)
		return 13;
	if (t.results[3] != EPERM)
		return 14;
	return then_exec ? 15 : 0;
}

static int run_child(bool then_exec)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_with_filter(then_exec));
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

TEST(seccomp_refuses_calls_off_the_list)
{
	int st = run_child(false);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST(seccomp_kills_on_execve)
{
	int st = run_child(true);

	ASSERT_TRUE(WIFSIGNALED(st)) TH_LOG("status 0x%x", st);
	EXPECT_EQ(SIGSYS, WTERMSIG(st));
}

TEST_HARNESS_MAIN
