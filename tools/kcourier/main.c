// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier: the client command line. This file holds only the command
 * table and the global options; each subcommand lives in its own
 * cmd_<name>.c, the dispatch in lib/base/cmdtab.c.
 */
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

/* Global options: before the command, for all of them (struct cli). */
static struct cli cli;

static const struct kc_opt global_opts[] = {
	{ .name = "home", KC_OPT_STRING(&cli.home), .metavar = "HOME",
	  .help = "client state directory (default: the one identity under "
		  "~/.config/kcourier; for register, ~/.config/kcourier/ID)" },
	{ .name = "version", KC_OPT_PRINT("kcourier " KC_VERSION "\n"),
	  .help = "print the version" },
};

static const struct kc_cmdtab table = {
	.prog = KC_CLI_PROG,
	.synopsis = "kcourier [--home HOME] COMMAND [ARGS]\n"
		    "       kcourier help COMMAND",
	.footer = "'kcourier COMMAND --help' describes one command.\n",
	.name_width = 12,
	.cmds = commands,
	.n_cmds = sizeof(commands) / sizeof(commands[0]),
	.opts = global_opts,
	.n_opts = sizeof(global_opts) / sizeof(global_opts[0]),
};

int main(int argc, char **argv)
{
	return kc_cmdtab_main(&table, &cli, argc, argv);
}
