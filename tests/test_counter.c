// SPDX-License-Identifier: GPL-2.0-only
/*
 * The message counter store (lib/client/counter.c, PROTOCOL.md section 4
 * "Message counters"): counters from 1, a mark on disk that covers every
 * counter before it is handed out and moves a block of KC_COUNTER_BLOCK
 * at a time, a restart (or a crash) that skips to the next block, files
 * that do not hold a mark, the end of the counter space, and two sender
 * processes of one home that never hand out one counter because the
 * out-state lock makes them take turns (and do without it: the control).
 *
 * Each test works in its own mkdtemp home; the mark is read back with
 * tests/lib/counter_mark.c, not with the code under test.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "client/counter.h"
#include "client/home.h"
#include "lib/counter_mark.h"

FIXTURE(counter)
{
	char dir[64], path[128];
	struct kc_home home;
};

FIXTURE_SETUP(counter)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/kc-counter-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, kc_home_create(&self->home, self->dir));
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir,
		 KC_HOME_COUNTER);
}

FIXTURE_TEARDOWN(counter)
{
	char lock[160];

	snprintf(lock, sizeof(lock), "%s/.%s.lock", self->dir,
		 KC_HOME_STATE_OUT);
	unlink(lock);
	unlink(self->path);
	rmdir(self->dir);
	kc_home_release(&self->home);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static uint64_t take(struct __test_metadata *_metadata, struct kc_counter *c)
{
	uint64_t v = 0;

	EXPECT_EQ(0, kc_counter_take(c, &v));
	return v;
}

TEST_F(counter, new_file_is_private_and_empty_until_used)
{
	struct kc_counter c;
	struct stat st;

	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_size);
	EXPECT_EQ(1, take(_metadata, &c));
	EXPECT_EQ(KC_COUNTER_BLOCK, counter_mark(self->dir));
	kc_counter_close(&c);
	kc_counter_close(&c); /* twice is fine */
}

/* Consecutive counters; the mark is written before a counter is given. */
TEST_F(counter, mark_covers_every_counter_in_blocks)
{
	const uint64_t n = 2 * KC_COUNTER_BLOCK + 500;
	struct kc_counter c;
	long long mark, writes = 0, last = 0;
	uint64_t i, v;

	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	for (i = 1; i <= n; i++) {
		v = take(_metadata, &c);
		ASSERT_EQ(i, v);
		mark = counter_mark(self->dir);
		ASSERT_LE((long long)v, mark) TH_LOG("counter %" PRIu64, v);
		ASSERT_EQ(0, mark % KC_COUNTER_BLOCK);
		writes += mark != last;
		last = mark;
	}
	EXPECT_EQ(3, writes);
	EXPECT_EQ(3 * KC_COUNTER_BLOCK, last);
	kc_counter_close(&c);
}

/* The rest of a block is never used again, after a close or a crash. */
TEST_F(counter, restart_skips_to_the_next_block)
{
	struct kc_counter c;
	pid_t pid;
	int status;

	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(1, take(_metadata, &c));
	EXPECT_EQ(2, take(_metadata, &c));
	kc_counter_close(&c);

	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(KC_COUNTER_BLOCK + 1, take(_metadata, &c));
	kc_counter_close(&c);

	/* A sender killed half way through its block, store never closed. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t v;

		if (kc_counter_open(&c, &self->home) ||
		    kc_counter_take(&c, &v) || kc_counter_take(&c, &v))
			_exit(1);
		kill(getpid(), SIGKILL);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(3 * KC_COUNTER_BLOCK, counter_mark(self->dir));
	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(3 * KC_COUNTER_BLOCK + 1, take(_metadata, &c));
	kc_counter_close(&c);
}

/* Made, never written (a crash right after creating it): nothing used. */
TEST_F(counter, empty_file_starts_at_one)
{
	struct kc_counter c;

	write_file(self->path, "");
	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(1, take(_metadata, &c));
	kc_counter_close(&c);
}

TEST_F(counter, damaged_files_are_refused)
{
	static const char *const bad[] = {
		"garbage\n",
		"1000\n",		    /* not the width written */
		"00000000000000001000",	    /* no newline */
		"00000000000000001000\n\n", /* trailing bytes */
		"0000000000000000100x\n",
		"-0000000000000001000\n",
		"99999999999999999999\n", /* above 2^64 - 1 */
		"18446744073709551616\n", /* 2^64 */
	};
	struct kc_counter c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		write_file(self->path, bad[i]);
		EXPECT_EQ(-EBADMSG, kc_counter_open(&c, &self->home))
			TH_LOG("contents %zu", i);
		/* A failed open leaves the store closed, and take says so. */
		EXPECT_EQ(-1, c.fd);
		EXPECT_EQ(-EBADF, kc_counter_take(&c, &(uint64_t){ 0 }));
	}
	write_file(self->path, "00000000000000001000\n");
	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(KC_COUNTER_BLOCK + 1, take(_metadata, &c));
	kc_counter_close(&c);
}

TEST_F(counter, symlink_is_not_followed)
{
	struct kc_counter c;
	char target[160];

	snprintf(target, sizeof(target), "%s/elsewhere", self->dir);
	ASSERT_EQ(0, symlink(target, self->path));
	EXPECT_EQ(-ELOOP, kc_counter_open(&c, &self->home));
	EXPECT_NE(0, access(target, F_OK));
}

TEST_F(counter, end_of_the_counter_space)
{
	struct kc_counter c;

	write_file(self->path, "18446744073709551614\n");
	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(UINT64_MAX, take(_metadata, &c));
	EXPECT_EQ(-EOVERFLOW, kc_counter_take(&c, &(uint64_t){ 0 }));
	kc_counter_close(&c);

	write_file(self->path, "18446744073709551615\n");
	ASSERT_EQ(0, kc_counter_open(&c, &self->home));
	EXPECT_EQ(-EOVERFLOW, kc_counter_take(&c, &(uint64_t){ 0 }));
	kc_counter_close(&c);
}

#define SENDERS 4
#define RUNS 6
#define PER_RUN 700 /* not a multiple of the block: runs end mid-block */

/* One sender process: RUNS times lock, open, take PER_RUN, close, unlock. */
static int sender_runs(const struct kc_home *h, FILE *out)
{
	struct kc_counter c;
	uint64_t v;
	int run, i, lock;

	for (run = 0; run < RUNS; run++) {
		if (kc_home_lock(h, KC_HOME_STATE_OUT, &lock) ||
		    kc_counter_open(&c, h))
			return 1;
		for (i = 0; i < PER_RUN; i++) {
			if (kc_counter_take(&c, &v))
				return 1;
			fprintf(out, "%" PRIu64 "\n", v);
		}
		kc_counter_close(&c);
		kc_home_unlock(lock);
	}
	return fflush(out) ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Two processes of one home, at once, under the out-state lock. */
TEST_F(counter, concurrent_senders_never_share_a_counter)
{
	static uint64_t all[SENDERS * RUNS * PER_RUN];
	FILE *out[SENDERS];
	size_t n = 0, i;
	pid_t pids[SENDERS];
	int k, status;

	for (k = 0; k < SENDERS; k++) {
		out[k] = tmpfile();
		ASSERT_NE(NULL, out[k]);
	}
	for (k = 0; k < SENDERS; k++) {
		pids[k] = fork();
		ASSERT_LE(0, pids[k]);
		if (pids[k] == 0)
			_exit(sender_runs(&self->home, out[k]));
	}
	for (k = 0; k < SENDERS; k++) {
		ASSERT_EQ(pids[k], waitpid(pids[k], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	for (k = 0; k < SENDERS; k++) {
		rewind(out[k]);
		while (n < ARRAY_SIZE(all) &&
		       fscanf(out[k], "%" SCNu64, &all[n]) == 1)
			n++;
		fclose(out[k]);
	}
	ASSERT_EQ(ARRAY_SIZE(all), n);
	qsort(all, n, sizeof(all[0]), cmp_u64);
	for (i = 1; i < n; i++)
		ASSERT_NE(all[i - 1], all[i])
			TH_LOG("counter %" PRIu64 " handed out twice", all[i]);
	EXPECT_LE(1, all[0]);
	EXPECT_LE((long long)all[n - 1], counter_mark(self->dir));
}

/* The control: two stores open at once, no lock, hand out the same. */
TEST_F(counter, without_the_lock_two_senders_collide)
{
	struct kc_counter a, b;

	ASSERT_EQ(0, kc_counter_open(&a, &self->home));
	ASSERT_EQ(0, kc_counter_open(&b, &self->home));
	EXPECT_EQ(take(_metadata, &a), take(_metadata, &b));
	kc_counter_close(&a);
	kc_counter_close(&b);
}

TEST(span_above_the_oldest_unacknowledged)
{
	EXPECT_TRUE(kc_counter_in_span(0, UINT64_MAX)); /* none waiting */
	EXPECT_TRUE(kc_counter_in_span(1, 1));
	EXPECT_TRUE(kc_counter_in_span(1, KC_COUNTER_SPAN));
	EXPECT_FALSE(kc_counter_in_span(1, KC_COUNTER_SPAN + 1));
	EXPECT_TRUE(kc_counter_in_span(5000, 5000 + KC_COUNTER_SPAN - 1));
	EXPECT_FALSE(kc_counter_in_span(5000, 5000 + KC_COUNTER_SPAN));
	EXPECT_EQ(4096, KC_COUNTER_SPAN);
	EXPECT_EQ(1000, KC_COUNTER_BLOCK);
}

TEST_HARNESS_MAIN
