// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t got;

	*len = 0;
	while (*len < cap) {
		got = read(fd, buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		*len += (size_t)got;
	}
	return 0;
}

int kc_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
	size_t len = 0;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 2);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* One byte more than allowed tells a full file from a too big one. */
	ret = read_all(fd, buf, max + 1, &len);
	close(fd);
	if (!ret && len > max)
		ret = -EFBIG;
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t put;

	while (len) {
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

int kc_write_new_file(const char *path, mode_t mode, const void *data,
		      size_t len)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		unlink(path);
	return ret;
}
