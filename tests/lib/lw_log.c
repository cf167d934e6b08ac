// SPDX-License-Identifier: GPL-2.0-only
/*
 * A dm-log-writes log, read and replayed: see lw_log.h.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw_log.h"

#define LW_MAGIC 0x6a736677736872ULL
#define LW_VERSION 1
#define LW_COPY_CHUNK (1u << 20)

struct lw_disk_super {
	uint64_t magic, version, nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct lw_disk_entry {
	uint64_t sector, nr_sectors, flags, data_len;
};

static int read_exact(int fd, void *buf, size_t len, off_t pos)
{
	ssize_t n = pread(fd, buf, len, pos);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EPROTO;
}

int lw_open(struct lw_log *lg, const char *path)
{
	struct lw_disk_super s;
	int ret;

	memset(lg, 0, sizeof(*lg));
	lg->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (lg->fd < 0)
		return -errno;
	ret = read_exact(lg->fd, &s, sizeof(s), 0);
	if (!ret && (le64toh(s.magic) != LW_MAGIC ||
		     le64toh(s.version) != LW_VERSION))
		ret = -EPROTO;
	lg->sectorsize = le32toh(s.sectorsize);
	/* A power of two at least as big as a header, at most a page. */
	if (!ret && (lg->sectorsize < 512 || lg->sectorsize > 65536 ||
		     (lg->sectorsize & (lg->sectorsize - 1))))
		ret = -EPROTO;
	if (ret) {
		lw_close(lg);
		return ret;
	}
	lg->nr_entries = le64toh(s.nr_entries);
	lg->pos = lg->sectorsize;
	return 0;
}

void lw_close(struct lw_log *lg)
{
	if (lg->fd > 0)
		close(lg->fd);
	lg->fd = -1;
}

/* A mark's name sits after the header, in the header's own sector. */
static int read_mark(const struct lw_log *lg, struct lw_entry *e,
		     uint64_t len)
{
	if (len > LW_MARK_MAX ||
	    len > lg->sectorsize - sizeof(struct lw_disk_entry))
		return -EPROTO;
	e->mark[len] = '\0';
	return read_exact(lg->fd, e->mark, len,
			  e->data_pos - lg->sectorsize +
				  (off_t)sizeof(struct lw_disk_entry));
}

int lw_next(struct lw_log *lg, struct lw_entry *e)
{
	struct lw_disk_entry d;
	uint64_t len;
	int ret;

	if (lg->next >= lg->nr_entries)
		return 1;
	ret = read_exact(lg->fd, &d, sizeof(d), lg->pos);
	if (ret)
		return ret;
	memset(e, 0, sizeof(*e));
	e->index = lg->next;
	e->sector = le64toh(d.sector);
	e->nr_sectors = le64toh(d.nr_sectors);
	e->flags = le64toh(d.flags);
	e->data_pos = lg->pos + lg->sectorsize;
	len = le64toh(d.data_len);
	if (e->flags & LW_MARK)
		ret = read_mark(lg, e, len);
	else if (len)
		ret = -EPROTO; /* inline data: the kernel writes none */
	if (ret)
		return ret;
	lg->pos = e->data_pos;
	if (!(e->flags & LW_DISCARD))
		lg->pos += (off_t)(e->nr_sectors * lg->sectorsize);
	lg->next++;
	return 0;
}

static int copy_range(int from, off_t src, int to, off_t dst, uint64_t len)
{
	char *buf = malloc(LW_COPY_CHUNK);
	int ret = buf ? 0 : -ENOMEM;

	while (!ret && len) {
		size_t n = len < LW_COPY_CHUNK ? (size_t)len : LW_COPY_CHUNK;
		ssize_t w;

		ret = read_exact(from, buf, n, src);
		if (ret)
			break;
		w = pwrite(to, buf, n, dst);
		if (w != (ssize_t)n)
			ret = w < 0 ? -errno : -EIO;
		src += (off_t)n;
		dst += (off_t)n;
		len -= n;
	}
	free(buf);
	return ret;
}

/* A discard reads back as zeroes here, the safe reading of "unknown". */
static int zero_range(int fd, off_t off, uint64_t len)
{
	struct stat st;
	uint64_t range[2] = { (uint64_t)off, len };

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKZEROOUT, range) ? -errno : 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      (off_t)len))
		return -errno;
	return 0;
}

int lw_apply(const struct lw_log *lg, const struct lw_entry *e, int dev_fd)
{
	off_t off = (off_t)(e->sector * lg->sectorsize);
	uint64_t len = e->nr_sectors * lg->sectorsize;

	if ((e->flags & LW_MARK) || !e->nr_sectors)
		return 0;
	if (e->flags & LW_DISCARD)
		return zero_range(dev_fd, off, len);
	return copy_range(lg->fd, e->data_pos, dev_fd, off, len);
}

int lw_replay_until(struct lw_log *lg, int dev_fd,
		    bool (*stop)(const struct lw_entry *e, void *arg),
		    void *arg, struct lw_entry *e)
{
	int ret;

	while (!(ret = lw_next(lg, e))) {
		ret = lw_apply(lg, e, dev_fd);
		if (ret)
			return ret;
		if (stop && stop(e, arg))
			return 0;
	}
	return ret;
}
