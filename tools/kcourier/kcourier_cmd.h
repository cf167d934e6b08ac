/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kcourier command line: one file per subcommand (cmd_<name>.c with
 * cmd_<name>()), dispatched from the table in main.c.
 *
 * Every subcommand takes (ctx, argc, argv), ctx the struct cli, with
 * argv[0] its own name, parses its options from a table (base/opts.h),
 * and returns the process exit code:
 * 0 on success, 1 on any failure after printing one line to stderr of the
 * form "kcourier: ..." that quotes the input at fault. "--help" prints the
 * help to stdout and returns 0; a usage error prints the usage to stderr.
 */
#ifndef KC_CLI_CMD_H
#define KC_CLI_CMD_H

#include <stdbool.h>

#include "base/cmdtab.h"

#define KC_VERSION "0.1.0"

/* Options given before the subcommand, shared by all of them. */
struct cli {
	const char *home; /* --home HOME; NULL means the default location */
};

int cmd_keygen(void *ctx, int argc, char **argv);
int cmd_seal(void *ctx, int argc, char **argv);
int cmd_open(void *ctx, int argc, char **argv);
int cmd_fingerprint(void *ctx, int argc, char **argv);
int cmd_register(void *ctx, int argc, char **argv);
int cmd_send(void *ctx, int argc, char **argv);
int cmd_recv(void *ctx, int argc, char **argv);
int cmd_lookup(void *ctx, int argc, char **argv);

#define KC_CLI_PROG "kcourier"

/* "kcourier: <message>\n" on stderr. */
#define cli_err(...) kc_cmd_err(KC_CLI_PROG, __VA_ARGS__)

/* A subcommand's option table (base/opts.h) starts with one of these. */
#define CLI_OPTS(name) .prog = KC_CLI_PROG, .cmd = (name)
/* ... the second for one that works in the home directory (--home). */
#define CLI_HOME_OPTS(name) CLI_OPTS(name), .pre = "[--home HOME]"

/*
 * --passphrase-file FILE, "first line is <what>; else $KCOURIER_PASSPHRASE,
 * else the terminal" (KC_PASSPHRASE_ENV: keyload.h).
 */
#define CLI_OPT_PASSPHRASE_FILE(p, what)                                 \
	{ .name = "passphrase-file", KC_OPT_STRING(p), .metavar = "FILE", \
	  .help = "first line is " what "; else $" KC_PASSPHRASE_ENV      \
		  ", else the terminal" }

/*
 * --in FILE and --out FILE: whole files (io.h), standard input and output
 * by default or as "-"; what: the file's content.
 */
#define CLI_OPT_IN(p, what)                                              \
	{ .name = "in", KC_OPT_STRING(p), .metavar = "FILE",             \
	  .def = "'-': standard input", .help = what }
#define CLI_OPT_OUT(p, what)                                             \
	{ .name = "out", KC_OPT_STRING(p), .metavar = "FILE",            \
	  .def = "'-': standard output",                                 \
	  .help = what ", written whole or not at all" }

/* report.c */

/* The name a message uses for a --in/--out value: NULL and "-" are stdio. */
const char *cli_name(const char *path, bool input);
/* kc_opt_check_fn for client ids. */
const char *cli_check_client_id(const char *arg, void *ctx);

#endif
