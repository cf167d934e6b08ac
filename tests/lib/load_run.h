/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourier-load against an agent_proc, for the tests that check what the
 * agent reports (probes, metrics) against what the load tool did: tokens
 * for its clients, a cache beside the state directory, its --json report.
 */
#ifndef KC_TEST_LOAD_RUN_H
#define KC_TEST_LOAD_RUN_H

#include <sys/types.h>

#include <jansson.h>

#include "lib/agent_proc.h"

struct load_run {
	char tokens[200], cache[200];
	char *argv[32];
	char bin[4096];
	int out; /* memfd with its stdout, for load_run_wait */
	pid_t pid;
};

/* n fresh tokens and the file names beside a's state. 0 or -errno. */
int load_run_init(struct load_run *l, struct agent_proc *a, int clients);
/*
 * Starts kcourier-load on a with the NULL-terminated extra arguments
 * (after --agent, --ca-fingerprint, --tokens, --cache and --json).
 * 0 or -errno.
 */
int load_run_start(struct load_run *l, struct agent_proc *a,
		   const char *const *extra);
/* Waits for it: its JSON report, or NULL (it failed; stderr has it). */
json_t *load_run_wait(struct load_run *l);

/* An integer member of doc by path "a.b.c"; -1 when missing. */
long long json_path_int(json_t *doc, const char *path);
/* A number (integer or real) by path; -1 when missing. */
double json_path_num(json_t *doc, const char *path);

#endif
