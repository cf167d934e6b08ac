// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment tokens; see tokens.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tokens.h"

#define BATCH_MAX 1000 /* kcourierd token --count limit */

void tokens_init(struct token_source *ts, const struct load_opts *o)
{
	memset(ts, 0, sizeof(*ts));
	ts->o = o;
}

static void free_batch(struct token_source *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		explicit_bzero(ts->batch[i], strlen(ts->batch[i]));
		free(ts->batch[i]);
	}
	free(ts->batch);
	ts->batch = NULL;
	ts->n = ts->next = 0;
}

void tokens_close(struct token_source *ts)
{
	if (ts->file)
		fclose(ts->file);
	free_batch(ts);
}

/* kcourierd beside our own binary (a build tree or an install), else PATH. */
static void kcourierd_path(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, cap, "kcourierd");
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, cap, "%s/kcourierd", self) >= cap ||
	    access(out, X_OK))
		snprintf(out, cap, "kcourierd");
}

static int add_token(struct token_source *ts, const char *line)
{
	char **b = reallocarray(ts->batch, ts->n + 1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	ts->batch = b;
	b[ts->n] = strdup(line);
	if (!b[ts->n])
		return -ENOMEM;
	ts->n++;
	return 0;
}

static void chomp(char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
}

static int read_batch(struct token_source *ts, FILE *f)
{
	char line[TOKEN_MAX];
	int ret = 0;

	while (!ret && fgets(line, sizeof(line), f)) {
		chomp(line);
		if (line[0])
			ret = add_token(ts, line);
	}
	explicit_bzero(line, sizeof(line));
	return ret;
}

static void exec_kcourierd(const char *dir, size_t count, int out_fd)
{
	char bin[PATH_MAX], n[32];

	kcourierd_path(bin, sizeof(bin));
	snprintf(n, sizeof(n), "%zu", count);
	dup2(out_fd, STDOUT_FILENO);
	execlp(bin, bin, "token", "--dir", dir, "--count", n, (char *)NULL);
	fprintf(stderr, LOAD_NAME ": cannot run %s: %s\n", bin,
		strerror(errno));
	_exit(127);
}

/* `kcourierd token --dir DIR --count N`, its stdout read as a batch. */
static int fetch_batch(struct token_source *ts, size_t want)
{
	size_t count = want < 1 ? 1 : want > BATCH_MAX ? BATCH_MAX : want;
	int pipefd[2], status, ret;
	FILE *f;
	pid_t pid;

	free_batch(ts);
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_kcourierd(ts->o->dir, count, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -errno;
	}
	f = fdopen(pipefd[0], "r");
	ret = f ? read_batch(ts, f) : -errno;
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ret = ret ? ret : -EIO;
	return ret;
}

static int next_from_file(struct token_source *ts, char out[TOKEN_MAX])
{
	if (!ts->file) {
		ts->file = fopen(ts->o->tokens, "re");
		if (!ts->file) {
			load_err("%s: %s", ts->o->tokens, strerror(errno));
			return -1;
		}
	}
	while (fgets(out, TOKEN_MAX, ts->file)) {
		chomp(out);
		if (out[0])
			return 0;
	}
	load_err("%s: no tokens left for new clients", ts->o->tokens);
	return -1;
}

int tokens_next(struct token_source *ts, size_t want, char out[TOKEN_MAX])
{
	int ret;

	if (ts->o->tokens)
		return next_from_file(ts, out);
	if (!ts->o->dir) {
		load_err("new clients need enrollment tokens: pass --tokens FILE or --dir DIR");
		return -1;
	}
	if (ts->next == ts->n) {
		ret = fetch_batch(ts, want);
		if (ret || !ts->n) {
			load_err("kcourierd token --dir %s failed%s%s",
				 ts->o->dir, ret ? ": " : "",
				 ret ? strerror(-ret) : "");
			return -1;
		}
	}
	snprintf(out, TOKEN_MAX, "%s", ts->batch[ts->next++]);
	return 0;
}
