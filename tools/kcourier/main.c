// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier: the client command line. This file holds only the command
 * table and the global options; each subcommand lives in its own
 * cmd_<name>.c, the dispatch in lib/cmdtab.c.
 */
#include <getopt.h>
#include <stdio.h>

#include "kcourier_cmd.h"

static const struct kc_cmd commands[] = {
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

static const struct kc_cmdtab table = {
	.prog = KC_CLI_PROG,
	.synopsis = "usage: kcourier [--home HOME] COMMAND [ARGS]\n"
		    "       kcourier help COMMAND\n"
		    "\n"
		    "Commands:\n",
	.footer = "\n"
		  "Options:\n"
		  "  --home HOME   client state directory (default: the one\n"
		  "                identity under ~/.config/kcourier; for\n"
		  "                register, ~/.config/kcourier/ID)\n"
		  "  -h, --help    this text ('kcourier COMMAND --help': one "
		  "command)\n"
		  "  --version     print the version\n",
	.name_width = 12,
	.cmds = commands,
	.n_cmds = sizeof(commands) / sizeof(commands[0]),
};

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
			kc_cmdtab_usage(&table, stdout);
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
			kc_cmdtab_usage(&table, stderr);
			*rc = 1;
			return false;
		}
	}
	if (optind < argc)
		return true;
	kc_cmdtab_usage(&table, stderr);
	*rc = 1;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = { .home = NULL };
	int rc;

	if (!parse_global(argc, argv, &cli, &rc))
		return rc;
	return kc_cmdtab_run(&table, &cli, argc - optind, argv + optind);
}
