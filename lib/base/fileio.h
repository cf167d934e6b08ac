/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole-file reads with a size cap and the two durable ways to write a
 * small file: create-only (never replaces anything, as for keys and the
 * agent's state) and atomic replace (temp file + fsync + rename, so the
 * path never holds partial content).
 */
#ifndef KC_FILEIO_H
#define KC_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads fd to its end (at most max bytes) into a malloc'ed buffer with a
 * NUL after the last byte. Returns 0, -EFBIG beyond max, -ENOMEM or the
 * -errno of read. Growing the buffer wipes the old copy, so secrets are
 * never left in freed memory; wipe and free the result the same way.
 */
int kc_file_read_fd(int fd, size_t max, uint8_t **buf, size_t *len);
/* kc_file_read_fd() on path, opened read-only. */
int kc_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);

/* All of buf to fd, retrying short writes and EINTR. 0 or -errno. */
int kc_file_write_fd(int fd, const void *buf, size_t len);

/*
 * Creates path with O_EXCL | O_NOFOLLOW and mode, writes data and fsyncs.
 * Returns 0 or -errno; on failure after creation the file is removed.
 */
int kc_file_write_new(const char *path, mode_t mode, const void *data,
		      size_t len);

/*
 * Writes data to a temporary file beside path, sets mode on it exactly
 * (the umask is the caller's business), fsyncs and renames it over path.
 * Returns 0 or -errno; on failure path is untouched and the temp removed.
 */
int kc_file_write_atomic(const char *path, mode_t mode, const void *data,
			 size_t len);

/* fsync of a directory, which makes a rename into it durable. */
int kc_file_sync_dir(const char *dir);

#endif
