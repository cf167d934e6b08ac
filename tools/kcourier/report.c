// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages for humans: one line per failure on stderr, naming the input.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("kcourier: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_name(const char *path, bool input)
{
	if (path && strcmp(path, "-"))
		return path;
	return input ? "standard input" : "standard output";
}

/* After a usage error, only the synopsis: the text up to the blank line. */
int cli_usage(const char *usage, bool error)
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

int cli_bad_option(const char *cmd, const char *usage, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		cli_err("%s: option '%s' needs a value", cmd, arg);
	else if (optopt && strncmp(arg, "--", 2))
		cli_err("%s: unknown option '-%c'", cmd, optopt);
	else
		cli_err("%s: unknown option '%s'", cmd, arg);
	return cli_usage(usage, true);
}
