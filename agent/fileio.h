/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole-file reads and writes for the state directory's small files
 * (certificates, the configuration). Writes never replace anything and
 * reach the disk before they return, so a crash during `kcourierd init`
 * leaves either no file or a complete one.
 */
#ifndef KC_AGENT_FILEIO_H
#define KC_AGENT_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads all of path (at most max bytes) into a malloc'ed buffer with a
 * NUL after the last byte. Returns 0, -EFBIG or the -errno of open/read.
 */
int kc_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Creates path with O_EXCL | O_NOFOLLOW and mode, writes data and fsyncs.
 * Returns 0 or -errno; on failure after creation the file is removed.
 */
int kc_write_new_file(const char *path, mode_t mode, const void *data,
		      size_t len);

#endif
