// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole-file input and all-or-nothing output, "-" meaning standard input
 * or output; see io.h. The file work itself is lib/fileio.c.
 */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "io.h"

static bool is_stdio(const char *path)
{
	return !path || !strcmp(path, "-");
}

int cli_read_all(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	if (is_stdio(path))
		return kc_file_read_fd(STDIN_FILENO, max, buf, len);
	return kc_file_read(path, max, buf, len);
}

static mode_t current_umask(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return mask;
}

int cli_write_out(const char *path, const void *buf, size_t len, mode_t mode)
{
	if (is_stdio(path))
		return kc_file_write_fd(STDOUT_FILENO, buf, len);
	return kc_file_write_atomic(path, mode & ~current_umask(), buf, len);
}
