// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dm-log-writes reader and replay (tests/lib/lw_log.h, the
 * tests/vm/lw-replay tool) on logs written here byte by byte in the
 * kernel's format: writes land where they say, discards read back as
 * zeroes, a replay stops at the mark asked for and goes on from there,
 * and a log that is not one is refused. The real logs, from the kernel's
 * target, are read in the VM lab by test_powercut.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lw_log.h"
#include "lib/run_cmd.h"
#include "kselftest_harness.h"

#define SECT 512

FIXTURE(lw)
{
	char dir[64], log[96], img[96];
	int fd;		/* the log being written */
	off_t pos;	/* where its next entry goes */
	uint64_t n;	/* entries so far */
};

FIXTURE_SETUP(lw)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/kc-lw-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->log, sizeof(self->log), "%s/log", self->dir);
	snprintf(self->img, sizeof(self->img), "%s/img", self->dir);
	self->fd = open(self->log, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, self->fd);
	self->pos = SECT;
	self->n = 0;
}

FIXTURE_TEARDOWN(lw)
{
	close(self->fd);
	unlink(self->log);
	unlink(self->img);
	rmdir(self->dir);
}

/* One entry: the header sector (a mark's name in it), then the data. */
static void entry(FIXTURE_DATA(lw) *self, uint64_t sector, uint64_t count,
		  uint64_t flags, const char *mark, int fill)
{
	uint8_t hdr[SECT] = { 0 }, data[SECT];
	uint64_t f[4] = { htole64(sector), htole64(count), htole64(flags),
			  htole64(mark ? strlen(mark) : 0) };

	memcpy(hdr, f, sizeof(f));
	if (mark)
		memcpy(hdr + sizeof(f), mark, strlen(mark));
	pwrite(self->fd, hdr, SECT, self->pos);
	self->pos += SECT;
	memset(data, fill, sizeof(data));
	for (uint64_t i = 0; !(flags & LW_DISCARD) && i < count; i++) {
		pwrite(self->fd, data, SECT, self->pos);
		self->pos += SECT;
	}
	self->n++;
}

static void super(FIXTURE_DATA(lw) *self, uint64_t magic)
{
	uint8_t s[SECT] = { 0 };
	uint64_t head[3] = { htole64(magic), htole64(1), htole64(self->n) };
	uint32_t size = htole32(SECT);

	memcpy(s, head, sizeof(head));
	memcpy(s + sizeof(head), &size, sizeof(size));
	pwrite(self->fd, s, SECT, 0);
}

/* The sample log: A at 2, flush, mark one, discard 2, B at 5-6, two. */
static void sample(FIXTURE_DATA(lw) *self)
{
	entry(self, 2, 1, 0, NULL, 'A');
	entry(self, 0, 0, LW_FLUSH, NULL, 0);
	entry(self, 0, 0, LW_MARK, "one", 0);
	entry(self, 2, 1, LW_DISCARD, NULL, 0);
	entry(self, 5, 2, LW_FUA, NULL, 'B');
	entry(self, 0, 0, LW_MARK, "two", 0);
	super(self, 0x6a736677736872ULL);
}

static int image(FIXTURE_DATA(lw) *self)
{
	int fd = open(self->img, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0 && ftruncate(fd, 8 * SECT)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether sector s of the image is all c. */
static bool sector_is(int fd, unsigned int s, int c)
{
	uint8_t buf[SECT];

	if (pread(fd, buf, SECT, (off_t)s * SECT) != SECT)
		return false;
	for (int i = 0; i < SECT; i++)
		if (buf[i] != c)
			return false;
	return true;
}

static bool is_mark(const struct lw_entry *e, void *arg)
{
	return (e->flags & LW_MARK) && !strcmp(e->mark, arg);
}

TEST_F(lw, replays_forward_mark_by_mark)
{
	struct lw_entry e;
	struct lw_log lg;
	int fd;

	sample(self);
	ASSERT_EQ(0, lw_open(&lg, self->log));
	EXPECT_EQ(6, lg.nr_entries);
	EXPECT_EQ(SECT, lg.sectorsize);
	fd = image(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lw_replay_until(&lg, fd, is_mark, "one", &e));
	EXPECT_EQ(2, e.index);
	EXPECT_TRUE(sector_is(fd, 2, 'A'));
	EXPECT_TRUE(sector_is(fd, 5, 0));
	ASSERT_EQ(0, lw_replay_until(&lg, fd, is_mark, "two", &e));
	EXPECT_EQ(5, e.index);
	EXPECT_TRUE(sector_is(fd, 2, 0));
	EXPECT_TRUE(sector_is(fd, 5, 'B'));
	EXPECT_TRUE(sector_is(fd, 6, 'B'));
	EXPECT_TRUE(sector_is(fd, 7, 0));
	EXPECT_EQ(1, lw_replay_until(&lg, fd, is_mark, "three", &e));
	close(fd);
	lw_close(&lg);
}

TEST_F(lw, refuses_what_is_not_a_log)
{
	struct lw_log lg;

	sample(self);
	super(self, 0x6a736677736873ULL);
	EXPECT_EQ(-EPROTO, lw_open(&lg, self->log));
	EXPECT_EQ(-ENOENT, lw_open(&lg, "/nonexistent/log"));
}

TEST_F(lw, a_mark_longer_than_its_sector_is_malformed)
{
	struct lw_entry e;
	struct lw_log lg;
	uint64_t len = htole64(SECT);

	sample(self);
	/* The third entry (mark "one", at sector 4) claims a longer name. */
	pwrite(self->fd, &len, sizeof(len), 4 * SECT + 24);
	ASSERT_EQ(0, lw_open(&lg, self->log));
	EXPECT_EQ(0, lw_next(&lg, &e));
	EXPECT_EQ(0, lw_next(&lg, &e));
	EXPECT_EQ(-EPROTO, lw_next(&lg, &e));
	lw_close(&lg);
}

TEST_F(lw, the_tool_replays_to_a_mark_and_from_an_entry)
{
	struct result r;
	int fd;

	if (!getenv("KC_BIN"))
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	sample(self);
	fd = image(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, run(&r, NULL, "tests/vm/lw-replay", self->log, self->img,
			 "--to-mark", "one", NULL));
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("next 3\n", r.out);
	result_free(&r);
	EXPECT_TRUE(sector_is(fd, 2, 'A'));
	ASSERT_EQ(0, run(&r, NULL, "tests/vm/lw-replay", self->log, self->img,
			 "--from", "3", NULL));
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("next 6\n", r.out);
	result_free(&r);
	EXPECT_TRUE(sector_is(fd, 2, 0));
	EXPECT_TRUE(sector_is(fd, 6, 'B'));
	ASSERT_EQ(0, run(&r, NULL, "tests/vm/lw-replay", self->log, "--list",
			 NULL));
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "2 M one\n"));
	EXPECT_NE(NULL, strstr(r.out, "4 U 5+2\n"));
	result_free(&r);
	close(fd);
}

TEST_HARNESS_MAIN
