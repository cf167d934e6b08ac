// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole-file input and all-or-nothing output; see io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

#define GROW_START (64 * 1024)

static bool is_stdio(const char *path)
{
	return !path || !strcmp(path, "-");
}

/* Moves the contents to a bigger buffer and wipes the old one. */
static int grow(uint8_t **buf, size_t *cap, size_t used, size_t limit)
{
	size_t ncap = *cap < limit / 2 ? *cap * 2 : limit;
	uint8_t *nbuf;

	nbuf = malloc(ncap);
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

static int read_fd(int fd, size_t max, uint8_t **out, size_t *out_len)
{
	size_t limit = max + 1, cap = first_capacity(fd, limit), len = 0;
	uint8_t *buf = malloc(cap);
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
	*out = buf;
	*out_len = len;
	return 0;
}

int cli_read_all(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	int fd, ret;

	if (is_stdio(path))
		return read_fd(STDIN_FILENO, max, buf, len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd(fd, max, buf, len);
	close(fd);
	return ret;
}

static int write_fd(int fd, const uint8_t *p, size_t len)
{
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

static mode_t current_umask(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return mask;
}

int cli_write_out(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (is_stdio(path))
		return write_fd(STDOUT_FILENO, buf, len);
	ret = temp_name(path, tmp, sizeof(tmp));
	if (ret)
		return ret;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write_fd(fd, buf, len);
	if (!ret && fchmod(fd, mode & ~current_umask()))
		ret = -errno;
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
