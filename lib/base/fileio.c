// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole-file input and durable output; see fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"

#define GROW_START (64 * 1024)

/* Moves the contents to a bigger buffer and wipes the old one. */
static int grow(uint8_t **buf, size_t *cap, size_t used, size_t limit)
{
	size_t ncap = *cap < limit / 2 ? *cap * 2 : limit;
	uint8_t *nbuf;

	nbuf = malloc(ncap + 1);
	if (!nbuf)
		return -ENOMEM;
	memcpy(nbuf, *buf, used);
	explicit_bzero(*buf, used);
	free(*buf);
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/* A regular file's size sizes the buffer; one byte more shows the EOF. */
static size_t first_capacity(int fd, size_t limit)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uintmax_t)st.st_size < limit)
		return (size_t)st.st_size + 1;
	return GROW_START < limit ? GROW_START : limit;
}

/* Buffers hold cap bytes plus room for the terminating NUL. */
int kc_file_read_fd(int fd, size_t max, uint8_t **out, size_t *out_len)
{
	size_t limit = max + 1, cap = first_capacity(fd, limit), len = 0;
	uint8_t *buf = malloc(cap + 1);
	ssize_t got = 1;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!ret && got != 0 && len < limit) {
		if (len == cap)
			ret = grow(&buf, &cap, len, limit);
		if (ret)
			break;
		got = read(fd, buf + len, cap - len);
		if (got > 0)
			len += (size_t)got;
		else if (got < 0 && errno != EINTR)
			ret = -errno;
	}
	if (!ret && len > max)
		ret = -EFBIG;
	if (ret) {
		explicit_bzero(buf, len);
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

int kc_file_read(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kc_file_read_fd(fd, max, buf, len);
	close(fd);
	return ret;
}

int kc_file_write_fd(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t put;

	while (len > 0) {
		put = write(fd, p, len);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0)
			return -errno;
		if (put == 0)
			return -EIO;
		p += put;
		len -= (size_t)put;
	}
	return 0;
}

int kc_file_write_new(const char *path, mode_t mode, const void *data,
		      size_t len)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return -errno;
	ret = kc_file_write_fd(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		unlink(path);
	return ret;
}

/* "dir/.name.XXXXXX" beside path, so rename() stays in one file system. */
static int temp_name(const char *path, char *tmp, size_t cap)
{
	const char *base = strrchr(path, '/');
	int dir_len = base ? (int)(base - path + 1) : 0;
	int n;

	base = base ? base + 1 : path;
	n = snprintf(tmp, cap, "%.*s.%s.XXXXXX", dir_len, path, base);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int kc_file_write_atomic(const char *path, mode_t mode, const void *data,
			 size_t len)
{
	char tmp[PATH_MAX];
	int fd, ret;

	ret = temp_name(path, tmp, sizeof(tmp));
	if (ret)
		return ret;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, mode) ? -errno : 0;
	if (!ret)
		ret = kc_file_write_fd(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int kc_file_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}
