// SPDX-License-Identifier: GPL-2.0-only
/*
 * A sender's message counters; see counter.h.
 *
 * The mark is one line of exactly MARK_DIGITS decimal digits, rewritten
 * in place: the file never changes size once written, and 21 bytes at
 * offset 0 lie in one sector, which the disk writes whole or not at all.
 * An atomic rename would cost a directory fsync at every block; a file
 * just created (still empty) means no counter was used yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "base/fileio.h"
#include "client/counter.h"

#define MARK_DIGITS 20 /* UINT64_MAX has 20 */
#define MARK_LEN (MARK_DIGITS + 1)

static int parse_mark(const char *buf, ssize_t len, uint64_t *mark)
{
	uint64_t v = 0;
	int i;

	*mark = 0;
	if (len == 0)
		return 0;
	if (len != MARK_LEN || buf[MARK_DIGITS] != '\n')
		return -EBADMSG;
	for (i = 0; i < MARK_DIGITS; i++) {
		unsigned int d = (unsigned char)buf[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*mark = v;
	return 0;
}

static int read_mark(int fd, uint64_t *mark)
{
	char buf[MARK_LEN + 1];
	ssize_t got;

	do
		got = pread(fd, buf, sizeof(buf), 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	return parse_mark(buf, got, mark);
}

static int write_mark(int fd, uint64_t mark)
{
	char buf[MARK_LEN + 1];
	ssize_t put;

	snprintf(buf, sizeof(buf), "%0*" PRIu64 "\n", MARK_DIGITS, mark);
	do
		put = pwrite(fd, buf, MARK_LEN, 0);
	while (put < 0 && errno == EINTR);
	if (put < 0)
		return -errno;
	if (put != MARK_LEN)
		return -EIO;
	return fsync(fd) ? -errno : 0;
}

/* An existing file, or a new one made durable by a directory fsync. */
static int open_file(const struct kc_home *h, int *fd)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	char path[PATH_MAX];
	int ret;

	ret = kc_home_path(h, KC_HOME_COUNTER, path, sizeof(path));
	if (ret)
		return ret;
	*fd = open(path, flags | O_CREAT | O_EXCL, 0600);
	if (*fd >= 0)
		return kc_file_sync_dir(h->dir);
	if (errno != EEXIST)
		return -errno;
	*fd = open(path, flags);
	return *fd < 0 ? -errno : 0;
}

int kc_counter_open(struct kc_counter *c, const struct kc_home *h)
{
	int ret;

	*c = KC_COUNTER_CLOSED;
	ret = open_file(h, &c->fd);
	if (!ret)
		ret = read_mark(c->fd, &c->mark);
	if (ret) {
		kc_counter_close(c);
		return ret;
	}
	/* At UINT64_MAX this wraps to 0, which take refuses. */
	c->next = c->mark + 1;
	return 0;
}

/* The last counter of the block that holds `counter`. */
static uint64_t block_end(uint64_t counter)
{
	uint64_t blocks = (counter - 1) / KC_COUNTER_BLOCK + 1;

	if (blocks > UINT64_MAX / KC_COUNTER_BLOCK)
		return UINT64_MAX;
	return blocks * KC_COUNTER_BLOCK;
}

int kc_counter_take(struct kc_counter *c, uint64_t *counter)
{
	uint64_t mark;
	int ret;

	if (c->fd < 0)
		return -EBADF;
	if (c->next == 0)
		return -EOVERFLOW;
	if (c->next > c->mark) {
		mark = block_end(c->next);
		ret = write_mark(c->fd, mark);
		if (ret)
			return ret;
		c->mark = mark;
	}
	*counter = c->next++;
	return 0;
}

void kc_counter_close(struct kc_counter *c)
{
	if (c->fd >= 0)
		close(c->fd);
	*c = KC_COUNTER_CLOSED;
}
