// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power loss at any flush, proven with dm-log-writes (issue 17).
 *
 * A kill -9 leaves the page cache behind, so it cannot find a missing
 * fsync or directory sync; a power cut can. The agent's state directory
 * lives on a file system over a dm-log-writes target (a loop device, the
 * log on a second one): every write, flush and FUA the file system sends
 * reaches the log once a flush has covered it. Three senders and two
 * receivers run against the agent (tests/lib/traffic.h) and each ACK a
 * sender reads is followed by a mark in the log ("mN"), so the log knows
 * which ACKs had been seen by each point.
 *
 * Then the log is replayed forward onto a copy of the freshly made file
 * system, and at chosen marks the image so far is copied and checked as
 * a machine that lost power there would find it: mounted once (journal
 * recovery) and unmounted, checked read-only (e2fsck -fn, xfs_repair -n),
 * mounted again, kcourierd started on it, and tr_check(): every client
 * registered before the mark connects, the newest used token is refused,
 * every message ACKed before the mark is delivered exactly once (bob's
 * may be gone when his DELIVERED went out before the mark), nothing never
 * sent or garbled arrives, and resends of ACKed messages are suppressed.
 *
 * Variants: ext4 data=ordered, ext4 data=writeback, xfs.
 *   KC_POWERCUT_MESSAGES  messages to ACK in the run (default 120)
 *   KC_POWERCUT_CHECKS    marks to check: a number (default 6; the last
 *                         20 among them, or half when fewer) or "all"
 *   KC_POWERCUT_FS        one variant only (ext4_ordered, ext4_writeback,
 *                         xfs); the others SKIP
 * Needs root, loop devices and the dm-log-writes module: the host SKIPs,
 * the VM lab runs it (make check-vm VM_TESTS=test_powercut).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/after_cut.h"
#include "lib/agent_proc.h"
#include "lib/blockstack.h"
#include "lib/dm_msg.h"
#include "lib/lw_log.h"
#include "lib/traffic.h"
#include "kselftest_harness.h"

#define LOG_MIB 1024
#define LAST_MARKS 20

FIXTURE(powercut)
{
	struct agent_proc a;
	struct traffic t;
	struct bs_rig r;
	char state0[128]; /* agent_proc's own state; restored for destroy */
	char data_img[96], log_img[96], base_img[96], replay_img[96];
	char check_img[96], cmnt[96], dm_dev[64];
	int ctl;
};

FIXTURE_VARIANT(powercut)
{
	const char *name;
	struct bs_fs fs;
};

FIXTURE_VARIANT_ADD(powercut, ext4_ordered)
{
	.name = "ext4_ordered",
	.fs = { "ext4", "data=ordered", 64 },
};

FIXTURE_VARIANT_ADD(powercut, ext4_writeback)
{
	.name = "ext4_writeback",
	.fs = { "ext4", "data=writeback", 64 },
};

FIXTURE_VARIANT_ADD(powercut, xfs)
{
	.name = "xfs",
	.fs = { "xfs", "", 320 },
};

/* Each ACK and registration: a mark, named by its number. */
static uint32_t mark(struct traffic *t, const char *what)
{
	FIXTURE_DATA(powercut) *self = t->note_arg;
	uint32_t n = t->lg->points + 1;
	char text[32];

	(void)what;
	snprintf(text, sizeof(text), "mark m%u", n);
	return dm_message(self->ctl, self->r.dm_name, text) ? 0 : n;
}

static void paths(FIXTURE_DATA(powercut) *self)
{
	snprintf(self->data_img, sizeof(self->data_img), "%s/data.img",
		 self->r.work);
	snprintf(self->log_img, sizeof(self->log_img), "%s/log.img",
		 self->r.work);
	snprintf(self->base_img, sizeof(self->base_img), "%s/base.img",
		 self->r.work);
	snprintf(self->replay_img, sizeof(self->replay_img), "%s/replay.img",
		 self->r.work);
	snprintf(self->check_img, sizeof(self->check_img), "%s/check.img",
		 self->r.work);
	snprintf(self->r.mnt, sizeof(self->r.mnt), "%s/mnt", self->r.work);
	snprintf(self->cmnt, sizeof(self->cmnt), "%s/check", self->r.work);
	snprintf(self->r.dm_name, sizeof(self->r.dm_name), "kc-lw-%d", getpid());
}

/* What the host lacks, or NULL when the test can run here. */
static const char *missing(const struct bs_fs *fs, char *why, size_t cap)
{
	if (geteuid())
		return "needs root (loop devices, device-mapper)";
	if (bs_modprobe(why, cap, "loop", "dm-log-writes", fs->type, NULL))
		return why;
	if (access("/dev/mapper/control", R_OK | W_OK))
		return "no /dev/mapper/control";
	if (!strcmp(fs->type, "xfs") && access("/sbin/mkfs.xfs", X_OK))
		return "no mkfs.xfs (tools/deps.sh vm installs xfsprogs)";
	return NULL;
}

/* The file system over log-writes, mounted, with the agent's dir on it. */
static int log_writes_up(FIXTURE_DATA(powercut) *self, const struct bs_fs *fs)
{
	char table[256];

	snprintf(table, sizeof(table), "0 %llu log-writes %s %s",
		 bs_sectors(self->r.data_dev), self->r.data_dev, self->r.log_dev);
	if (bs_dm_create(self->r.dm_name, table, self->dm_dev))
		return -EIO;
	self->r.dm_up = true;
	if (bs_mount(fs, self->dm_dev, self->r.mnt))
		return -EIO;
	self->r.mounted = true;
	snprintf(self->a.dir, sizeof(self->a.dir), "%s/state", self->r.mnt);
	return 0;
}

FIXTURE_SETUP(powercut)
{
	const struct bs_fs *fs = &variant->fs;
	const char *lack, *only;
	char why[96];
	int ret;

	self->ctl = -1;
	only = getenv("KC_POWERCUT_FS");
	if (only && *only && strcmp(only, variant->name))
		SKIP(return, "KC_POWERCUT_FS=%s", only);
	lack = missing(fs, why, sizeof(why));
	if (lack)
		SKIP(return, "%s: runs in the VM lab", lack);
	ret = after_cut_agent_init(&self->a, self->state0);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	snprintf(self->r.work, sizeof(self->r.work), "/tmp/kc-pc-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->r.work));
	paths(self);
	ASSERT_EQ(0, mkdir(self->r.mnt, 0700));
	ASSERT_EQ(0, mkdir(self->cmnt, 0700));
	ASSERT_EQ(0, bs_image(self->data_img, fs->mib));
	ASSERT_EQ(0, bs_image(self->log_img, LOG_MIB));
	ASSERT_EQ(0, bs_loop_attach(self->data_img, self->r.data_dev));
	ASSERT_EQ(0, bs_loop_attach(self->log_img, self->r.log_dev));
	ASSERT_EQ(0, bs_fs_with_state(fs, self->r.data_dev, self->r.mnt,
				      self->state0));
	/* The replay starts from the disk as it was before the log. */
	ASSERT_EQ(0, bs_copy_sparse(self->data_img, self->base_img));
	ASSERT_EQ(0, log_writes_up(self, fs));
	self->ctl = dm_control_open();
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, tr_init(&self->t, &self->a));
	self->t.note = mark;
	self->t.note_arg = self;
}

FIXTURE_TEARDOWN(powercut)
{
	agent_proc_kill(&self->a);
	if (self->t.lg)
		tr_free(&self->t);
	bs_rig_down(&self->r);
	if (self->ctl >= 0)
		close(self->ctl);
	snprintf(self->a.dir, sizeof(self->a.dir), "%s", self->state0);
	agent_proc_destroy(&self->a);
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 10) : dflt;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The load: every client registers, then rounds until enough ACKs. */
static int run_load(FIXTURE_DATA(powercut) *self, unsigned int messages)
{
	int ret = agent_proc_start(&self->a);

	if (!ret)
		ret = tr_register_all(&self->t);
	if (!ret)
		ret = tr_connect(&self->t);
	while (!ret && self->t.lg->acked < messages) {
		ret = tr_round(&self->t);
		ret = ret == -EAGAIN ? 0 : ret;
	}
	tr_disconnect(&self->t);
	if (ret)
		agent_proc_dump_log(&self->a);
	return ret;
}

/* Unmounts and takes the target down: the log is complete after this. */
static int log_writes_down(FIXTURE_DATA(powercut) *self)
{
	int ret = bs_umount(self->r.mnt);

	self->r.mounted = false;
	ret = bs_dm_remove(self->r.dm_name) || ret;
	self->r.dm_up = false;
	ret = bs_loop_detach(self->r.data_dev) || ret;
	ret = bs_loop_detach(self->r.log_dev) || ret;
	self->r.data_dev[0] = self->r.log_dev[0] = '\0';
	return ret ? -EIO : 0;
}

/* The marks to check: all, or the last 20 (half of a small number)
 * and the rest spread evenly over the run. */
static bool *choose(uint32_t marks, unsigned int checks)
{
	bool *want = calloc(marks + 1, sizeof(*want));
	uint32_t spread, last;

	if (!want)
		return NULL;
	if (!checks || checks >= marks) {
		for (uint32_t m = 1; m <= marks; m++)
			want[m] = true;
		return want;
	}
	last = checks >= 2 * LAST_MARKS ? LAST_MARKS : checks / 2;
	for (uint32_t m = marks - last + 1; m <= marks; m++)
		want[m] = true;
	spread = marks - last;
	for (unsigned int j = 0; j < checks - last; j++)
		want[1 + (uint32_t)((uint64_t)j * spread / (checks - last))] =
			true;
	return want;
}

struct replay_walk {
	const bool *want;
	uint32_t marks, seen, point;
};

static bool at_wanted_mark(const struct lw_entry *e, void *arg)
{
	struct replay_walk *w = arg;
	char *end;
	unsigned long n;

	if (!(e->flags & LW_MARK) || e->mark[0] != 'm')
		return false;
	n = strtoul(e->mark + 1, &end, 10);
	if (*end || !n || n > w->marks)
		return false;
	w->seen++;
	w->point = (uint32_t)n;
	return w->want[n];
}

/* The copy of the replay so far, as a machine after the cut finds it. */
static void check_point(FIXTURE_DATA(powercut) *self, const struct bs_fs *fs,
			uint32_t point, struct cut_sums *s)
{
	if (bs_copy_sparse(self->replay_img, self->check_img)) {
		s->checked++;
		s->fsck_bad++;
		return;
	}
	after_cut_check(fs, self->check_img, self->cmnt, &self->t, point, s);
}

/* Forward through the log once, checking at each wanted mark. */
static int replay_and_check(FIXTURE_DATA(powercut) *self,
			    const struct bs_fs *fs, struct replay_walk *w,
			    struct cut_sums *s)
{
	struct lw_entry e;
	struct lw_log lg;
	int fd, ret;

	ret = lw_open(&lg, self->log_img);
	if (ret)
		return ret;
	ret = bs_copy_sparse(self->base_img, self->replay_img);
	fd = ret ? -1 : open(self->replay_img, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		ret = ret ? ret : -errno;
	while (!ret && !(ret = lw_replay_until(&lg, fd, at_wanted_mark, w,
					       &e)))
		check_point(self, fs, w->point, s);
	if (fd >= 0)
		close(fd);
	lw_close(&lg);
	return ret == 1 ? 0 : ret;
}

TEST_F_TIMEOUT(powercut, every_ack_survives_a_cut, 7200)
{
	unsigned int messages = env_uint("KC_POWERCUT_MESSAGES", 120);
	const char *all = getenv("KC_POWERCUT_CHECKS");
	unsigned int checks = all && !strcmp(all, "all") ?
				      0 : env_uint("KC_POWERCUT_CHECKS", 6);
	struct replay_walk w = { 0 };
	struct cut_sums s = { 0 };
	unsigned int wanted = 0;
	double t0 = now_s(), t1;
	bool *want;

	ASSERT_EQ(0, run_load(self, messages));
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ASSERT_EQ(0, log_writes_down(self));
	t1 = now_s();
	w.marks = self->t.lg->points;
	want = choose(w.marks, checks);
	ASSERT_NE(NULL, want);
	for (uint32_t m = 1; m <= w.marks; m++)
		wanted += want[m];
	w.want = want;
	EXPECT_EQ(0, replay_and_check(self, &variant->fs, &w, &s));
	free(want);
	ksft_print_msg("%s%s%s: %u messages ACKed, %u marks; %u marks "
		       "replayed and checked, %lu ACKed messages checked; "
		       "load %.0f s, checks %.0f s\n",
		       variant->fs.type, variant->fs.mopts[0] ? " " : "",
		       variant->fs.mopts, self->t.lg->acked, w.marks,
		       s.checked, s.required, t1 - t0, now_s() - t1);
	EXPECT_EQ(w.marks, w.seen);
	EXPECT_EQ(wanted, s.checked);
	EXPECT_EQ(0, s.fsck_bad);
	EXPECT_EQ(0, s.start_bad);
	EXPECT_EQ(0, s.failed);
}

TEST_HARNESS_MAIN
