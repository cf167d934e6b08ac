// SPDX-License-Identifier: GPL-2.0-only
/*
 * Child processes for tests; see run_cmd.h.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_cmd.h"

void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *read_fd_all(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = malloc(size > 0 ? (size_t)size + 1 : 1);
	ssize_t got = 0;

	*len = 0;
	if (!buf)
		return NULL;
	if (size > 0 && lseek(fd, 0, SEEK_SET) == 0)
		got = pread(fd, buf, (size_t)size, 0);
	*len = got > 0 ? (size_t)got : 0;
	buf[*len] = '\0';
	return buf;
}

int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("kc-test", 0);

	if (fd >= 0 && len && write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	if (fd >= 0)
		lseek(fd, 0, SEEK_SET);
	return fd;
}

/*
 * Children get SIGTERM when the test process ends, however it ends: the
 * harness skips the teardown when a setup fails, and an agent must not
 * outlive its test.
 */
pid_t spawn(char *const argv[], int in, int out, int err)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int run_argv(char *const argv[], const char *input, size_t input_len,
		    struct result *r)
{
	int in = memfd_with(input, input_len);
	int out = memfd_with(NULL, 0), err = memfd_with(NULL, 0);
	int status = 0, ret = -1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (in >= 0 && out >= 0 && err >= 0) {
		pid = spawn(argv, in, out, err);
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			ret = 0;
	}
	r->status = exit_code(status);
	if (!ret) {
		r->out = read_fd_all(out, &r->out_len);
		r->err = read_fd_all(err, &r->err_len);
	}
	close(in);
	close(out);
	close(err);
	return ret;
}

/* argv from a NULL-terminated list after `prog` (a file in KC_BIN). */
static void build_argv(char **argv, char *path, size_t cap, const char *prog,
		       va_list ap)
{
	const char *a;
	int n = 0;

	snprintf(path, cap, "%s/%s", getenv("KC_BIN"), prog);
	argv[n++] = path;
	while (n < RUN_ARGS_MAX - 1 && (a = va_arg(ap, const char *)))
		argv[n++] = (char *)a;
	argv[n] = NULL;
}

int run(struct result *r, const char *input, const char *prog, ...)
{
	char *argv[RUN_ARGS_MAX], path[4096];
	va_list ap;

	va_start(ap, prog);
	build_argv(argv, path, sizeof(path), prog, ap);
	va_end(ap);
	return run_argv(argv, input, input ? strlen(input) : 0, r);
}

