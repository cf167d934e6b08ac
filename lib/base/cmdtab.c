// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command-table dispatch and messages for humans; see cmdtab.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/cmdtab.h"

void kc_cmdtab_usage(const struct kc_cmdtab *t, FILE *f)
{
	size_t i;

	fputs(t->synopsis, f);
	for (i = 0; i < t->n_cmds; i++)
		fprintf(f, "  %-*s %s\n", t->name_width, t->cmds[i].name,
			t->cmds[i].help);
	fputs(t->footer, f);
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

static int run_command(const struct kc_cmd *cmd, void *ctx, int argc,
		       char **argv)
{
	/* 0, not 1: glibc's getopt then forgets all state of the last scan. */
	optind = 0;
	return cmd->fn(ctx, argc, argv);
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
	return run_command(cmd, ctx, 2, args);
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
	return run_command(cmd, ctx, argc, argv);
}

int kc_cmdtab_main(const struct kc_cmdtab *t, void *ctx, int argc,
		   char **argv)
{
	if (argc < 2) {
		kc_cmdtab_usage(t, stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		kc_cmdtab_usage(t, stdout);
		return 0;
	}
	return kc_cmdtab_run(t, ctx, argc - 1, argv + 1);
}

void kc_cmd_err(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int kc_cmd_usage(const char *usage, bool error)
{
	const char *end = strstr(usage, "\n\n");

	if (!error) {
		fputs(usage, stdout);
		return 0;
	}
	fwrite(usage, 1, end ? (size_t)(end - usage + 1) : strlen(usage),
	       stderr);
	return 1;
}

int kc_cmd_bad_option(const char *prog, const char *cmd, const char *usage,
		      int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		kc_cmd_err(prog, "%s: option '%s' needs a value", cmd, arg);
	else if (optopt && strncmp(arg, "--", 2))
		kc_cmd_err(prog, "%s: unknown option '-%c'", cmd, optopt);
	else
		kc_cmd_err(prog, "%s: unknown option '%s'", cmd, arg);
	return kc_cmd_usage(usage, true);
}
