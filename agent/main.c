// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd: the agent. This file holds only the command table and the
 * dispatch; each command lives in its own cmd_<name>.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct kcd_cmd commands[] = {
	{ "init", cmd_init, "create a state directory: CA, keys, store, config" },
	{ "token", cmd_token, "print one-time enrollment tokens" },
	{ "revoke", cmd_revoke, "revoke a registered client" },
	{ "run", cmd_run, "run the agent until SIGTERM or SIGINT" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fputs("usage: kcourierd COMMAND [ARGS]\n"
	      "       kcourierd help COMMAND\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\n"
	      "'kcourierd COMMAND --help' describes one command.\n",
	      f);
}

static const struct kcd_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int run_command(const struct kcd_cmd *cmd, int argc, char **argv)
{
	/* 0, not 1: glibc's getopt then forgets all state of a previous scan. */
	optind = 0;
	return cmd->fn(argc, argv);
}

static int unknown_command(const char *name)
{
	kcd_err("unknown command '%s' (see 'kcourierd --help')", name);
	return 1;
}

/* `kcourierd help [COMMAND]` is `kcourierd COMMAND --help`. */
static int help_command(int argc, char **argv)
{
	char help_opt[] = "--help";
	const struct kcd_cmd *cmd;
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
	return run_command(cmd, 2, args);
}

int main(int argc, char **argv)
{
	const struct kcd_cmd *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help"))
		return help_command(argc - 1, argv + 1);
	cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	return run_command(cmd, argc - 1, argv + 1);
}
