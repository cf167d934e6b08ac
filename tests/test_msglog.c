// SPDX-License-Identifier: GPL-2.0-only
/*
 * The message log on its own (agent/store/msglog.h): records and their CRC32C
 * (against Debian's python3-crc32c, an implementation of its own), batches
 * and the index, counter windows, recovery after a torn tail cut at every
 * byte of the last batch, a flipped bit in an older segment, a full disk,
 * segment reclaim, and a restart with a million queued messages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "store/msglog.h"
#include "base/clock.h"

#define SMALL_SEG (64u * 1024)

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *f)
{
	return remove(p);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Message n: sender s<n % senders>, recipient r<n % 3>, counter c. */
struct msg_maker {
	char sender[16], recipient[16];
	uint8_t msg_id[KC_MSGID_LEN];
	uint8_t inner[512];
	struct kc_rec_msg m;
};

static void make_msg(struct msg_maker *mk, unsigned int n, unsigned int senders,
		     uint64_t counter, size_t inner_len)
{
	snprintf(mk->sender, sizeof(mk->sender), "s%u", n % senders);
	snprintf(mk->recipient, sizeof(mk->recipient), "r%u", n % 3);
	memset(mk->msg_id, 0, KC_MSGID_LEN);
	memcpy(mk->msg_id, &n, sizeof(n));
	for (size_t i = 0; i < inner_len; i++)
		mk->inner[i] = (uint8_t)(n * 31 + i);
	mk->m = (struct kc_rec_msg){
		.counter = counter,
		.stored_at_ms = 1700000000000 + n,
		.flags = n & 1,
		.msg_id = mk->msg_id,
		.sender = { (const uint8_t *)mk->sender, strlen(mk->sender) },
		.recipient = { (const uint8_t *)mk->recipient,
			       strlen(mk->recipient) },
		.inner = { mk->inner, inner_len },
	};
}

/* Appends messages first..last (counter n + 1 each) in one batch. */
static int append_range(struct kc_msglog *log, unsigned int first,
			unsigned int last, size_t inner_len)
{
	struct kc_log_batch b;
	struct msg_maker mk;
	uint64_t lsn;
	int ret;

	kc_msglog_batch_init(&b);
	ret = kc_msglog_batch_begin(log, &b);
	for (unsigned int n = first; !ret && n <= last; n++) {
		make_msg(&mk, n, 4, n + 1, inner_len);
		ret = kc_msglog_add_msg(log, &b, &mk.m, &lsn);
	}
	if (!ret)
		ret = kc_msglog_write_sync(log, &b);
	kc_msglog_batch_fini(&b);
	return ret;
}

/* Which message numbers sit in recipient r<k>'s queue, in order. */
static size_t queue_of(struct kc_msglog *log, unsigned int k, unsigned int *out,
		       size_t cap)
{
	char id[16];
	size_t n = 0;

	snprintf(id, sizeof(id), "r%u", k);
	for (struct kc_log_entry *e = kc_msglog_queue_head(log, id); e;
	     e = e->qnext) {
		unsigned int num;

		memcpy(&num, e->msg_id, sizeof(num));
		if (n < cap)
			out[n] = num;
		n++;
	}
	return n;
}

/* Every queued message reads back as written. */
static int check_bodies(struct kc_msglog *log)
{
	static uint8_t buf[4096];
	struct msg_maker mk;

	for (unsigned int k = 0; k < 3; k++) {
		char id[16];

		snprintf(id, sizeof(id), "r%u", k);
		for (struct kc_log_entry *e = kc_msglog_queue_head(log, id); e;
		     e = e->qnext) {
			struct kc_rec_msg m;
			unsigned int num;

			memcpy(&num, e->msg_id, sizeof(num));
			if (kc_msglog_read(log, e, buf, sizeof(buf), &m))
				return -1;
			make_msg(&mk, num, 4, num + 1, m.inner.len);
			if (m.inner.len && memcmp(m.inner.p, mk.inner, m.inner.len))
				return -1;
			if (m.counter != num + 1 || m.stored_at_ms != mk.m.stored_at_ms)
				return -1;
		}
	}
	return 0;
}

FIXTURE(log)
{
	char dir[64];
	struct kc_msglog *log;
	struct kc_msglog_report rep;
};

FIXTURE_SETUP(log)
{
	struct kc_msglog_opts o = { .segment_bytes = SMALL_SEG };

	strcpy(self->dir, "/tmp/kc-log-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, kc_msglog_open(self->dir, &o, &self->log, &self->rep));
}

FIXTURE_TEARDOWN(log)
{
	kc_msglog_close(self->log);
	if (!getenv("KC_TEST_KEEP"))
		rm_tree(self->dir);
}

static int reopen(FIXTURE_DATA(log) *self)
{
	struct kc_msglog_opts o = { .segment_bytes = SMALL_SEG };

	kc_msglog_close(self->log);
	self->log = NULL;
	return kc_msglog_open(self->dir, &o, &self->log, &self->rep);
}

TEST(crc32c_matches_python)
{
	static const char *inputs[] = { "", "a", "123456789",
					"kcourier message log record" };
	char cmd[256];

	/* The iSCSI check value (RFC 3720 B.4 uses this polynomial). */
	ASSERT_EQ(0xe3069283u, kc_crc32c("123456789", 9));
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		unsigned int py = 0;
		FILE *f;

		snprintf(cmd, sizeof(cmd),
			 "/usr/bin/python3 -c 'import crc32c,sys; "
			 "print(crc32c.crc32c(sys.argv[1].encode()))' '%s'",
			 inputs[i]);
		f = popen(cmd, "r");
		ASSERT_NE(NULL, f);
		if (fscanf(f, "%u", &py) != 1) {
			pclose(f);
			SKIP(return, "python3-crc32c is missing");
		}
		pclose(f);
		EXPECT_EQ(py, kc_crc32c(inputs[i], strlen(inputs[i])));
	}
}

TEST(record_roundtrip_and_tamper)
{
	uint8_t buf[1024];
	struct msg_maker mk;
	struct kc_rec_msg m;
	struct kc_rec r;
	size_t size;

	make_msg(&mk, 7, 4, 99, 100);
	size = kc_rec_put_msg(buf, 42, &mk.m);
	ASSERT_EQ(kc_rec_size(kc_rec_msg_payload_len(&mk.m)), size);
	ASSERT_EQ(0, size % KC_REC_ALIGN);
	ASSERT_EQ(KC_REC_OK, kc_rec_read(buf, size, &r));
	EXPECT_EQ(42, r.lsn);
	ASSERT_EQ(0, kc_rec_get_msg(&r, &m));
	EXPECT_EQ(99, m.counter);
	EXPECT_EQ(100, m.inner.len);
	EXPECT_EQ(0, memcmp(m.inner.p, mk.inner, 100));
	/* Every single-bit flip in the checked bytes is caught. */
	for (size_t bit = 0; bit < (KC_REC_HDR_LEN + r.len) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		EXPECT_NE(KC_REC_OK, kc_rec_read(buf, size, &r));
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	EXPECT_EQ(KC_REC_SHORT, kc_rec_read(buf, size - 1, &r));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(KC_REC_END, kc_rec_read(buf, size, &r));
}

TEST(counter_window_rules)
{
	struct kc_counter_window w = { 0 };

	EXPECT_EQ(KC_WINDOW_NEW, kc_window_judge(&w, 1));
	kc_window_accept(&w, 1);
	EXPECT_EQ(KC_WINDOW_DUP, kc_window_judge(&w, 1));
	kc_window_accept(&w, 5);
	EXPECT_EQ(KC_WINDOW_NEW, kc_window_judge(&w, 3)); /* a gap fills later */
	kc_window_accept(&w, 3);
	EXPECT_EQ(KC_WINDOW_DUP, kc_window_judge(&w, 3));
	kc_window_accept(&w, 5 + 4095);
	/* 5 is hi - 4095: still in the window; 4 = hi - 4096 is out. */
	EXPECT_EQ(KC_WINDOW_DUP, kc_window_judge(&w, 5));
	EXPECT_EQ(KC_WINDOW_REPLAY, kc_window_judge(&w, 4));
	EXPECT_EQ(KC_WINDOW_NEW, kc_window_judge(&w, 6));
	kc_window_accept(&w, 1000000);
	EXPECT_EQ(KC_WINDOW_REPLAY, kc_window_judge(&w, 5 + 4095));
	EXPECT_EQ(KC_WINDOW_NEW, kc_window_judge(&w, 999999));
	EXPECT_EQ(KC_WINDOW_DUP, kc_window_judge(&w, 1000000));
}

TEST_F(log, append_reopen_in_order)
{
	unsigned int q[64];

	ASSERT_EQ(0, append_range(self->log, 0, 29, 40));
	ASSERT_EQ(0, append_range(self->log, 30, 59, 40));
	ASSERT_EQ(0, reopen(self));
	EXPECT_EQ(60, self->rep.queued);
	EXPECT_EQ(0, self->rep.torn_bytes);
	EXPECT_EQ(0, self->rep.damaged);
	ASSERT_EQ(20, queue_of(self->log, 1, q, 64));
	for (unsigned int i = 0; i < 20; i++)
		EXPECT_EQ(1 + 3 * i, q[i]);
	EXPECT_EQ(0, check_bodies(self->log));
	/* The counters came back: a resend is a duplicate. */
	EXPECT_EQ(KC_WINDOW_DUP, kc_msglog_judge(self->log, "s1", 2));
	EXPECT_EQ(KC_WINDOW_NEW, kc_msglog_judge(self->log, "s1", 1000));
}

/* Delivers (tombstones) queue positions of r<k> by message number. */
static int deliver(struct kc_msglog *log, unsigned int k,
		   const unsigned int *nums, size_t n)
{
	struct kc_log_batch b;
	char id[16];
	int ret;

	snprintf(id, sizeof(id), "r%u", k);
	kc_msglog_batch_init(&b);
	ret = kc_msglog_batch_begin(log, &b);
	for (size_t i = 0; !ret && i < n; i++) {
		uint8_t msg_id[KC_MSGID_LEN] = { 0 };
		struct kc_log_entry *e;

		memcpy(msg_id, &nums[i], sizeof(nums[i]));
		e = kc_msglog_find(log, id, msg_id);
		ret = e ? kc_msglog_add_tomb(log, &b, e) : -ENOENT;
	}
	if (!ret)
		ret = kc_msglog_write_sync(log, &b);
	kc_msglog_batch_fini(&b);
	return ret;
}

TEST_F(log, delivered_stay_delivered)
{
	unsigned int gone[] = { 0, 6, 27 }, q[16];

	ASSERT_EQ(0, append_range(self->log, 0, 29, 40));
	ASSERT_EQ(0, deliver(self->log, 0, gone, 3));
	/* A second DELIVERED of one message finds nothing. */
	ASSERT_EQ(-ENOENT, deliver(self->log, 0, gone, 1));
	ASSERT_EQ(7, queue_of(self->log, 0, q, 16));
	ASSERT_EQ(0, reopen(self));
	ASSERT_EQ(7, queue_of(self->log, 0, q, 16));
	EXPECT_EQ(3, q[0]);
	EXPECT_EQ(24, q[6]);
	EXPECT_EQ(27, self->rep.queued);
}

TEST_F(log, duplicate_in_one_batch_and_failed_batch_undone)
{
	struct kc_log_batch b;
	struct msg_maker mk;
	uint64_t lsn;

	kc_msglog_batch_init(&b);
	ASSERT_EQ(0, kc_msglog_batch_begin(self->log, &b));
	make_msg(&mk, 1, 4, 50, 10);
	ASSERT_EQ(KC_WINDOW_NEW, kc_msglog_judge(self->log, "s1", 50));
	ASSERT_EQ(0, kc_msglog_add_msg(self->log, &b, &mk.m, &lsn));
	/* The same counter again in the same batch is a duplicate. */
	EXPECT_EQ(KC_WINDOW_DUP, kc_msglog_judge(self->log, "s1", 50));
	/* A batch that fails is undone: the counter is free again. */
	kc_msglog_batch_end(self->log, &b, -ENOSPC);
	EXPECT_EQ(KC_WINDOW_NEW, kc_msglog_judge(self->log, "s1", 50));
	ASSERT_EQ(0, kc_msglog_batch_begin(self->log, &b));
	ASSERT_EQ(0, kc_msglog_add_msg(self->log, &b, &mk.m, &lsn));
	ASSERT_EQ(0, kc_msglog_write_sync(self->log, &b));
	EXPECT_EQ(KC_WINDOW_DUP, kc_msglog_judge(self->log, "s1", 50));
	kc_msglog_batch_fini(&b);
}

/* A log in a fresh directory with limits (docs/OPERATIONS.md). */
static int open_limited(char dir[64], const struct kc_msglog_limits *lim,
			struct kc_msglog **log)
{
	struct kc_msglog_opts o = { .segment_bytes = SMALL_SEG, .lim = *lim };
	struct kc_msglog_report rep;

	strcpy(dir, "/tmp/kc-log-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	return kc_msglog_open(dir, &o, log, &rep);
}

/*
 * A recipient's quota counts its queue and what the batch being built
 * adds for it: the 4th message for r0 is -EDQUOT in the batch and after
 * it; r1 is not affected. Bytes count the same way.
 */
TEST(queue_quota_counts_the_batch)
{
	struct kc_msglog_limits lim = { .queue_max_msgs = 3,
					.queue_max_bytes = 1000 };
	struct kc_msglog *log;
	struct kc_log_batch b;
	struct msg_maker mk;
	char dir[64];
	uint64_t lsn;

	ASSERT_EQ(0, open_limited(dir, &lim, &log));
	kc_msglog_batch_init(&b);
	ASSERT_EQ(0, kc_msglog_batch_begin(log, &b));
	for (unsigned int n = 0; n < 9; n += 3) { /* r0 */
		make_msg(&mk, n, 4, n + 1, 10);
		ASSERT_EQ(0, kc_msglog_add_msg(log, &b, &mk.m, &lsn));
	}
	make_msg(&mk, 9, 4, 10, 10);
	EXPECT_EQ(-EDQUOT, kc_msglog_add_msg(log, &b, &mk.m, &lsn));
	/* Refused, its counter is still free. */
	EXPECT_EQ(KC_WINDOW_NEW, kc_msglog_judge(log, mk.sender, 10));
	make_msg(&mk, 1, 4, 2, 500); /* r1: 500 bytes */
	ASSERT_EQ(0, kc_msglog_add_msg(log, &b, &mk.m, &lsn));
	make_msg(&mk, 4, 4, 5, 501); /* r1: 1001 bytes in all */
	EXPECT_EQ(-EDQUOT, kc_msglog_add_msg(log, &b, &mk.m, &lsn));
	ASSERT_EQ(0, kc_msglog_write_sync(log, &b));
	ASSERT_EQ(0, kc_msglog_batch_begin(log, &b));
	make_msg(&mk, 12, 4, 13, 10); /* r0 again: its queue is full */
	EXPECT_EQ(-EDQUOT, kc_msglog_add_msg(log, &b, &mk.m, &lsn));
	kc_msglog_batch_end(log, &b, 0);
	kc_msglog_batch_fini(&b);
	EXPECT_EQ(3, queue_of(log, 0, NULL, 0));
	kc_msglog_close(log);
	rm_tree(dir);
}

/*
 * max_bytes holds one 64 KiB segment: a batch that needs a second one is
 * -ENOSPC, and built again with the room left as its limit, the
 * messages that fit go and the rest are refused one by one.
 */
TEST(store_cap_and_room)
{
	struct kc_msglog_limits lim = { .max_bytes = SMALL_SEG };
	struct kc_msglog *log;
	struct kc_log_batch b;
	struct msg_maker mk;
	unsigned int fitted = 0;
	char dir[64];
	uint64_t lsn;
	size_t room;
	int ret = 0;

	ASSERT_EQ(0, open_limited(dir, &lim, &log));
	ASSERT_EQ(0, append_range(log, 0, 0, 100)); /* makes the segment */
	EXPECT_EQ(-ENOSPC, append_range(log, 1, 200, 512));
	room = kc_msglog_room(log);
	EXPECT_LT(60000, room);
	kc_msglog_batch_init(&b);
	ASSERT_EQ(0, kc_msglog_batch_begin(log, &b));
	b.limit = room;
	for (unsigned int n = 1; n <= 200 && !ret; n++) {
		make_msg(&mk, n, 4, n + 1, 512);
		ret = kc_msglog_add_msg(log, &b, &mk.m, &lsn);
		fitted += !ret;
	}
	EXPECT_EQ(-ENOSPC, ret);
	ASSERT_EQ(0, kc_msglog_write_sync(log, &b));
	kc_msglog_batch_fini(&b);
	EXPECT_LT(90, fitted); /* about 64 KiB of 600-byte records */
	EXPECT_GT(SMALL_SEG / 512, fitted);
	EXPECT_GT(600, kc_msglog_room(log));
	kc_msglog_close(log);
	rm_tree(dir);
}

/* The oldest or the newest segment file of dir, as a path. */
static int pick_segment(const char *dir, bool newest, char *path, size_t cap)
{
	char best[256] = "";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int cmp = strcmp(de->d_name, best);

		if (strstr(de->d_name, ".log") &&
		    (!best[0] || (newest ? cmp > 0 : cmp < 0)))
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	snprintf(path, cap, "%s/%s", dir, best);
	return best[0] ? 0 : -1;
}

static int copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", from, to);
	return system(cmd);
}

/* Where the valid records of a segment file end. */
static off_t data_end(const char *path)
{
	uint8_t *p = malloc(SMALL_SEG);
	struct kc_rec r;
	off_t end = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !p || pread(fd, p, SMALL_SEG, 0) != SMALL_SEG)
		end = -1;
	while (end >= 0 && kc_rec_read(p + end, SMALL_SEG - end, &r) == KC_REC_OK)
		end += (off_t)r.size;
	if (fd >= 0)
		close(fd);
	free(p);
	return end;
}

/* The segment at seg copied into dir, bytes from cut to end zeroed. */
static int torn_copy(const char *seg, const char *dir, off_t cut, off_t end,
		     bool garbage_after)
{
	static const uint8_t zeros[SMALL_SEG];
	static const uint8_t garbage[8] = { 0xa5, 0xa5, 0xa5, 0xa5,
					    0xa5, 0xa5, 0xa5, 0xa5 };
	char path[200];
	int fd, ret = 0;

	rm_tree(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, strrchr(seg, '/') + 1);
	if (mkdir(dir, 0700) || copy_file(seg, path))
		return -1;
	fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, zeros, end - cut, cut) != end - cut)
		ret = -1;
	/* A later sector of the write made it, an earlier one did not. */
	if (!ret && garbage_after && end - cut >= 8 &&
	    pwrite(fd, garbage, 8, end - 8) != 8)
		ret = -1;
	if (fd >= 0)
		close(fd);
	return ret;
}

static size_t queued_total(struct kc_msglog *log)
{
	unsigned int q[64];

	return queue_of(log, 0, q, 64) + queue_of(log, 1, q, 64) +
	       queue_of(log, 2, q, 64);
}

/*
 * A crash during the last batch's write: its bytes reached the disk only
 * up to `cut` (the rest reads as the zeros of the allocated segment, or
 * as garbage). Every earlier batch must survive whole; of the last, only
 * records that lie wholly before the cut may appear; and the log takes
 * new batches after it.
 */
TEST_F_TIMEOUT(log, torn_tail_at_every_byte, 600)
{
	struct kc_msglog_opts o = { .segment_bytes = SMALL_SEG };
	char seg[128], copy[80];
	off_t start, end;

	ASSERT_EQ(0, append_range(self->log, 0, 8, 30));
	ASSERT_EQ(0, pick_segment(self->dir, true, seg, sizeof(seg)));
	start = data_end(seg);
	ASSERT_EQ(0, append_range(self->log, 9, 14, 30));
	end = data_end(seg);
	ASSERT_LT(start, end);
	snprintf(copy, sizeof(copy), "%s.cut", self->dir);
	for (off_t cut = start; cut < end; cut++) {
		for (int garbage = 0; garbage < 2; garbage++) {
			struct kc_msglog_report rep;
			struct kc_msglog *log;
			size_t n;

			ASSERT_EQ(0, torn_copy(seg, copy, cut, end, garbage));
			ASSERT_EQ(0, kc_msglog_open(copy, &o, &log, &rep))
				TH_LOG("cut at %lld", (long long)cut);
			n = queued_total(log);
			/* Batch one (0..8) whole; of batch two, whole records. */
			ASSERT_LE(9, n);
			ASSERT_GE(15, n);
			ASSERT_EQ(rep.records, n);
			ASSERT_EQ(0, rep.damaged);
			ASSERT_EQ(0, check_bodies(log));
			/* It goes on: a new batch lands and reads back. */
			ASSERT_EQ(0, append_range(log, 100, 102, 30));
			kc_msglog_close(log);
			ASSERT_EQ(0, kc_msglog_open(copy, &o, &log, &rep));
			ASSERT_EQ(0, rep.torn_bytes);
			ASSERT_EQ(n + 3, rep.queued);
			ASSERT_EQ(0, check_bodies(log));
			kc_msglog_close(log);
		}
	}
	rm_tree(copy);
}

TEST_F(log, flipped_bit_in_an_older_segment)
{
	char path[300];
	uint8_t byte;
	int fd;

	/* Enough to fill several 64 KiB segments. */
	for (unsigned int i = 0; i < 12; i++)
		ASSERT_EQ(0, append_range(self->log, i * 40, i * 40 + 39, 300));
	ASSERT_EQ(0, pick_segment(self->dir, false, path, sizeof(path)));
	kc_msglog_close(self->log);
	self->log = NULL;
	/* One bit in the middle of the oldest segment's data. */
	fd = open(path, O_RDWR);
	ASSERT_EQ(1, pread(fd, &byte, 1, 20000));
	byte ^= 0x10;
	ASSERT_EQ(1, pwrite(fd, &byte, 1, 20000));
	close(fd);
	ASSERT_EQ(0, reopen(self));
	EXPECT_EQ(1, self->rep.damaged);
	EXPECT_LT(0, self->rep.damaged_bytes);
	TH_LOG("damage reported: %s, %llu bytes skipped", self->rep.first_damage,
	       (unsigned long long)self->rep.damaged_bytes);
	/* What follows the bad record in its segment is lost, no more. */
	EXPECT_LT(self->rep.queued, 480);
	EXPECT_LT(480 - SMALL_SEG / 300, self->rep.queued);
	/* Nothing damaged is delivered as garbage. */
	EXPECT_EQ(0, check_bodies(self->log));
	/* And the log goes on. */
	ASSERT_EQ(0, append_range(self->log, 1000, 1010, 300));
}

TEST_F(log, reclaim_shrinks_to_one_segment)
{
	struct kc_msglog_stats s;
	unsigned int q[1024];
	size_t n;

	for (unsigned int i = 0; i < 10; i++)
		ASSERT_EQ(0, append_range(self->log, i * 50, i * 50 + 49, 300));
	kc_msglog_stats(self->log, &s);
	ASSERT_LT(3, s.segments);
	for (unsigned int k = 0; k < 3; k++) {
		n = queue_of(self->log, k, q, 1024);
		for (size_t i = 0; i < n; i += 100)
			ASSERT_EQ(0, deliver(self->log, k, q + i,
					     n - i < 100 ? n - i : 100));
	}
	ASSERT_LE(0, kc_msglog_reclaim(self->log));
	kc_msglog_stats(self->log, &s);
	EXPECT_EQ(1, s.segments);
	EXPECT_EQ(0, s.queued);
	/* The counters outlived their segments (the checkpoint has them). */
	ASSERT_EQ(0, reopen(self));
	EXPECT_TRUE(self->rep.checkpoint);
	EXPECT_EQ(0, self->rep.queued);
	EXPECT_EQ(KC_WINDOW_DUP, kc_msglog_judge(self->log, "s1", 498));
	EXPECT_EQ(KC_WINDOW_NEW, kc_msglog_judge(self->log, "s1", 501));
}

/* Reclaim keeps a tombstone whose message's segment stays. */
TEST_F(log, reclaim_keeps_tombstones_that_matter)
{
	unsigned int q[1024], keep_first;
	size_t n;

	/* Segment 1 holds r0's first messages; later ones fill others. */
	for (unsigned int i = 0; i < 8; i++)
		ASSERT_EQ(0, append_range(self->log, i * 50, i * 50 + 49, 300));
	n = queue_of(self->log, 0, q, 1024);
	keep_first = q[0];
	/* Deliver all of r0 but the first, and all of r1 and r2. */
	ASSERT_EQ(0, deliver(self->log, 0, q + 1, 50));
	ASSERT_EQ(0, deliver(self->log, 0, q + 51, n - 51));
	for (unsigned int k = 1; k < 3; k++) {
		n = queue_of(self->log, k, q, 1024);
		ASSERT_EQ(0, deliver(self->log, k, q, 70));
		ASSERT_EQ(0, deliver(self->log, k, q + 70, n - 70));
	}
	/* Fill more segments so the tombstones' segments are old. */
	for (unsigned int i = 8; i < 12; i++)
		ASSERT_EQ(0, append_range(self->log, i * 50, i * 50 + 49, 300));
	ASSERT_LE(0, kc_msglog_reclaim(self->log));
	ASSERT_EQ(0, reopen(self));
	n = queue_of(self->log, 0, q, 1024);
	/* Only keep_first of the first 400 came back, then the new ones. */
	ASSERT_LT(0, n);
	EXPECT_EQ(keep_first, q[0]);
	for (size_t i = 1; i < n; i++)
		EXPECT_LE(400, q[i]);
}

/* A full file system: no segment can be made, nothing changes. */
TEST(full_disk_then_room_again)
{
	char dir[] = "/tmp/kc-log-full-XXXXXX", fill[96];
	struct kc_msglog_opts o = { .segment_bytes = 256 * 1024 };
	struct kc_msglog *log;
	int ret, fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("kc-test", dir, "tmpfs", 0, "size=640k,mode=0700")) {
		rmdir(dir);
		SKIP(return, "cannot mount a small tmpfs (%s): needs root",
		     strerror(errno));
	}
	snprintf(fill, sizeof(fill), "%s/filler", dir);
	ASSERT_EQ(0, kc_msglog_open(dir, &o, &log, NULL));
	ASSERT_EQ(0, append_range(log, 0, 9, 100));
	/* Take the rest of the space. */
	fd = open(fill, O_WRONLY | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	while (posix_fallocate(fd, 0, lseek(fd, 0, SEEK_END) + 4096) == 0)
		lseek(fd, 4096, SEEK_END);
	close(fd);
	/* Fill the active segment; the next batch needs a new one. */
	ret = 0;
	for (unsigned int i = 10; !ret && i < 5000; i += 10)
		ret = append_range(log, i, i + 9, 400);
	EXPECT_EQ(-ENOSPC, ret);
	/* Still -ENOSPC, still serving what it has. */
	EXPECT_EQ(-ENOSPC, append_range(log, 9000, 9001, 400));
	unlink(fill);
	EXPECT_EQ(0, append_range(log, 9000, 9001, 400));
	EXPECT_EQ(0, check_bodies(log));
	kc_msglog_close(log);
	umount(dir);
	rmdir(dir);
}

/* Correctness of a big restart; its time goes to docs/BENCHMARKS.md. */
TEST_F_TIMEOUT(log, restart_with_a_million_queued, 600)
{
	struct kc_msglog_opts o = { 0 };
	const unsigned int total = 1000000, per_batch = 5000;

	kc_msglog_close(self->log);
	ASSERT_EQ(0, kc_msglog_open(self->dir, &o, &self->log, NULL));
	for (unsigned int i = 0; i < total; i += per_batch)
		ASSERT_EQ(0, append_range(self->log, i, i + per_batch - 1, 64));
	kc_msglog_close(self->log);
	self->log = NULL;
	ASSERT_EQ(0, kc_msglog_open(self->dir, &o, &self->log, &self->rep));
	EXPECT_EQ(total, self->rep.queued);
	ksft_print_msg("restart with %u queued messages (64-byte inner): "
		       "ready in %.2f s (%u segments)\n",
		       total, self->rep.seconds, self->rep.segments);
}

TEST_HARNESS_MAIN
