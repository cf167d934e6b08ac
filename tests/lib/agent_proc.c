// SPDX-License-Identifier: GPL-2.0-only
/*
 * A kcourierd child process for tests: see agent_proc.h.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_proc.h"
#include "crypto/keyfile.h"

#define TEST_PASSPHRASE "kcourier test passphrase"
/* Generous: key loading runs PBKDF2 three times, slower under ASan. */
#define START_WAIT_MS 60000

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Runs bin with argv and returns its exit status, with stdout captured
 * into out (cap bytes, NUL-terminated) when out is not NULL and stderr
 * going to err_fd when that is not -1.
 */
static int run_tool(char *const argv[], char *out, size_t cap, int err_fd)
{
	int pipefd[2], status;
	size_t len = 0;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (err_fd >= 0)
			dup2(err_fd, STDERR_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char sink[256];
		char *dst = out && len + 1 < cap ? out + len : sink;
		size_t room =
			out && len + 1 < cap ? cap - len - 1 : sizeof(sink);
		ssize_t n = read(pipefd[0], dst, room);

		if (n <= 0)
			break;
		if (dst != sink)
			len += (size_t)n;
	}
	close(pipefd[0]);
	if (out)
		out[len] = '\0';
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Runs a kcourierd command with its stderr appended to tools.log. */
static int run_cmd(const struct agent_proc *a, char *const argv[], char *out,
		   size_t cap)
{
	int fd = open(a->tools_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0600);
	int rc = run_tool(argv, out, cap, fd);

	if (fd >= 0)
		close(fd);
	return rc;
}

/* The last line of init's stdout that is 64 hex digits: the pin. */
static int find_pin(const char *text, char pin[65])
{
	const char *p = text;

	pin[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n == 64 && strspn(p, "0123456789abcdef") >= 64) {
			memcpy(pin, p, 64);
			pin[64] = '\0';
		}
		p += n;
		if (*p)
			p++;
	}
	return pin[0] ? 0 : -EPROTO;
}

/*
 * `kcourierd init` costs a second or more (RSA and ECDSA keys, PBKDF2 over
 * three key files; half a minute under TCG in the VM lab), and most tests
 * want an agent. So the first init made by a given kcourierd binary is
 * kept as a template, and every later state directory is a copy of it:
 * the same keys and CA, an empty store. Only with the test passphrase: the
 * copy must open with whatever the test's environment says.
 */
static int template_root(const struct agent_proc *a, char *root, size_t cap)
{
	struct stat st;

	if (stat(a->bin, &st))
		return -errno;
	snprintf(root, cap, "/tmp/kc-agent-template-%u-%lx-%lx",
		 (unsigned int)getuid(), (unsigned long)st.st_ino,
		 (unsigned long)st.st_mtime);
	return 0;
}

static int write_pin_file(const char *root, const char *pin)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	FILE *f;
	int ret = 0;

	snprintf(tmp, sizeof(tmp), "%s/pin.tmp", root);
	snprintf(path, sizeof(path), "%s/pin", root);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", pin) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, path))
		ret = -errno;
	return ret;
}

/*
 * Each agent start opens its three key files, PBKDF2 at 600k iterations
 * apiece: a second here, 10-20 s in the VM lab's TCG guest, for every test.
 * The template's keys are throwaway, so they are stored again at a low
 * count; the agent reads the count from each file. The default count is
 * what test_keyfile checks, and `kcourierd init` still writes it.
 */
#define TEMPLATE_PBKDF2_ITER 1000

static int pass_cb(char *buf, size_t cap, void *arg)
{
	size_t len = strlen(TEST_PASSPHRASE);

	if (len > cap)
		return -ENOBUFS;
	memcpy(buf, TEST_PASSPHRASE, len);
	return (int)len;
}

static int lighten_key(const char *state, const char *name)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	EVP_PKEY *key = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", state, name);
	snprintf(tmp, sizeof(tmp), "%s.light", path);
	unlink(tmp);
	ret = kc_key_load_private(path, pass_cb, NULL, &key);
	if (!ret)
		ret = kc_key_save_private_iter(tmp, key, TEST_PASSPHRASE,
					       strlen(TEST_PASSPHRASE),
					       TEMPLATE_PBKDF2_ITER);
	EVP_PKEY_free(key);
	if (!ret && rename(tmp, path))
		ret = -errno;
	return ret;
}

static int lighten_keys(const char *state)
{
	static const char *const names[] = { "ca.key", "tls.key", "seal.key" };
	unsigned int i;
	int ret = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !ret; i++)
		ret = lighten_key(state, names[i]);
	return ret;
}

/* Under the template's lock: init it unless a complete one is there. */
static int fill_template(struct agent_proc *a, const char *root)
{
	char state[PATH_MAX + 16], pinfile[PATH_MAX + 16], out[4096], pin[65];
	char *argv[] = { a->bin, "init", "--dir", state, NULL };
	int rc;

	snprintf(pinfile, sizeof(pinfile), "%s/pin", root);
	if (access(pinfile, R_OK) == 0)
		return 0;
	snprintf(state, sizeof(state), "%s/state", root);
	rc = run_tool((char *const[]){ "/bin/rm", "-rf", state, NULL }, NULL,
		      0, -1);
	if (!rc)
		rc = run_tool(argv, out, sizeof(out), -1);
	if (rc)
		return rc < 0 ? rc : -EIO;
	rc = find_pin(out, pin);
	if (!rc)
		rc = lighten_keys(state);
	return rc ? rc : write_pin_file(root, pin);
}

static int read_pin_file(const char *root, char pin[65])
{
	char path[PATH_MAX + 16], line[128] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/pin", root);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return find_pin(line, pin);
}

static int init_from_template(struct agent_proc *a)
{
	char root[128], lockpath[160], src[160];
	int fd, rc;

	rc = template_root(a, root, sizeof(root));
	if (rc)
		return rc;
	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	snprintf(lockpath, sizeof(lockpath), "%s.lock", root);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = flock(fd, LOCK_EX) ? -errno : fill_template(a, root);
	close(fd);
	if (rc)
		return rc;
	snprintf(src, sizeof(src), "%s/state", root);
	rc = run_tool((char *const[]){ "/bin/cp", "-a", src, a->dir, NULL },
		      NULL, 0, -1);
	if (rc)
		return rc < 0 ? rc : -EIO;
	return read_pin_file(root, a->pin);
}

static bool test_passphrase_in_use(void)
{
	const char *p = getenv("KCOURIER_PASSPHRASE");

	return p && !strcmp(p, TEST_PASSPHRASE);
}

int agent_proc_init(struct agent_proc *a, unsigned int workers)
{
	const char *kc_bin = getenv("KC_BIN");
	char out[4096];
	int rc;

	memset(a, 0, sizeof(*a));
	if (!kc_bin)
		return -ENOENT;
	setenv("KCOURIER_PASSPHRASE", TEST_PASSPHRASE, 0);
	if ((size_t)snprintf(a->bin, sizeof(a->bin), "%s/kcourierd", kc_bin) >=
	    sizeof(a->bin))
		return -ENAMETOOLONG;
	snprintf(a->dir, sizeof(a->dir), "/tmp/kc-agent-XXXXXX");
	if (!mkdtemp(a->dir))
		return -errno;
	snprintf(a->log, sizeof(a->log), "%s/agent.log", a->dir);
	snprintf(a->tools_log, sizeof(a->tools_log), "%s/tools.log", a->dir);
	a->workers = workers ? workers : 2;
	/* KC_TEST_CRYPTO runs the agent suites on one tier (e.g. kmod). */
	a->crypto = getenv("KC_TEST_CRYPTO");
	/* init wants an empty directory; the state goes one level down. */
	strncat(a->dir, "/state", sizeof(a->dir) - strlen(a->dir) - 1);
	if (test_passphrase_in_use())
		return init_from_template(a);
	{
		char *argv[] = { a->bin, "init", "--dir", a->dir, NULL };

		rc = run_cmd(a, argv, out, sizeof(out));
	}
	if (rc)
		return rc < 0 ? rc : -EIO;
	return find_pin(out, a->pin);
}

/*
 * A port nobody listens on right now: bind port 0, read it, close. The
 * agent binds it again with SO_REUSEADDR moments later.
 */
static int free_port(char addr[64])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, ret = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		ret = -errno;
	close(fd);
	if (!ret)
		snprintf(addr, 64, "127.0.0.1:%u", ntohs(sa.sin_port));
	return ret;
}

/* The line's key when it is `key = ...` or `# key = ...`. */
static bool line_sets(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (line[0] == '#')
		line += strspn(line, "# ");
	return !strncmp(line, key, n) && (line[n] == ' ' || line[n] == '=');
}

static int rewrite_config(FILE *in, FILE *out, const char *key,
			  const char *value)
{
	char line[512];
	bool done = false;

	while (fgets(line, sizeof(line), in)) {
		if (!done && line_sets(line, key)) {
			fprintf(out, "%s = %s\n", key, value);
			done = true;
		} else {
			fputs(line, out);
		}
	}
	if (!done)
		fprintf(out, "%s = %s\n", key, value);
	return ferror(in) || ferror(out) ? -EIO : 0;
}

int agent_proc_config(struct agent_proc *a, const char *key, const char *value)
{
	char path[sizeof(a->dir) + 32], tmp[sizeof(path) + 8];
	FILE *in, *out;
	int ret;

	snprintf(path, sizeof(path), "%s/kcourierd.conf", a->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	in = fopen(path, "r");
	if (!in)
		return -errno;
	out = fopen(tmp, "w");
	if (!out) {
		ret = -errno;
		fclose(in);
		return ret;
	}
	ret = rewrite_config(in, out, key, value);
	fclose(in);
	if (fclose(out) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, path))
		ret = -errno;
	return ret;
}

static void spawn(struct agent_proc *a, int log_fd)
{
	char workers[16];
	char *argv[] = { a->bin,  "run",       "--dir", a->dir, "--listen",
			 a->addr, "--workers", workers, NULL, NULL, NULL };

	snprintf(workers, sizeof(workers), "%u", a->workers);
	if (a->crypto) {
		argv[8] = "--crypto";
		argv[9] = (char *)a->crypto;
	}
	/* A test that dies (failed ASSERT, timeout) takes its agent along. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(log_fd, STDERR_FILENO);
	close(log_fd);
	execv(a->bin, argv);
	_exit(127);
}

/* "kcourierd: listening on 127.0.0.1:PORT, ..." once it is up. */
static bool listening(const struct agent_proc *a)
{
	char line[96];

	snprintf(line, sizeof(line), "listening on %s,", a->addr);
	return agent_proc_log_has(a, line);
}

static bool child_exited(struct agent_proc *a)
{
	int status;

	if (waitpid(a->pid, &status, WNOHANG) != a->pid)
		return false;
	a->pid = 0;
	return true;
}

int agent_proc_start(struct agent_proc *a)
{
	int log_fd;

	/* Each run gets a fresh log, so the address read is this run's. */
	log_fd = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log_fd < 0)
		return -errno;
	if (!a->addr[0] && free_port(a->addr)) {
		close(log_fd);
		return -EADDRNOTAVAIL;
	}
	a->pid = fork();
	if (a->pid < 0) {
		a->pid = 0;
		close(log_fd);
		return -errno;
	}
	if (a->pid == 0)
		spawn(a, log_fd);
	close(log_fd);
	for (unsigned int waited = 0; waited < START_WAIT_MS; waited += 10) {
		if (listening(a))
			return 0;
		if (child_exited(a))
			return -ECHILD;
		sleep_ms(10);
	}
	agent_proc_kill(a);
	return -ETIMEDOUT;
}

static int wait_child(struct agent_proc *a)
{
	int status;

	if (waitpid(a->pid, &status, 0) < 0)
		return -errno;
	a->pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int agent_proc_stop(struct agent_proc *a)
{
	if (!a->pid)
		return -ESRCH;
	kill(a->pid, SIGTERM);
	return wait_child(a);
}

void agent_proc_kill(struct agent_proc *a)
{
	if (!a->pid)
		return;
	kill(a->pid, SIGKILL);
	wait_child(a);
}

void agent_proc_destroy(struct agent_proc *a)
{
	char top[sizeof(a->dir)];
	char *argv[] = { "/bin/rm", "-rf", top, NULL };
	char *slash;

	agent_proc_kill(a);
	/* KC_TEST_KEEP=1 leaves the directory (and agent.log) for a look. */
	if (!a->dir[0] || getenv("KC_TEST_KEEP"))
		return;
	snprintf(top, sizeof(top), "%s", a->dir);
	slash = strrchr(top, '/');
	if (slash && !strcmp(slash, "/state"))
		*slash = '\0';
	run_tool(argv, NULL, 0, -1);
	a->dir[0] = '\0';
}

int agent_proc_token(struct agent_proc *a, char token[65])
{
	char *argv[] = { a->bin, "token", "--dir", a->dir, NULL };
	char out[256];
	int rc = run_cmd(a, argv, out, sizeof(out));

	if (rc)
		return rc < 0 ? rc : -EIO;
	if (strcspn(out, "\n") != 64)
		return -EPROTO;
	memcpy(token, out, 64);
	token[64] = '\0';
	return 0;
}

int agent_proc_revoke(struct agent_proc *a, const char *id)
{
	char *argv[] = { a->bin, "revoke", "--dir", a->dir, (char *)id, NULL };
	int rc = run_cmd(a, argv, NULL, 0);

	return rc ? (rc < 0 ? rc : -EIO) : 0;
}

int agent_proc_rotate_seal(struct agent_proc *a)
{
	char *argv[] = { a->bin, "rotate-seal", "--dir", a->dir, NULL };
	int rc = run_cmd(a, argv, NULL, 0);

	return rc ? (rc < 0 ? rc : -EIO) : 0;
}

/* The first 64 KiB of the running agent's log, NUL-terminated. */
static ssize_t read_log(const struct agent_proc *a, char *buf, size_t cap)
{
	ssize_t n;
	int fd;

	fd = open(a->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

bool agent_proc_log_has(const struct agent_proc *a, const char *text)
{
	char buf[65536];

	return read_log(a, buf, sizeof(buf)) > 0 && strstr(buf, text);
}

bool agent_proc_log_after(const struct agent_proc *a, const char *text,
			  char *rest, size_t cap)
{
	char buf[65536];
	const char *hit = NULL, *p;
	size_t len;

	if (read_log(a, buf, sizeof(buf)) <= 0)
		return false;
	for (p = strstr(buf, text); p; p = strstr(p + 1, text))
		hit = p;
	if (!hit || !cap)
		return false;
	hit += strlen(text);
	len = strcspn(hit, "\n");
	if (len >= cap)
		len = cap - 1;
	memcpy(rest, hit, len);
	rest[len] = '\0';
	return true;
}

int agent_proc_keyring(const struct agent_proc *a)
{
	char rest[64];
	int serial;

	if (!agent_proc_log_after(a, AGENT_PROC_KEYRING_LINE, rest,
				  sizeof(rest)))
		return -ENOENT;
	return sscanf(rest, "%d", &serial) == 1 && serial > 0 ? serial
								: -EPROTO;
}

int agent_proc_record_layers(const struct agent_proc *a, unsigned long *ktls,
			     unsigned long *gnutls)
{
	char rest[128];

	if (!agent_proc_log_after(a, AGENT_PROC_STATS_LINE, rest, sizeof(rest)))
		return -ENOENT;
	return sscanf(rest, "kTLS %lu, GnuTLS %lu", ktls, gnutls) == 2 ?
		       0 :
		       -EPROTO;
}

void agent_proc_dump_log(const struct agent_proc *a)
{
	char buf[4096];
	ssize_t n;
	int fd;

	fd = open(a->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	fprintf(stderr, "# ---- %s\n", a->log);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	fprintf(stderr, "# ----\n");
	close(fd);
}

int agent_proc_finish(struct agent_proc *a, bool failed)
{
	int rc = a->pid ? agent_proc_stop(a) : 0;

	if (rc || failed)
		agent_proc_dump_log(a);
	return rc;
}

const char *agent_proc_key_type(const struct agent_proc *a)
{
	if (a->crypto && (!strcmp(a->crypto, "afalg") ||
			  !strcmp(a->crypto, "kmod")))
		return "logon";
	return "user";
}
