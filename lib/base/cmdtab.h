/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What kcourier and kcourierd share on their command lines: a table of
 * commands with its dispatch, usage and `help COMMAND`. Options, the
 * program's own before COMMAND and each command's after it, are tables
 * of base/opts.h, and so are the messages: one line each, prefixed with
 * the program's name.
 *
 * A command gets (ctx, argc, argv) with argv[0] its own name; ctx is
 * whatever the program's main() hands over (global options, or NULL). It
 * returns the exit code.
 */
#ifndef KC_CMDTAB_H
#define KC_CMDTAB_H

#include <stddef.h>
#include <stdio.h>

#include "base/opts.h"

struct kc_cmd {
	const char *name;
	int (*fn)(void *ctx, int argc, char **argv);
	const char *help; /* one line for `PROG --help` */
};

struct kc_cmdtab {
	const char *prog;     /* message prefix and the name in usage hints */
	const char *synopsis; /* the usage, after "usage: " */
	const char *footer;   /* after the options */
	int name_width;	      /* column of the commands' help lines */
	const struct kc_cmd *cmds;
	size_t n_cmds;
	/* The program's options, before COMMAND (-h/--help is always one). */
	const struct kc_opt *opts;
	size_t n_opts;
};

/* The usage, a "Commands:" list, the options and the footer. */
void kc_cmdtab_usage(const struct kc_cmdtab *t, FILE *f);
/*
 * Runs the command argv[0] names, or for "help [COMMAND]" prints the
 * usage or runs COMMAND --help. Unknown names get a message and 1.
 */
int kc_cmdtab_run(const struct kc_cmdtab *t, void *ctx, int argc,
		  char **argv);
/*
 * A whole main(): the program's options (-h/--help: the usage, 0), then
 * kc_cmdtab_run on the words from COMMAND on; without one, the usage on
 * stderr and 1.
 */
int kc_cmdtab_main(const struct kc_cmdtab *t, void *ctx, int argc,
		   char **argv);

#endif
