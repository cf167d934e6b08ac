// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command-table dispatch; see cmdtab.h.
 */
#include <stdio.h>
#include <string.h>

#include "base/cmdtab.h"

static void print_commands(FILE *f, const void *arg)
{
	const struct kc_cmdtab *t = arg;
	size_t i;

	fputs("Commands:\n", f);
	for (i = 0; i < t->n_cmds; i++)
		fprintf(f, "  %-*s %s\n", t->name_width, t->cmds[i].name,
			t->cmds[i].help);
}

/* The program's own options, as a table of base/opts.h. */
static struct kc_opts program_opts(const struct kc_cmdtab *t, int *rest)
{
	return (struct kc_opts){
		.prog = t->prog,
		.synopsis = t->synopsis,
		.footer = t->footer,
		.opts = t->opts,
		.n_opts = t->n_opts,
		.rest = rest,
		.more_help = print_commands,
		.more_arg = t,
	};
}

void kc_cmdtab_usage(const struct kc_cmdtab *t, FILE *f)
{
	struct kc_opts spec = program_opts(t, NULL);

	kc_opts_help(&spec, f);
}

static const struct kc_cmd *find_command(const struct kc_cmdtab *t,
					 const char *name)
{
	size_t i;

	for (i = 0; i < t->n_cmds; i++)
		if (!strcmp(t->cmds[i].name, name))
			return &t->cmds[i];
	return NULL;
}

static int unknown_command(const struct kc_cmdtab *t, const char *name)
{
	kc_cmd_err(t->prog, "unknown command '%s' (see '%s --help')", name,
		   t->prog);
	return 1;
}

/* `PROG help [COMMAND]` is `PROG COMMAND --help`. */
static int help_command(const struct kc_cmdtab *t, void *ctx, int argc,
			char **argv)
{
	char help_opt[] = "--help";
	const struct kc_cmd *cmd;
	char *args[3];

	if (argc < 2) {
		kc_cmdtab_usage(t, stdout);
		return 0;
	}
	cmd = find_command(t, argv[1]);
	if (!cmd)
		return unknown_command(t, argv[1]);
	args[0] = argv[1];
	args[1] = help_opt;
	args[2] = NULL;
	return cmd->fn(ctx, 2, args);
}

int kc_cmdtab_run(const struct kc_cmdtab *t, void *ctx, int argc,
		  char **argv)
{
	const struct kc_cmd *cmd;

	if (!strcmp(argv[0], "help"))
		return help_command(t, ctx, argc, argv);
	cmd = find_command(t, argv[0]);
	if (!cmd)
		return unknown_command(t, argv[0]);
	return cmd->fn(ctx, argc, argv);
}

int kc_cmdtab_main(const struct kc_cmdtab *t, void *ctx, int argc,
		   char **argv)
{
	int first = 0, rc;
	struct kc_opts spec = program_opts(t, &first);

	if (!kc_opts_parse(&spec, argc, argv, &rc))
		return rc;
	if (first >= argc) {
		kc_cmdtab_usage(t, stderr);
		return 1;
	}
	return kc_cmdtab_run(t, ctx, argc - first, argv + first);
}
