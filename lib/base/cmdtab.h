/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What kcourier and kcourierd share on their command lines: a table of
 * commands with its dispatch, usage and `help COMMAND`, and the one-line
 * messages for humans, each prefixed with the program's name.
 *
 * A command gets (ctx, argc, argv) with argv[0] its own name and getopt
 * reset for it; ctx is whatever the program's main() hands over (global
 * options, or NULL). It returns the exit code.
 */
#ifndef KC_CMDTAB_H
#define KC_CMDTAB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct kc_cmd {
	const char *name;
	int (*fn)(void *ctx, int argc, char **argv);
	const char *help; /* one line for `PROG --help` */
};

struct kc_cmdtab {
	const char *prog;     /* message prefix and the name in usage hints */
	const char *synopsis; /* usage text before the command list */
	const char *footer;   /* and after it */
	int name_width;       /* column of the help lines */
	const struct kc_cmd *cmds;
	size_t n_cmds;
};

/* The synopsis, one "  name  help" line per command and the footer. */
void kc_cmdtab_usage(const struct kc_cmdtab *t, FILE *f);
/*
 * Runs the command argv[0] names, or for "help [COMMAND]" prints the
 * usage or runs COMMAND --help. Unknown names get a message and 1.
 */
int kc_cmdtab_run(const struct kc_cmdtab *t, void *ctx, int argc,
		  char **argv);
/*
 * A whole main() for a program without global options: usage without
 * arguments (1) or for -h/--help (0), else kc_cmdtab_run on argv + 1.
 */
int kc_cmdtab_main(const struct kc_cmdtab *t, void *ctx, int argc,
		   char **argv);

/* "<prog>: <message>\n" on stderr. */
void kc_cmd_err(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Prints the usage text to stdout (help, returns 0) or its synopsis, the
 * part before the first blank line, to stderr (usage error, returns 1).
 */
int kc_cmd_usage(const char *usage, bool error);
/*
 * For getopt_long's ':' and '?' returns (the optstring starts with ':'):
 * names the offending option, prints the synopsis and returns 1.
 */
int kc_cmd_bad_option(const char *prog, const char *cmd, const char *usage,
		      int opt, char **argv);

#endif
