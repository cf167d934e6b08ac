// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checkpoint of counter windows: see log_checkpoint.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/log_checkpoint.h"
#include "store/log_record.h"

#define MAGIC "KCLOGCK1"
#define HDR_LEN (8 + 8 + 4)
#define ENTRY_MAX (1 + KC_CLIENT_ID_MAX + 8 + sizeof(((struct kc_counter_window *)0)->bits))
#define NAME "checkpoint"
#define TMP_NAME "checkpoint.tmp"

struct buf {
	uint8_t *p;
	size_t len, cap;
	uint32_t count; /* windows written */
};

static int reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;

	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);

	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int put_window(const struct kc_log_client *c, void *arg)
{
	struct buf *b = arg;
	size_t idlen = strlen(c->id);
	uint8_t *p;

	if (!c->sent)
		return 0;
	if (reserve(b, ENTRY_MAX))
		return -ENOMEM;
	p = b->p + b->len;
	p[0] = (uint8_t)idlen;
	memcpy(p + 1, c->id, idlen);
	put64(p + 1 + idlen, c->win.hi);
	for (size_t i = 0; i < KC_WINDOW_BITS / 64; i++)
		put64(p + 9 + idlen + 8 * i, c->win.bits[i]);
	b->len += 9 + idlen + KC_WINDOW_BITS / 8;
	b->count++;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int publish(int dir_fd, const struct buf *b)
{
	int fd, ret;

	fd = openat(dir_fd, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, b->p, b->len);
	if (!ret && fdatasync(fd))
		ret = -errno;
	close(fd);
	if (!ret && renameat(dir_fd, TMP_NAME, dir_fd, NAME))
		ret = -errno;
	if (!ret && fsync(dir_fd))
		ret = -errno;
	return ret;
}

int kc_checkpoint_write(int dir_fd, const struct kc_log_index *ix,
			uint64_t lsn_upto)
{
	struct buf b = { 0 };
	uint32_t crc;
	int ret;

	ret = reserve(&b, HDR_LEN);
	if (ret)
		return ret;
	memcpy(b.p, MAGIC, 8);
	put64(b.p + 8, lsn_upto);
	b.len = HDR_LEN;
	ret = kc_index_each_client(ix, put_window, &b);
	if (!ret)
		ret = reserve(&b, 4);
	if (!ret) {
		put32(b.p + 16, b.count);
		crc = kc_crc32c(b.p, b.len);
		put32(b.p + b.len, crc);
		b.len += 4;
		ret = publish(dir_fd, &b);
	}
	free(b.p);
	return ret;
}

static int read_file(int dir_fd, struct buf *b)
{
	struct stat st;
	int fd = openat(dir_fd, NAME, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (reserve(b, (size_t)st.st_size + 1))
		ret = -ENOMEM;
	while (!ret && b->len < (size_t)st.st_size) {
		ssize_t n = read(fd, b->p + b->len, (size_t)st.st_size - b->len);

		if (n <= 0)
			ret = n < 0 ? -errno : -EBADMSG;
		else
			b->len += (size_t)n;
	}
	close(fd);
	return ret;
}

static int load_windows(struct kc_log_index *ix, const uint8_t *p,
			const uint8_t *end, uint32_t count)
{
	for (uint32_t n = 0; n < count; n++) {
		struct kc_log_client *c;
		size_t idlen;

		if (end - p < 1 || (idlen = p[0]) == 0 || idlen > KC_CLIENT_ID_MAX ||
		    (size_t)(end - p) < 9 + idlen + KC_WINDOW_BITS / 8)
			return -EBADMSG;
		c = kc_index_client(ix, (const char *)p + 1, idlen);
		if (!c)
			return -ENOMEM;
		c->sent = true;
		c->win.hi = get64(p + 1 + idlen);
		for (size_t i = 0; i < KC_WINDOW_BITS / 64; i++)
			c->win.bits[i] = get64(p + 9 + idlen + 8 * i);
		p += 9 + idlen + KC_WINDOW_BITS / 8;
	}
	return p == end ? 0 : -EBADMSG;
}

int kc_checkpoint_read(int dir_fd, struct kc_log_index *ix,
		       uint64_t *lsn_upto)
{
	struct buf b = { 0 };
	uint32_t crc, count;
	int ret;

	*lsn_upto = 0;
	ret = read_file(dir_fd, &b);
	if (!ret && (b.len < HDR_LEN + 4 || memcmp(b.p, MAGIC, 8)))
		ret = -EBADMSG;
	if (!ret) {
		crc = get32(b.p + b.len - 4);
		if (crc != kc_crc32c(b.p, b.len - 4))
			ret = -EBADMSG;
	}
	if (!ret) {
		count = get32(b.p + 16);
		ret = load_windows(ix, b.p + HDR_LEN, b.p + b.len - 4, count);
	}
	if (!ret)
		*lsn_upto = get64(b.p + 8);
	free(b.p);
	return ret;
}
