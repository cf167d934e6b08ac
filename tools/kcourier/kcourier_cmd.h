/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kcourier command line: one file per subcommand (cmd_<name>.c with
 * cmd_<name>()), dispatched from the table in main.c.
 *
 * Every subcommand takes (ctx, argc, argv), ctx the struct cli, with
 * argv[0] its own name, parses its options with getopt_long, and returns
 * the process exit code:
 * 0 on success, 1 on any failure after printing one line to stderr of the
 * form "kcourier: ..." that quotes the input at fault. "--help" prints the
 * usage to stdout and returns 0; a usage error prints it to stderr.
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

/*
 * For getopt_long's ':' and '?' returns (the optstring starts with ':'):
 * names the offending option, prints the usage and returns 1.
 */
static inline int cli_bad_option(const char *cmd, const char *usage, int opt,
				 char **argv)
{
	return kc_cmd_bad_option(KC_CLI_PROG, cmd, usage, opt, argv);
}

/* report.c */

/* The name a message uses for a --in/--out value: NULL and "-" are stdio. */
const char *cli_name(const char *path, bool input);

#endif
