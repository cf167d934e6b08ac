/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runs one of our binaries as a child for a test and collects its exit
 * code, standard output and standard error (memfds, so any size is fine).
 * Children get SIGTERM if the test process dies first.
 */
#ifndef KC_TEST_RUN_CMD_H
#define KC_TEST_RUN_CMD_H

#include <stddef.h>
#include <sys/types.h>

struct result {
	int status; /* exit code, or 128 + signal */
	char *out, *err;
	size_t out_len, err_len;
};

void result_free(struct result *r);

/* A memfd holding text (len bytes), positioned at its start; -1 on error. */
int memfd_with(const char *text, size_t len);
/* All of fd's contents, NUL-terminated, malloc'ed; *len without the NUL. */
char *read_fd_all(int fd, size_t *len);
/* A wait status as a shell shows it: the exit code, or 128 + signal. */
int exit_code(int status);
/* fork + execv with the three standard fds; the child's pid or -1. */
pid_t spawn(char *const argv[], int in, int out, int err);

/* Runs argv with `input` on stdin; NULL input is an empty stdin. */
int run_argv(char *const argv[], const char *input, size_t input_len,
	     struct result *r);

/*
 * Runs $KC_BIN/prog with the NULL-terminated arguments after it (at most
 * RUN_ARGS_MAX - 2). 0 when it ran (see r->status), -1 when it could not.
 */
#define RUN_ARGS_MAX 24
int run(struct result *r, const char *input, const char *prog, ...);

#endif
