/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by state_init.c and state_load.c: the directory being worked on
 * and the operator-facing error line. Not for use outside agent/state*.c.
 */
#ifndef KC_AGENT_STATE_INT_H
#define KC_AGENT_STATE_INT_H

#include "state.h"

struct state_ctx {
	const char *dir;
	char *err;
	size_t err_len;
	char path[PATH_MAX]; /* the file at hand, named by errors */
};

/* Formats the error line, appends ": strerror(-ret)" and returns ret. */
int state_fail(struct state_ctx *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like state_fail without the strerror part. */
int state_fail_plain(struct state_ctx *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dir/name in c->path (empty if too long, so opening it fails). */
const char *state_path(struct state_ctx *c, const char *name);

#endif
