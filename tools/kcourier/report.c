// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages for humans: how they name the input or output at fault. The
 * message and usage printers themselves are lib/cmdtab.c.
 */
#include <string.h>

#include "kcourier_cmd.h"

const char *cli_name(const char *path, bool input)
{
	if (path && strcmp(path, "-"))
		return path;
	return input ? "standard input" : "standard output";
}
