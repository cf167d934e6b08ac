/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole-file input and all-or-nothing output for the subcommands.
 */
#ifndef KC_CLI_IO_H
#define KC_CLI_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads all of path (NULL or "-": standard input) into a malloc'ed buffer.
 * Returns 0, -EFBIG beyond max bytes, or the -errno of open/read. Growing
 * the buffer wipes the old copy, so plaintext is never left in freed
 * memory; wipe and free the result the same way.
 */
int cli_read_all(const char *path, size_t max, uint8_t **buf, size_t *len);

/*
 * Writes buf to standard output (path NULL or "-"), or to path through a
 * temporary file in the same directory renamed over it once complete and
 * fsync'ed, so path never holds partial output. mode is applied to a new
 * file (minus the umask). Returns 0 or -errno.
 */
int cli_write_out(const char *path, const void *buf, size_t len, mode_t mode);

#endif
