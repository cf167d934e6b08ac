// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier against an independent implementation of PROTOCOL.md section 2
 * (tests/interop/pyenvelope.py on Python's cryptography) and against keys
 * made by the openssl command: both directions at the sizes around a CBC
 * block, keys in every PEM form, tampered envelopes, fingerprints, PBES2
 * parameters, and the CLI's messages and exit codes as a user sees them.
 *
 * Key pairs are made once per run in a directory shared by all tests (the
 * harness forks for each test, so they live on disk) and removed at exit;
 * each test works in its own mkdtemp directory. PBKDF2 at 600,000
 * iterations makes every load of a kcourier-made key cost ~0.3 s, so most
 * CLI tests use the plain openssl key and only a few open the real one.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "crypto/crypto.h"

#define PYTHON "/usr/bin/python3"
#define OPENSSL "openssl"
#define KC_PASS "interop passphrase"
#define OPENSSL_PASS "openssl passphrase"
#define AUTH_FAILED "kcourier: cannot open: authentication failed\n"

/* Shared, made on first use: see the comment on top. */
static struct {
	pid_t owner;
	char dir[64];
	char kc[PATH_MAX], py[PATH_MAX];
	char id_key[PATH_MAX], id_pub[PATH_MAX];
	char enc_key[PATH_MAX], enc_pub[PATH_MAX];
	char keygen_out[PATH_MAX];
	char plain[PATH_MAX], plain_pub[PATH_MAX];
	char encrypted[PATH_MAX], cert[PATH_MAX];
	char ready[PATH_MAX];
} g;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void __attribute__((constructor)) shared_init(void)
{
	strcpy(g.dir, "/tmp/kc-interop-XXXXXX");
	if (!mkdtemp(g.dir)) {
		g.dir[0] = '\0';
		return;
	}
	g.owner = getpid();
	snprintf(g.id_key, PATH_MAX, "%s/keys/id.key.pem", g.dir);
	snprintf(g.id_pub, PATH_MAX, "%s/keys/id.pub.pem", g.dir);
	snprintf(g.enc_key, PATH_MAX, "%s/keys/enc.key.pem", g.dir);
	snprintf(g.enc_pub, PATH_MAX, "%s/keys/enc.pub.pem", g.dir);
	snprintf(g.keygen_out, PATH_MAX, "%s/keygen.out", g.dir);
	snprintf(g.plain, PATH_MAX, "%s/plain.pem", g.dir);
	snprintf(g.plain_pub, PATH_MAX, "%s/plain.pub.pem", g.dir);
	snprintf(g.encrypted, PATH_MAX, "%s/encrypted.pem", g.dir);
	snprintf(g.cert, PATH_MAX, "%s/cert.pem", g.dir);
	snprintf(g.ready, PATH_MAX, "%s/ready", g.dir);
}

/* Only the process that made it, not the forked tests, cleans up. */
static void __attribute__((destructor)) shared_fini(void)
{
	if (g.dir[0] && getpid() == g.owner)
		rm_rf(g.dir);
}

/* Where a child's standard streams go, and its passphrase variable. */
struct io {
	const char *in, *out, *err; /* NULL: /dev/null */
	const char *pass;	    /* KCOURIER_PASSPHRASE, NULL: unset */
};

static void redirect(int fd, const char *path, int flags)
{
	int f = open(path ? path : "/dev/null", flags, 0600);

	if (f < 0 || dup2(f, fd) < 0)
		_exit(126);
	close(f);
}

/*
 * Runs argv and returns its exit code. The child gets a new session, so
 * it has no terminal to prompt on: a missing passphrase fails, not hangs.
 */
static int run(const struct io *io, const char *const argv[])
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setsid();
		redirect(0, io->in, O_RDONLY);
		redirect(1, io->out, O_WRONLY | O_CREAT | O_TRUNC);
		redirect(2, io->err, O_WRONLY | O_CREAT | O_TRUNC);
		if (io->pass)
			setenv("KCOURIER_PASSPHRASE", io->pass, 1);
		else
			unsetenv("KCOURIER_PASSPHRASE");
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* All of a file, NUL-terminated for convenience; "" when it is empty. */
static char *slurp(const char *path, size_t *len)
{
	size_t n = 0, cap = 4096, got;
	FILE *f = fopen(path, "r");
	char *buf = malloc(cap + 1), *bigger;

	if (!f || !buf)
		goto fail;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n < cap)
			continue;
		cap *= 2;
		bigger = realloc(buf, cap + 1);
		if (!bigger)
			goto fail;
		buf = bigger;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static int spill(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fwrite(p, 1, len, f) == len ? 0 : -1;
	return fclose(f) || ret ? -1 : 0;
}

static bool same_file(const char *a, const uint8_t *p, size_t len)
{
	size_t n;
	char *buf = slurp(a, &n);
	bool same = buf && n == len && memcmp(buf, p, len) == 0;

	free(buf);
	return same;
}

/* The one line a command printed, without its newline. */
static char *first_line(const char *path)
{
	char *s = slurp(path, NULL);

	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

static int make_shared_keys(void)
{
	struct io out = { .out = g.keygen_out, .pass = KC_PASS };
	struct io quiet = { .in = NULL };
	char keys[PATH_MAX], subj[] = "/CN=kc-interop";
	const char *keygen[] = { g.kc, "keygen", "--out", keys, NULL };
	const char *plain[] = { OPENSSL, "genpkey", "-algorithm", "RSA",
				"-pkeyopt", "rsa_keygen_bits:2048", "-out",
				g.plain, NULL };
	const char *plain_pub[] = { OPENSSL, "pkey", "-in", g.plain, "-pubout",
				    "-out", g.plain_pub, NULL };
	const char *encrypted[] = { OPENSSL, "genpkey", "-algorithm", "RSA",
				    "-pkeyopt", "rsa_keygen_bits:2048",
				    "-aes-256-cbc", "-pass",
				    "pass:" OPENSSL_PASS, "-out", g.encrypted,
				    NULL };
	const char *cert[] = { OPENSSL, "req", "-x509", "-new", "-key",
			       g.plain, "-subj", subj, "-days", "2", "-out",
			       g.cert, NULL };

	snprintf(keys, sizeof(keys), "%s/keys", g.dir);
	if (run(&out, keygen) || run(&quiet, plain) ||
	    run(&quiet, plain_pub) || run(&quiet, encrypted) ||
	    run(&quiet, cert))
		return -1;
	return spill(g.ready, "", 0);
}

FIXTURE(interop)
{
	char dir[80];
	char msg[PATH_MAX], env[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	char so[PATH_MAX]; /* a child's standard output */
};

FIXTURE_VARIANT(interop)
{
	bool python_seals;
	size_t len;
};

static void workdir_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(interop) *self)
{
	const char *bin = getenv("KC_BIN"), *src = getenv("KC_SRC");
	const char *probe[] = { PYTHON, "-c", "import cryptography", NULL };
	struct io quiet = { .in = NULL };

	if (!bin || !src)
		SKIP(return, "KC_BIN and KC_SRC unset: run through run-tests.sh");
	if (run(&quiet, probe) != 0)
		SKIP(return, PYTHON " has no cryptography module");
	ASSERT_NE(0, g.dir[0]);
	snprintf(g.kc, PATH_MAX, "%s/kcourier", bin);
	snprintf(g.py, PATH_MAX, "%s/tests/interop/pyenvelope.py", src);
	ASSERT_EQ(0, access(g.kc, X_OK));
	ASSERT_EQ(0, access(g.py, R_OK));
	if (access(g.ready, F_OK) != 0)
		ASSERT_EQ(0, make_shared_keys());
	/*
	 * Inside the shared directory, so it goes at exit even when a failed
	 * ASSERT skips the teardown (the harness's longjmp can lose `child`).
	 */
	snprintf(self->dir, sizeof(self->dir), "%s/test-XXXXXX", g.dir);
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->msg, PATH_MAX, "%s/msg", self->dir);
	snprintf(self->env, PATH_MAX, "%s/env.json", self->dir);
	snprintf(self->out, PATH_MAX, "%s/out", self->dir);
	snprintf(self->err, PATH_MAX, "%s/err", self->dir);
	snprintf(self->so, PATH_MAX, "%s/stdout", self->dir);
}

FIXTURE_SETUP(interop)
{
	workdir_setup(_metadata, self);
}

FIXTURE_TEARDOWN(interop)
{
	if (self->dir[0])
		rm_rf(self->dir);
}

FIXTURE_VARIANT_ADD(interop, python_seals_empty) { true, 0 };
FIXTURE_VARIANT_ADD(interop, python_seals_1) { true, 1 };
FIXTURE_VARIANT_ADD(interop, python_seals_15) { true, 15 };
FIXTURE_VARIANT_ADD(interop, python_seals_16) { true, 16 };
FIXTURE_VARIANT_ADD(interop, python_seals_17) { true, 17 };
FIXTURE_VARIANT_ADD(interop, python_seals_1mib) { true, 1 << 20 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_empty) { false, 0 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_1) { false, 1 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_15) { false, 15 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_16) { false, 16 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_17) { false, 17 };
FIXTURE_VARIANT_ADD(interop, kcourier_seals_1mib) { false, 1 << 20 };

/* kcourier's envelope is one JSON object and one newline. */
static bool one_line_envelope(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);
	bool ok = s && len > 2 && s[0] == '{' && s[len - 2] == '}' &&
		  s[len - 1] == '\n' && strchr(s, '\n') == s + len - 1;

	free(s);
	return ok;
}

/*
 * The message goes one way through files (--in/--out) and comes back the
 * other way through standard input and output.
 */
TEST_F_TIMEOUT(interop, round_trip, 60)
{
	const char *py_seal[] = { PYTHON, g.py, "seal", g.enc_pub, self->msg,
				  self->env, NULL };
	const char *kc_open[] = { g.kc, "open", "--key", g.enc_key, NULL };
	const char *kc_seal[] = { g.kc, "seal", "--to", g.enc_pub, "--in",
				  self->msg, "--out", self->env, NULL };
	const char *py_open[] = { PYTHON, g.py, "open", g.enc_key, self->env,
				  self->out, NULL };
	struct io io = { .err = self->err, .pass = KC_PASS };
	uint8_t *msg = malloc(variant->len + 1);
	char *err;

	ASSERT_NE(NULL, msg);
	kc_random(msg, variant->len);
	ASSERT_EQ(0, spill(self->msg, msg, variant->len));
	if (variant->python_seals) {
		ASSERT_EQ(0, run(&io, py_seal));
		io.in = self->env;
		io.out = self->out;
		EXPECT_EQ(0, run(&io, kc_open));
	} else {
		ASSERT_EQ(0, run(&io, kc_seal));
		EXPECT_TRUE(one_line_envelope(self->env));
		EXPECT_EQ(0, run(&io, py_open));
	}
	err = slurp(self->err, NULL);
	EXPECT_STREQ("", err);
	EXPECT_TRUE(same_file(self->out, msg, variant->len));
	free(err);
	free(msg);
}

/* The rest needs no variants: one of each. */
FIXTURE(cli)
{
	FIXTURE_DATA(interop) t;
};

FIXTURE_SETUP(cli)
{
	workdir_setup(_metadata, &self->t);
}

FIXTURE_TEARDOWN(cli)
{
	if (self->t.dir[0])
		rm_rf(self->t.dir);
}

static int seal_and_open(struct __test_metadata *_metadata,
			 FIXTURE_DATA(interop) *t, const char *to,
			 const char *key, const char *pass)
{
	const char *seal[] = { g.kc, "seal", "--to", to, NULL };
	const char *open[] = { g.kc, "open", "--key", key, "--in", t->env,
			       "--out", t->out, NULL };
	struct io io = { .in = t->msg, .out = t->env, .err = t->err,
			 .pass = pass };
	static const char msg[] = "through openssl's keys\n";
	int ret;

	if (spill(t->msg, msg, sizeof(msg) - 1))
		return -1;
	ret = run(&io, seal);
	if (ret)
		return ret;
	io.in = io.out = NULL;
	ret = run(&io, open);
	if (ret)
		return ret;
	return same_file(t->out, (const uint8_t *)msg, sizeof(msg) - 1) ? 0 :
									  -1;
}

/* `openssl genpkey` keys as they come: plain PKCS#8 and its SPKI. */
TEST_F(cli, openssl_plain_key)
{
	const char *py_open[] = { PYTHON, g.py, "open", g.plain, self->t.env,
				  self->t.out, NULL };
	struct io io = { .in = NULL };

	/* No passphrase anywhere: a plain key must not need one. */
	EXPECT_EQ(0, seal_and_open(_metadata, &self->t, g.plain, g.plain, NULL));
	EXPECT_EQ(0, seal_and_open(_metadata, &self->t, g.plain_pub, g.plain,
				   NULL));
	EXPECT_EQ(0, run(&io, py_open));
}

TEST_F(cli, openssl_encrypted_key)
{
	char *err;

	EXPECT_EQ(0, seal_and_open(_metadata, &self->t, g.encrypted,
				   g.encrypted, OPENSSL_PASS));
	EXPECT_EQ(1, seal_and_open(_metadata, &self->t, g.plain_pub,
				   g.encrypted, NULL));
	err = first_line(self->t.err);
	ASSERT_NE(NULL, err);
	EXPECT_NE(NULL, strstr(err, g.encrypted));
	EXPECT_NE(NULL, strstr(err, "no passphrase"));
	free(err);
}

TEST_F(cli, certificate_as_recipient)
{
	const char *py_open[] = { PYTHON, g.py, "open", g.plain, self->t.env,
				  self->t.out, NULL };
	const char *fp_cert[] = { g.kc, "fingerprint", g.cert, NULL };
	const char *fp_key[] = { g.kc, "fingerprint", g.plain, NULL };
	char cert_fp[PATH_MAX], key_fp[PATH_MAX];
	struct io io = { .in = NULL };
	char *a, *b;

	EXPECT_EQ(0, seal_and_open(_metadata, &self->t, g.cert, g.plain, NULL));
	EXPECT_EQ(0, run(&io, py_open));
	snprintf(cert_fp, sizeof(cert_fp), "%s/cert.fp", self->t.dir);
	snprintf(key_fp, sizeof(key_fp), "%s/key.fp", self->t.dir);
	io.out = cert_fp;
	ASSERT_EQ(0, run(&io, fp_cert));
	io.out = key_fp;
	ASSERT_EQ(0, run(&io, fp_key));
	a = slurp(cert_fp, NULL);
	b = slurp(key_fp, NULL);
	ASSERT_TRUE(a && b);
	EXPECT_EQ(65, strlen(a));
	EXPECT_STREQ(a, b);
	free(a);
	free(b);
}

/* kcourier fingerprint == SHA-256 of the SPKI DER as Python computes it. */
TEST_F(cli, fingerprints_match_python)
{
	const char *files[] = { g.id_pub, g.enc_pub, g.plain, g.plain_pub,
				g.cert, g.encrypted };
	char kc_out[PATH_MAX], py_out[PATH_MAX], line[80];
	struct io io = { .err = self->t.err, .pass = OPENSSL_PASS };
	char *kc_fp, *py_fp, *keygen;
	size_t i;

	snprintf(kc_out, sizeof(kc_out), "%s/kc.fp", self->t.dir);
	snprintf(py_out, sizeof(py_out), "%s/py.fp", self->t.dir);
	keygen = slurp(g.keygen_out, NULL);
	ASSERT_NE(NULL, keygen);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *kc[] = { g.kc, "fingerprint", files[i], NULL };
		const char *py[] = { PYTHON, g.py, "fingerprint", files[i],
				     NULL };

		io.out = kc_out;
		ASSERT_EQ(0, run(&io, kc));
		io.out = py_out;
		ASSERT_EQ(0, run(&io, py)) TH_LOG("%s", files[i]);
		kc_fp = slurp(kc_out, NULL);
		py_fp = slurp(py_out, NULL);
		ASSERT_TRUE(kc_fp && py_fp);
		EXPECT_EQ(65, strlen(kc_fp));
		EXPECT_STREQ(py_fp, kc_fp) TH_LOG("%s", files[i]);
		/* keygen printed the same values, "id\t<hex>" and "enc\t<hex>". */
		if (i < 2) {
			snprintf(line, sizeof(line), "%s\t%s",
				 i == 0 ? "id" : "enc", kc_fp);
			EXPECT_NE(NULL, strstr(keygen, line));
		}
		free(kc_fp);
		free(py_fp);
	}
	free(keygen);
}

/*
 * The keygen key as any PKCS#8 reader sees it: openssl asn1parse finds
 * PBES2 with PBKDF2 (16-byte salt, 600000 iterations, hmacWithSHA256)
 * and AES-256-CBC, and Python's cryptography opens it with the passphrase
 * and only with it.
 */
TEST_F(cli, keygen_key_is_standard_pkcs8)
{
	const char *files[] = { g.id_key, g.enc_key };
	char out[PATH_MAX], dir[PATH_MAX];
	struct io io = { .err = self->t.err };
	struct stat st;
	char *line;
	size_t i;

	snprintf(out, sizeof(out), "%s/py.out", self->t.dir);
	io.out = out;
	for (i = 0; i < 2; i++) {
		const char *pbes2[] = { PYTHON, g.py, "pbes2", files[i], NULL };

		ASSERT_EQ(0, run(&io, pbes2));
		line = first_line(out);
		EXPECT_STREQ("PBES2 PBKDF2 16 600000 hmacWithSHA256 aes-256-cbc",
			     line);
		free(line);
		ASSERT_EQ(0, stat(files[i], &st));
		EXPECT_EQ(0600, st.st_mode & 0777);
	}
	io.pass = KC_PASS;
	ASSERT_EQ(0, run(&io, (const char *[]){ PYTHON, g.py, "describe",
						g.enc_key, NULL }));
	line = first_line(out);
	EXPECT_STREQ("RSA 2048 65537", line);
	free(line);
	io.pass = "not the passphrase";
	EXPECT_NE(0, run(&io, (const char *[]){ PYTHON, g.py, "describe",
						g.enc_key, NULL }));
	snprintf(dir, sizeof(dir), "%s/keys", g.dir);
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_EQ(0700, st.st_mode & 0777);
}

/*
 * Python flips one decoded byte (or sets v to 2); kcourier must refuse,
 * say one thing and print nothing, to standard output or --out.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(interop) *t, const char *key,
			   const char *pass, const char *member,
			   const char *index)
{
	char bad[PATH_MAX];
	const char *tamper[] = { PYTHON, g.py, "tamper", t->env, bad, member,
				 index, NULL };
	const char *open_stdout[] = { g.kc, "open", "--key", key, "--in", bad,
				      NULL };
	const char *open_file[] = { g.kc, "open", "--key", key, "--in", bad,
				    "--out", t->out, NULL };
	struct io io = { .out = NULL, .err = t->err, .pass = pass };
	char *err, *out;
	size_t out_len;

	snprintf(bad, sizeof(bad), "%s/bad.json", t->dir);
	ASSERT_EQ(0, run(&io, tamper));
	io.out = t->so;
	EXPECT_EQ(1, run(&io, open_stdout)) TH_LOG("%s %s", member, index);
	err = slurp(t->err, NULL);
	out = slurp(t->so, &out_len);
	EXPECT_STREQ(AUTH_FAILED, err);
	EXPECT_EQ(0, out_len);
	free(err);
	free(out);
	unlink(t->out);
	EXPECT_EQ(1, run(&io, open_file));
	EXPECT_NE(0, access(t->out, F_OK)) TH_LOG("--out written");
}

TEST_F(cli, tampered_envelopes_refused)
{
	static const char *const cases[][2] = {
		{ "v", "0" },
		{ "encrypted_aes_key", "0" },
		{ "encrypted_aes_key", "255" },
		{ "iv", "0" },
		{ "iv", "15" },
		{ "encrypted_message", "0" },
		{ "encrypted_message", "-1" },
		{ "mac", "0" },
		{ "mac", "31" },
	};
	const char *py_seal[] = { PYTHON, g.py, "seal", g.plain_pub,
				  self->t.msg, self->t.env, NULL };
	const char *kc_open[] = { g.kc, "open", "--key", g.plain, "--in",
				  self->t.env, "--out", self->t.out, NULL };
	struct io io = { .err = self->t.err };
	uint8_t msg[100];
	size_t i;

	kc_random(msg, sizeof(msg));
	ASSERT_EQ(0, spill(self->t.msg, msg, sizeof(msg)));
	ASSERT_EQ(0, run(&io, py_seal));
	/* Positive control: untouched, it opens. */
	ASSERT_EQ(0, run(&io, kc_open));
	EXPECT_TRUE(same_file(self->t.out, msg, sizeof(msg)));
	unlink(self->t.out);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refused(_metadata, &self->t, g.plain, NULL, cases[i][0],
			       cases[i][1]);
	/* Once with the keygen key, which goes through PBKDF2 first. */
	io.pass = KC_PASS;
	ASSERT_EQ(0, run(&io, (const char *[]){ PYTHON, g.py, "seal",
						g.enc_pub, self->t.msg,
						self->t.env, NULL }));
	expect_refused(_metadata, &self->t, g.enc_key, KC_PASS, "mac", "7");
}

/* A failed open leaves an existing --out file as it was. */
TEST_F(cli, failed_open_keeps_old_output)
{
	const char *seal[] = { g.kc, "seal", "--to", g.plain_pub, "--in",
			       self->t.msg, "--out", self->t.env, NULL };
	const char *open[] = { g.kc, "open", "--key", g.id_key, "--in",
			       self->t.env, "--out", self->t.out, NULL };
	struct io io = { .err = self->t.err, .pass = KC_PASS };
	static const char keep[] = "keep me";
	char *err;

	ASSERT_EQ(0, spill(self->t.msg, "secret", 6));
	ASSERT_EQ(0, run(&io, seal));
	ASSERT_EQ(0, spill(self->t.out, keep, sizeof(keep) - 1));
	/* Sealed to the plain key, opened with the id key: wrong key. */
	EXPECT_EQ(1, run(&io, open));
	err = slurp(self->t.err, NULL);
	EXPECT_STREQ(AUTH_FAILED, err);
	free(err);
	EXPECT_TRUE(same_file(self->t.out, (const uint8_t *)keep,
			      sizeof(keep) - 1));
}

/* Not RSA-2048 with e = 65537: refused with a message, nothing sealed. */
TEST_F(cli, weak_keys_refused)
{
	static const char *const algs[] = { "RSA", "RSA", "EC" };
	static const char *const opts[][2] = {
		{ "rsa_keygen_bits:1024", NULL },
		{ "rsa_keygen_bits:2048", "rsa_keygen_pubexp:3" },
		{ "ec_paramgen_curve:P-256", NULL },
	};
	struct io io = { .err = self->t.err, .in = self->t.msg,
			 .out = self->t.env };
	char key[PATH_MAX], *err, *out;
	size_t i, len;

	ASSERT_EQ(0, spill(self->t.msg, "x", 1));
	snprintf(key, sizeof(key), "%s/weak.pem", self->t.dir);
	for (i = 0; i < 3; i++) {
		const char *genpkey[] = { OPENSSL, "genpkey", "-algorithm",
					  algs[i], "-out", key, "-pkeyopt",
					  opts[i][0],
					  opts[i][1] ? "-pkeyopt" : NULL,
					  opts[i][1], NULL };
		const char *seal[] = { g.kc, "seal", "--to", key, NULL };
		struct io quiet = { .in = NULL };

		unlink(key);
		ASSERT_EQ(0, run(&quiet, genpkey));
		EXPECT_EQ(1, run(&io, seal));
		err = first_line(self->t.err);
		ASSERT_NE(NULL, err);
		out = slurp(self->t.env, &len);
		EXPECT_NE(NULL, strstr(err, "not an RSA-2048 key with e = 65537"))
			TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, key));
		EXPECT_EQ(0, len);
		free(err);
		free(out);
	}
}

/* One line on stderr that names the file at fault. */
static void expect_message(struct __test_metadata *_metadata,
			   FIXTURE_DATA(interop) *t, const char *pass,
			   const char *const argv[], const char *want)
{
	struct io io = { .err = t->err, .out = t->out, .pass = pass };
	char *err, *out;
	size_t len;

	EXPECT_EQ(1, run(&io, argv));
	err = slurp(t->err, NULL);
	out = slurp(t->out, &len);
	EXPECT_STREQ(want, err);
	EXPECT_EQ(0, len);
	free(err);
	free(out);
}

TEST_F(cli, error_messages)
{
	char missing[PATH_MAX], want[2 * PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/missing.pem", self->t.dir);
	snprintf(want, sizeof(want),
		 "kcourier: cannot read key %s: No such file or directory\n",
		 missing);
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "open", "--key", missing, NULL },
		       want);
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "seal", "--to", missing, NULL },
		       want);
	snprintf(want, sizeof(want),
		 "kcourier: cannot read %s: No such file or directory\n",
		 missing);
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "seal", "--to", g.plain_pub,
					 "--in", missing, NULL },
		       want);
	snprintf(want, sizeof(want),
		 "kcourier: cannot read key %s: wrong passphrase or not a private key\n",
		 g.enc_key);
	expect_message(_metadata, &self->t, "wrong",
		       (const char *[]){ g.kc, "open", "--key", g.enc_key,
					 "--in", g.plain_pub, NULL },
		       want);
	snprintf(want, sizeof(want),
		 "kcourier: cannot read key %s: not a private key in PEM form\n",
		 g.enc_pub);
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "open", "--key", g.enc_pub,
					 "--in", g.plain_pub, NULL },
		       want);
	snprintf(want, sizeof(want),
		 "kcourier: cannot read key %s: not a public key, certificate or private key in PEM form\n",
		 g.keygen_out);
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "fingerprint", g.keygen_out,
					 NULL },
		       want);
	/* Not JSON at all: still the one message. */
	expect_message(_metadata, &self->t, NULL,
		       (const char *[]){ g.kc, "open", "--key", g.plain, "--in",
					 g.plain_pub, NULL },
		       AUTH_FAILED);
}

TEST_F(cli, help_and_usage)
{
	static const char *const cmds[] = { "keygen", "seal", "open",
					    "fingerprint" };
	struct io io = { .out = self->t.out, .err = self->t.err };
	char want[64], *out, *err, *help;
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "usage: kcourier %s ", cmds[i]);
		ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, cmds[i], "--help",
							NULL }));
		help = slurp(self->t.out, NULL);
		err = slurp(self->t.err, NULL);
		EXPECT_EQ(0, strncmp(want, help, strlen(want))) TH_LOG("%s", help);
		EXPECT_STREQ("", err);
		free(err);
		ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, "help", cmds[i],
							NULL }));
		out = slurp(self->t.out, NULL);
		EXPECT_STREQ(help, out);
		free(out);
		free(help);
		EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, cmds[i], "--bogus",
							NULL }));
		out = slurp(self->t.out, NULL);
		err = slurp(self->t.err, NULL);
		EXPECT_STREQ("", out);
		snprintf(want, sizeof(want),
			 "kcourier: %s: unknown option '--bogus'\n", cmds[i]);
		EXPECT_EQ(0, strncmp(want, err, strlen(want))) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, "usage: kcourier"));
		free(out);
		free(err);
	}
	ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, "--help", NULL }));
	out = slurp(self->t.out, NULL);
	for (i = 0; i < 4; i++)
		EXPECT_NE(NULL, strstr(out, cmds[i]));
	free(out);
	EXPECT_EQ(0, run(&io, (const char *[]){ g.kc, "--home", self->t.dir,
						"seal", "--help", NULL }));
	EXPECT_EQ(0, run(&io, (const char *[]){ g.kc, "--version", NULL }));
	EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, NULL }));
	EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, "nosuch", NULL }));
	err = first_line(self->t.err);
	EXPECT_STREQ("kcourier: unknown command 'nosuch' (see 'kcourier --help')",
		     err);
	free(err);
	EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, "seal", NULL }));
	EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, "open", "--key", NULL }));
	EXPECT_EQ(1, run(&io, (const char *[]){ g.kc, "fingerprint", "a", "b",
						NULL }));
}

TEST_F(cli, keygen_never_overwrites)
{
	const char *keygen[] = { g.kc, "keygen", "--out", NULL, NULL };
	struct io io = { .err = self->t.err, .pass = KC_PASS };
	char dir[PATH_MAX], *before, *after, *err;
	size_t len1, len2;

	snprintf(dir, sizeof(dir), "%s/keys", g.dir);
	keygen[3] = dir;
	before = slurp(g.enc_key, &len1);
	ASSERT_NE(NULL, before);
	EXPECT_EQ(1, run(&io, keygen));
	err = first_line(self->t.err);
	ASSERT_NE(NULL, err);
	EXPECT_NE(NULL, strstr(err, "exists: refusing to overwrite keys"))
		TH_LOG("%s", err);
	after = slurp(g.enc_key, &len2);
	ASSERT_NE(NULL, after);
	EXPECT_EQ(len1, len2);
	EXPECT_EQ(0, memcmp(before, after, len1));
	free(err);
	free(before);
	free(after);
}

/* --passphrase-file for keygen and open, and keys that work end to end. */
TEST_F_TIMEOUT(cli, keygen_with_passphrase_file, 60)
{
	char dir[PATH_MAX], pf[PATH_MAX], key[PATH_MAX], pub[PATH_MAX];
	struct io io = { .err = self->t.err };
	struct stat st;
	static const char msg[] = "from a passphrase file";

	snprintf(dir, sizeof(dir), "%s/k", self->t.dir);
	snprintf(pf, sizeof(pf), "%s/pass", self->t.dir);
	snprintf(key, sizeof(key), "%s/k/enc.key.pem", self->t.dir);
	snprintf(pub, sizeof(pub), "%s/k/enc.pub.pem", self->t.dir);
	ASSERT_EQ(0, spill(pf, "file pass\nsecond line ignored\n", 29));
	ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, "keygen", "--out", dir,
						"--passphrase-file", pf,
						NULL }));
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_EQ(0700, st.st_mode & 0777);
	ASSERT_EQ(0, stat(key, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	ASSERT_EQ(0, spill(self->t.msg, msg, sizeof(msg) - 1));
	ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, "seal", "--to", pub,
						"--in", self->t.msg, "--out",
						self->t.env, NULL }));
	ASSERT_EQ(0, run(&io, (const char *[]){ g.kc, "open", "--key", key,
						"--passphrase-file", pf,
						"--in", self->t.env, "--out",
						self->t.out, NULL }));
	EXPECT_TRUE(same_file(self->t.out, (const uint8_t *)msg,
			      sizeof(msg) - 1));
	/* Python reads the same key with the same passphrase. */
	io.pass = "file pass";
	unlink(self->t.out);
	EXPECT_EQ(0, run(&io, (const char *[]){ PYTHON, g.py, "open", key,
						self->t.env, self->t.out,
						NULL }));
	EXPECT_TRUE(same_file(self->t.out, (const uint8_t *)msg,
			      sizeof(msg) - 1));
}

TEST_HARNESS_MAIN
