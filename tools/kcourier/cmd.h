/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kcourier command line: one file per subcommand (cmd_<name>.c with
 * cmd_<name>()), dispatched from the table in main.c.
 *
 * Every subcommand takes (cli, argc, argv) with argv[0] its own name,
 * parses its options with getopt_long, and returns the process exit code:
 * 0 on success, 1 on any failure after printing one line to stderr of the
 * form "kcourier: ..." that quotes the input at fault. "--help" prints the
 * usage to stdout and returns 0; a usage error prints it to stderr.
 */
#ifndef KC_CLI_CMD_H
#define KC_CLI_CMD_H

#include <stdbool.h>

#define KC_VERSION "0.1.0"

/* Options given before the subcommand, shared by all of them. */
struct cli {
	const char *home; /* --home HOME; NULL means the default location */
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *help; /* one line for `kcourier --help` */
};

int cmd_keygen(struct cli *cli, int argc, char **argv);
int cmd_seal(struct cli *cli, int argc, char **argv);
int cmd_open(struct cli *cli, int argc, char **argv);
int cmd_fingerprint(struct cli *cli, int argc, char **argv);
int cmd_register(struct cli *cli, int argc, char **argv);
int cmd_send(struct cli *cli, int argc, char **argv);
int cmd_recv(struct cli *cli, int argc, char **argv);
int cmd_lookup(struct cli *cli, int argc, char **argv);

/* report.c */

/* "kcourier: <message>\n" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The name a message uses for a --in/--out value: NULL and "-" are stdio. */
const char *cli_name(const char *path, bool input);
/*
 * Prints the usage text to stdout (help, returns 0) or its synopsis to
 * stderr (usage error, returns 1).
 */
int cli_usage(const char *usage, bool error);
/*
 * For getopt_long's ':' and '?' returns (the optstring starts with ':'):
 * names the offending option, prints the usage and returns 1.
 */
int cli_bad_option(const char *cmd, const char *usage, int opt, char **argv);

#endif
