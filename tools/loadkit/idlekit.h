/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Idle connections and what they cost a server: N connections opened in
 * steps (1, 1,000, 10,000, ..., N), each checked by the caller's open
 * function (a handshake and one round trip), the server's resident memory
 * read from /proc after each step, then all held for a while (so a
 * message load can run beside them) and closed. kcourier-load --idle and
 * the mosquitto driver mosq-idle share it, so both servers are measured
 * the same way.
 */
#ifndef KC_IDLEKIT_H
#define KC_IDLEKIT_H

#include <stddef.h>
#include <stdio.h>

#define IDLE_STEPS_MAX 8

struct idle_ops {
	/* Opens connection i and checks the server serves it: 0 or -errno. */
	int (*open_one)(void *ctx, size_t i);
	void (*close_one)(void *ctx, size_t i);
	void *ctx;
};

struct idle_step {
	size_t connections; /* open at this step */
	long server_kib;    /* server VmRSS, -1 unknown */
	long tool_kib;	    /* our own VmRSS */
};

struct idle_run {
	/* In. */
	size_t target;
	unsigned int threads;
	int server_pid; /* 0: memory not read */
	double settle_s, hold_s;
	/* Out. */
	size_t opened, failed;
	int first_error;
	double open_s; /* time to open all of them */
	struct idle_step steps[IDLE_STEPS_MAX + 1];
	unsigned int n_steps;
	long held_kib; /* server VmRSS at the end of the hold */
};

/*
 * Raises this process's open-file limit to fit n connections, as an
 * operator would with `ulimit -n` or LimitNOFILE=. 0 or -errno.
 */
int idle_raise_nofile(size_t n);
/* VmRSS of pid (0: this process) in KiB, or -1. */
long idle_rss_kib(int pid);
/*
 * Opens r->target connections in steps, holds them r->hold_s seconds,
 * closes them. 0 when every one opened and was served, else -errno of
 * the first failure (the counts say how many).
 */
int idle_run(struct idle_run *r, const struct idle_ops *ops);
/* r as one line of JSON: {"tool", "target", "idle": {...}}; 0 or -errno. */
int idle_print_json(FILE *f, const char *tool, const char *target,
		    const struct idle_run *r);

#endif
