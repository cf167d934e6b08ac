// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier: the client command line. This file holds only the command
 * table, the global options and the dispatch; each subcommand lives in
 * its own cmd_<name>.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct cmd commands[] = {
	{ "keygen", cmd_keygen, "make the id and enc key pairs" },
	{ "seal", cmd_seal, "encrypt a file to a public key (JSON envelope)" },
	{ "open", cmd_open, "decrypt a JSON envelope with a private key" },
	{ "fingerprint", cmd_fingerprint,
	  "print the SHA-256 of a key's SubjectPublicKeyInfo" },
	{ "register", cmd_register, "register with an agent (one-time token)" },
	{ "send", cmd_send, "send a message, end-to-end encrypted" },
	{ "recv", cmd_recv, "receive messages and receipts" },
	{ "lookup", cmd_lookup, "show a client's keys and whether they check out" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fputs("usage: kcourier [--home HOME] COMMAND [ARGS]\n"
	      "       kcourier help COMMAND\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fputs("\n"
	      "Options:\n"
	      "  --home HOME   client state directory (default:\n"
	      "                ~/.config/kcourier)\n"
	      "  -h, --help    this text ('kcourier COMMAND --help': one command)\n"
	      "  --version     print the version\n",
	      f);
}

static const struct cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Runs a subcommand with argv[0] = its name, getopt reset for it. */
static int run_command(struct cli *cli, const struct cmd *cmd, int argc,
		       char **argv)
{
	/* 0, not 1: glibc's getopt then forgets all state of the last scan. */
	optind = 0;
	return cmd->fn(cli, argc, argv);
}

static int unknown_command(const char *name)
{
	cli_err("unknown command '%s' (see 'kcourier --help')", name);
	return 1;
}

/* `kcourier help [COMMAND]` is `kcourier COMMAND --help`. */
static int help_command(struct cli *cli, int argc, char **argv)
{
	char help_opt[] = "--help";
	const struct cmd *cmd;
	char *args[3];

	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	args[0] = argv[1];
	args[1] = help_opt;
	args[2] = NULL;
	return run_command(cli, cmd, 2, args);
}

/* Global options stop at the first word that is not one: the command. */
static bool parse_global(int argc, char **argv, struct cli *cli, int *rc)
{
	static const struct option longopts[] = {
		{ "home", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			cli->home = optarg;
			break;
		case 'h':
			print_usage(stdout);
			*rc = 0;
			return false;
		case 'V':
			printf("kcourier %s\n", KC_VERSION);
			*rc = 0;
			return false;
		default:
			cli_err(c == ':' ? "option '%s' needs a value" :
					   "unknown option '%s'",
				argv[optind - 1]);
			print_usage(stderr);
			*rc = 1;
			return false;
		}
	}
	if (optind < argc)
		return true;
	print_usage(stderr);
	*rc = 1;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = { .home = NULL };
	const struct cmd *cmd;
	int rc, first;

	if (!parse_global(argc, argv, &cli, &rc))
		return rc;
	first = optind;
	if (!strcmp(argv[first], "help"))
		return help_command(&cli, argc - first, argv + first);
	cmd = find_command(argv[first]);
	if (!cmd)
		return unknown_command(argv[first]);
	return run_command(&cli, cmd, argc - first, argv + first);
}
