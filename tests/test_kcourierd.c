// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd init, token and revoke through the binary ($KC_BIN/kcourierd),
 * as an operator runs them: exit status, standard output, and the error
 * line on standard error that quotes the input at fault.
 *
 * One directory is initialised before the tests (key saves cost PBKDF2 at
 * 600,000 iterations) and shared; what the commands wrote is checked with
 * the store API and the openssl command line.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "../agent/state.h"
#include "../agent/store/sqlite.h"
#include "../agent/store/store.h"
#include "kselftest_harness.h"

#define PASS "an agent passphrase"
#define OUT_MAX 8192
/* Neither passphrase variable leaks in from the caller's environment. */
#define CLEAN_ENV "env -u KCOURIERD_PASSPHRASE -u KCOURIER_PASSPHRASE "

/* Short enough that every command line built from them fits. */
#define NAME_MAX_LEN 512

static struct {
	char bin[NAME_MAX_LEN];
	char root[64];
	char dir[NAME_MAX_LEN];
	int init_status;
	char init_out[OUT_MAX], init_err[OUT_MAX];
} shared;

struct result {
	int status;
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void read_into(const char *path, char *buf)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, OUT_MAX - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/*
 * Runs "PREFIX kcourierd ARGS" under sh in scratch, with stdin from
 * /dev/null; PREFIX sets the environment (or wraps with setsid).
 */
static int kcd(struct result *r, const char *scratch, const char *prefix,
	       const char *fmt, ...)
{
	char args[PATH_MAX * 2], cmd[PATH_MAX * 6], out[PATH_MAX],
		err[PATH_MAX];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "%s/stdout", scratch);
	snprintf(err, sizeof(err), "%s/stderr", scratch);
	snprintf(cmd, sizeof(cmd), "%s%s %s </dev/null >'%s' 2>'%s'", prefix,
		 shared.bin, args, out, err);
	st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	read_into(out, r->out);
	read_into(err, r->err);
	return r->status;
}

static int run_shell(const char *cmd, char *out, size_t cap)
{
	size_t len = 0, got;
	FILE *f = popen(cmd, "r");
	int st;

	if (!f)
		return -1;
	while (len + 1 < cap && (got = fread(out + len, 1, cap - 1 - len, f)))
		len += got;
	out[len] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool is_hex_line(const char *s, size_t hex_len)
{
	size_t i;

	for (i = 0; i < hex_len; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	return s[hex_len] == '\n';
}

static void shared_setup(void)
{
	const char *bin = getenv("KC_BIN");
	struct result r;

	if (!bin || strlen(bin) + 16 > NAME_MAX_LEN)
		return;
	snprintf(shared.bin, sizeof(shared.bin), "%s/kcourierd", bin);
	strcpy(shared.root, "/tmp/kc-kcd-XXXXXX");
	if (!mkdtemp(shared.root))
		return;
	snprintf(shared.dir, sizeof(shared.dir), "%s/agent", shared.root);
	kcd(&r, shared.root, CLEAN_ENV "KCOURIER_PASSPHRASE='" PASS "' ",
	    "init --dir '%s' --listen 127.0.0.1:7555", shared.dir);
	shared.init_status = r.status;
	strcpy(shared.init_out, r.out);
	strcpy(shared.init_err, r.err);
}

static void shared_cleanup(void)
{
	char cmd[128];

	if (shared.root[0] != '/')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", shared.root);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", shared.root);
}

FIXTURE(kcd)
{
	char tmp[64];
	struct result r;
};

FIXTURE_SETUP(kcd)
{
	if (!shared.bin[0])
		SKIP(return, "KC_BIN is not set (run through "
			     "tests/run-tests.sh)");
	if (access(shared.bin, X_OK))
		SKIP(return, "%s is not built", shared.bin);
	ASSERT_EQ(0, shared.init_status)
	TH_LOG("init: %s", shared.init_err);
	strcpy(self->tmp, "/tmp/kc-kcd-t-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->tmp));
}

FIXTURE_TEARDOWN(kcd)
{
	char cmd[128];

	if (!self->tmp[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->tmp);
	if (system(cmd))
		TH_LOG("could not remove %s", self->tmp);
}

static int open_store(struct kc_store **st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", shared.dir, KC_STATE_STORE);
	return kc_sqlite_open(path, false, st);
}

/*
 * A successful init makes RSA and ECDSA keys and runs PBKDF2 600k three
 * times: about a second here, near a minute in the VM lab's TCG guest.
 */
#define KCD_INIT_TEST(name) TEST_F_TIMEOUT(kcd, name, 300)

KCD_INIT_TEST(init_prints_fingerprint)
{
	char cmd[PATH_MAX * 2], out[OUT_MAX], conf[PATH_MAX];
	struct stat sb;

	/* Standard output is the fingerprint alone, for scripts. */
	ASSERT_TRUE(is_hex_line(shared.init_out, KC_PKI_FPR_LEN));
	EXPECT_EQ(KC_PKI_FPR_LEN + 1, strlen(shared.init_out));
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in '%s/ca.crt' -pubkey -noout |"
		 " openssl pkey -pubin -outform DER | sha256sum",
		 shared.dir);
	ASSERT_EQ(0, run_shell(cmd, out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, shared.init_out, KC_PKI_FPR_LEN));
	/* Standard error tells the operator what it is. */
	EXPECT_NE(NULL, strstr(shared.init_err, "CA fingerprint"));
	EXPECT_NE(NULL, strstr(shared.init_err, "clients pin"));
	ASSERT_EQ(0, stat(shared.dir, &sb));
	EXPECT_EQ(0700, sb.st_mode & 0777);
	snprintf(conf, sizeof(conf),
		 "grep -x 'listen = 127.0.0.1:7555' '%s/%s'", shared.dir,
		 KC_STATE_CONFIG);
	EXPECT_EQ(0, run_shell(conf, out, sizeof(out)));
}

TEST_F(kcd, init_errors_quote_the_input)
{
	char dir[PATH_MAX], stray[PATH_MAX];
	struct result *r = &self->r;
	FILE *f;

	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV "KCOURIER_PASSPHRASE=x ",
			 "init"));
	EXPECT_NE(NULL,
		  strstr(r->err, "kcourierd: init: --dir DIR is required"));
	EXPECT_NE(NULL, strstr(r->err, "usage: kcourierd init --dir DIR"));

	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV "KCOURIER_PASSPHRASE=x ",
			 "init --dir '%s'", shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "is already initialised"));
	EXPECT_NE(NULL, strstr(r->err, shared.dir));
	EXPECT_STREQ("", r->out);

	snprintf(stray, sizeof(stray), "%s/stray.txt", self->tmp);
	f = fopen(stray, "w");
	ASSERT_NE(NULL, f);
	fclose(f);
	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV "KCOURIER_PASSPHRASE=x ",
			 "init --dir '%s'", self->tmp));
	EXPECT_NE(NULL, strstr(r->err, "is not empty"));

	snprintf(dir, sizeof(dir), "%s/new", self->tmp);
	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV "KCOURIER_PASSPHRASE=x ",
			 "init --dir '%s' --listen nope", dir));
	EXPECT_NE(NULL,
		  strstr(r->err, "init: --listen 'nope' is not an address"));
	EXPECT_NE(0, access(dir, F_OK));

	EXPECT_EQ(1,
		  kcd(r, self->tmp, CLEAN_ENV, "init --dir '%s' --frob", dir));
	EXPECT_NE(NULL, strstr(r->err, "unknown option '--frob'"));
	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV, "init --dir"));
	EXPECT_NE(NULL, strstr(r->err, "option '--dir' needs a value"));
	EXPECT_EQ(1,
		  kcd(r, self->tmp, CLEAN_ENV, "init --dir '%s' extra", dir));
	EXPECT_NE(NULL, strstr(r->err, "unexpected argument 'extra'"));

	/* No file, no variable, no terminal (setsid drops it). */
	EXPECT_EQ(1, kcd(r, self->tmp, "setsid -w " CLEAN_ENV,
			 "init --dir '%s'", dir));
	EXPECT_NE(NULL, strstr(r->err, "no passphrase given"));
	EXPECT_NE(0, access(dir, F_OK));
	EXPECT_EQ(1, kcd(r, self->tmp, CLEAN_ENV,
			 "init --dir '%s' "
			 "--passphrase-file '%s/missing'",
			 dir, self->tmp));
	EXPECT_NE(NULL, strstr(r->err, "cannot read passphrase file"));
	EXPECT_NE(NULL, strstr(r->err, "/missing"));
	EXPECT_NE(0, access(dir, F_OK));
}

/* --passphrase-file beats the variables; it is the key's passphrase. */
KCD_INIT_TEST(init_passphrase_file_first)
{
	char dir[PATH_MAX], pf[PATH_MAX], cmd[PATH_MAX * 3], out[OUT_MAX];
	struct result *r = &self->r;
	FILE *f;

	snprintf(pf, sizeof(pf), "%s/pass", self->tmp);
	f = fopen(pf, "w");
	ASSERT_NE(NULL, f);
	fputs("from the file\n", f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/agent", self->tmp);
	/* Readable by others: refused, nothing made. */
	ASSERT_EQ(0, chmod(pf, 0644));
	EXPECT_NE(0, kcd(r, self->tmp, CLEAN_ENV,
			 "init --dir '%s' --passphrase-file '%s'", dir, pf));
	EXPECT_NE(NULL, strstr(r->err, "readable by group or others"))
	TH_LOG("%s", r->err);
	EXPECT_NE(0, access(dir, F_OK));
	ASSERT_EQ(0, chmod(pf, 0600));
	ASSERT_EQ(0, kcd(r, self->tmp,
			 CLEAN_ENV
			 "KCOURIERD_PASSPHRASE=env KCOURIER_PASSPHRASE=env ",
			 "init --dir '%s' --passphrase-file '%s'", dir, pf))
	TH_LOG("%s", r->err);
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in '%s/ca.key' -passin 'pass:from the file' "
		 "-noout 2>&1",
		 dir);
	EXPECT_EQ(0, run_shell(cmd, out, sizeof(out)));
	snprintf(cmd, sizeof(cmd),
		 "openssl pkey -in '%s/ca.key' -passin pass:env -noout 2>&1",
		 dir);
	EXPECT_NE(0, run_shell(cmd, out, sizeof(out)));
}

TEST_F(kcd, help_for_every_command)
{
	static const char *const cmds[] = { "init", "token", "revoke" };
	struct result *r = &self->r;
	char want[64];
	size_t i;

	ASSERT_EQ(0, kcd(r, self->tmp, "", "--help"));
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "\n  %s ", cmds[i]);
		EXPECT_NE(NULL, strstr(r->out, want));
	}
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "usage: kcourierd %s --dir DIR",
			 cmds[i]);
		EXPECT_EQ(0, kcd(r, self->tmp, "", "%s --help", cmds[i]));
		EXPECT_EQ(0, strncmp(r->out, want, strlen(want)))
		TH_LOG("%s --help: %s", cmds[i], r->out);
		EXPECT_EQ(0, kcd(r, self->tmp, "", "help %s", cmds[i]));
		EXPECT_EQ(0, strncmp(r->out, want, strlen(want)));
	}
	EXPECT_EQ(1, kcd(r, self->tmp, "", "frob"));
	EXPECT_NE(NULL, strstr(r->err, "unknown command 'frob'"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", ""));
	EXPECT_NE(NULL, strstr(r->err, "usage: kcourierd COMMAND"));
}

struct tokens {
	unsigned int n;
	char text[8][KC_TOKEN_TEXT_LEN + 1];
};

static bool split_tokens(const char *out, struct tokens *t)
{
	const char *p = out;

	t->n = 0;
	while (*p && t->n < 8) {
		if (!is_hex_line(p, KC_TOKEN_TEXT_LEN))
			return false;
		memcpy(t->text[t->n], p, KC_TOKEN_TEXT_LEN);
		t->text[t->n++][KC_TOKEN_TEXT_LEN] = '\0';
		p += KC_TOKEN_TEXT_LEN + 1;
	}
	return !*p;
}

static struct kc_bytes text_of(const char *s)
{
	return (struct kc_bytes){ (const uint8_t *)s, strlen(s) };
}

TEST_F(kcd, token_prints_working_tokens)
{
	static const uint8_t blob[] = "x";
	struct kc_client_reg reg = {
		.id = "tokenuser",
		.cert = { blob, 1 },
		.enc_spki = { blob, 1 },
		.enc_sig = { blob, 1 },
	};
	struct result *r = &self->r;
	struct kc_store *st = NULL;
	int64_t before, after;
	struct tokens t;
	unsigned int i;

	/* Another connection holds the store open, as a running agent would. */
	ASSERT_EQ(0, open_store(&st));
	before = kc_wall_ms();
	ASSERT_EQ(0, kcd(r, self->tmp, "", "token --dir '%s' --count 3",
			 shared.dir))
	TH_LOG("%s", r->err);
	after = kc_wall_ms();
	ASSERT_TRUE(split_tokens(r->out, &t));
	ASSERT_EQ(3, t.n);
	EXPECT_STRNE(t.text[0], t.text[1]);
	EXPECT_STRNE(t.text[1], t.text[2]);
	EXPECT_NE(NULL, strstr(r->err, "3 tokens, valid until"));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0,
			  kc_store_token_check(st, text_of(t.text[i]), after));
		/* token_ttl from kcourierd.conf, 86400 s by default. */
		EXPECT_EQ(0, kc_store_token_check(st, text_of(t.text[i]),
						  before + 86399000));
		EXPECT_EQ(-KC_EXPIRED,
			  kc_store_token_check(st, text_of(t.text[i]),
					       after + 86401000));
	}
	EXPECT_EQ(0, kc_store_register(st, text_of(t.text[1]), after, &reg));
	EXPECT_EQ(-KC_BAD_TOKEN,
		  kc_store_token_check(st, text_of(t.text[1]), after));
	kc_store_close(st);

	/* One token by default, and --ttl overrides the configuration. */
	before = kc_wall_ms();
	ASSERT_EQ(0, kcd(r, self->tmp, "", "token --dir '%s' --ttl 120",
			 shared.dir));
	after = kc_wall_ms();
	ASSERT_TRUE(split_tokens(r->out, &t));
	ASSERT_EQ(1, t.n);
	EXPECT_NE(NULL, strstr(r->err, "1 token, valid until"));
	ASSERT_EQ(0, open_store(&st));
	EXPECT_EQ(0, kc_store_token_check(st, text_of(t.text[0]),
					  before + 110000));
	EXPECT_EQ(-KC_EXPIRED,
		  kc_store_token_check(st, text_of(t.text[0]), after + 121000));
	kc_store_close(st);
}

TEST_F(kcd, token_errors_quote_the_input)
{
	struct result *r = &self->r;
	char dir[PATH_MAX];

	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --dir '%s' --count 0",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "token: --count '0' is not a whole "
				       "number from 1 to 1000"));
	EXPECT_STREQ("", r->out);
	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --dir '%s' --count 1001",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "--count '1001' is not"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --dir '%s' --count two",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "--count 'two' is not"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --dir '%s' --ttl 0",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "--ttl '0' is not"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --count 2"));
	EXPECT_NE(NULL, strstr(r->err, "token: --dir DIR is required"));
	snprintf(dir, sizeof(dir), "%s/nothing", self->tmp);
	EXPECT_EQ(1, kcd(r, self->tmp, "", "token --dir '%s'", dir));
	EXPECT_NE(NULL, strstr(r->err, "is not initialised"));
	EXPECT_NE(NULL, strstr(r->err, "kcourierd init --dir"));
	EXPECT_STREQ("", r->out);
}

TEST_F(kcd, revoke)
{
	static const uint8_t blob[] = "x";
	struct kc_client_reg reg = {
		.id = "revokee",
		.cert = { blob, 1 },
		.enc_spki = { blob, 1 },
		.enc_sig = { blob, 1 },
	};
	char token[KC_TOKEN_TEXT_LEN + 1];
	struct result *r = &self->r;
	struct kc_store *st = NULL;
	struct kc_stored_client c;

	ASSERT_EQ(0, open_store(&st));
	ASSERT_EQ(0, kc_store_tokens_new(st, kc_wall_ms(), 60, 1, &token));
	ASSERT_EQ(0, kc_store_register(st, text_of(token), kc_wall_ms(), &reg));

	EXPECT_EQ(0, kcd(r, self->tmp, "", "revoke --dir '%s' revokee",
			 shared.dir))
	TH_LOG("%s", r->err);
	EXPECT_NE(NULL, strstr(r->err, "revoked 'revokee'"));
	ASSERT_EQ(0, kc_store_client_get(st, "revokee", &c));
	EXPECT_TRUE(c.revoked);
	kc_stored_client_free(&c);
	kc_store_close(st);

	EXPECT_EQ(1, kcd(r, self->tmp, "", "revoke --dir '%s' nobody",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "no registered client 'nobody'"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "revoke --dir '%s' 'Bad!'",
			 shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "'Bad!' is not a client id"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "revoke --dir '%s'", shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "revoke: ID is required"));
	EXPECT_EQ(1,
		  kcd(r, self->tmp, "", "revoke --dir '%s' a b", shared.dir));
	EXPECT_NE(NULL, strstr(r->err, "unexpected argument 'b'"));
	EXPECT_EQ(1, kcd(r, self->tmp, "", "revoke revokee"));
	EXPECT_NE(NULL, strstr(r->err, "revoke: --dir DIR is required"));
}

int main(int argc, char **argv)
{
	int ret;

	shared_setup();
	ret = test_harness_run(argc, argv);
	shared_cleanup();
	return ret;
}
