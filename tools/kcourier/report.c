// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages for humans: how they name the input or output at fault, and
 * what an argument should have been. The message and usage printers
 * themselves are lib/base/opts.c.
 */
#include <stdint.h>
#include <string.h>

#include "kcourier_cmd.h"
#include "wire/wire.h"

const char *cli_name(const char *path, bool input)
{
	if (path && strcmp(path, "-"))
		return path;
	return input ? "standard input" : "standard output";
}

const char *cli_check_client_id(const char *arg, void *ctx)
{
	if (kc_client_id_valid((const uint8_t *)arg, strlen(arg)))
		return NULL;
	return "a client id ([a-z0-9][a-z0-9._-]{0,63})";
}
