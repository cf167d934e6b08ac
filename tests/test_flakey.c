// SPDX-License-Identifier: GPL-2.0-only
/*
 * A disk that fails under the agent, with dm-flakey (issue 17): the
 * state directory's ext4 sits on a flakey target over a loop device.
 * The ledgered traffic (tests/lib/traffic.h) runs; then the table is
 * swapped so that from that point every write is
 *   - dropped silently (drop_writes: a disk that lost its volatile
 *     cache): nothing can see it, so the agent may go on ACKing; what
 *     counts is that everything ACKed before the point survives, and
 *     that the agent recovers from what the disk really kept;
 *   - failed with EIO (error_writes): the agent must not ACK anything
 *     from then on, and must either keep serving (a ping answers) or
 *     stop with an exit status, never die of a signal.
 * The traffic goes on for a few seconds, the agent is killed (the power
 * goes), and the disk as it is gets the after-cut checks (after_cut.h):
 * for error_writes, every message ever ACKed must be there.
 *
 *   KC_FLAKEY_SECONDS  how long the traffic runs on the failing disk (4)
 * Needs root, loop devices and dm-flakey: the host SKIPs, the VM lab runs
 * it (make check-vm VM_TESTS=test_flakey).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/after_cut.h"
#include "lib/agent_proc.h"
#include "lib/blockstack.h"
#include "lib/traffic.h"
#include "kselftest_harness.h"

#define BEFORE_ACKS 150

static const struct bs_fs ext4 = { "ext4", "data=ordered", 64 };

FIXTURE(flakey)
{
	struct agent_proc a;
	struct traffic t;
	struct bs_rig r;
	char state0[128];
	char data_img[96], dm_dev[64];
};

FIXTURE_VARIANT(flakey)
{
	const char *feature;
	bool must_not_ack;
};

FIXTURE_VARIANT_ADD(flakey, drop_writes)
{
	.feature = "drop_writes",
	.must_not_ack = false,
};

FIXTURE_VARIANT_ADD(flakey, error_writes)
{
	.feature = "error_writes",
	.must_not_ack = true,
};

/* Up for an hour and never down, or down from now on with feature. */
static void table(FIXTURE_DATA(flakey) *self, const char *feature,
		  char *out, size_t cap)
{
	unsigned long long n = bs_sectors(self->r.data_dev);

	if (feature)
		snprintf(out, cap, "0 %llu flakey %s 0 0 3600 1 %s", n,
			 self->r.data_dev, feature);
	else
		snprintf(out, cap, "0 %llu flakey %s 0 3600 0", n,
			 self->r.data_dev);
}

FIXTURE_SETUP(flakey)
{
	char why[96], tb[256];
	int ret;

	if (geteuid())
		SKIP(return, "needs root (loop devices, device-mapper): "
			     "runs in the VM lab");
	if (bs_modprobe(why, sizeof(why), "loop", "dm-flakey", "ext4", NULL))
		SKIP(return, "%s: runs in the VM lab", why);
	ret = after_cut_agent_init(&self->a, self->state0);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	snprintf(self->r.work, sizeof(self->r.work), "/tmp/kc-fl-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->r.work));
	snprintf(self->data_img, sizeof(self->data_img), "%s/data.img",
		 self->r.work);
	snprintf(self->r.mnt, sizeof(self->r.mnt), "%s/mnt", self->r.work);
	snprintf(self->r.dm_name, sizeof(self->r.dm_name), "kc-fl-%d", getpid());
	ASSERT_EQ(0, mkdir(self->r.mnt, 0700));
	ASSERT_EQ(0, bs_image(self->data_img, ext4.mib));
	ASSERT_EQ(0, bs_loop_attach(self->data_img, self->r.data_dev));
	table(self, NULL, tb, sizeof(tb));
	ASSERT_EQ(0, bs_dm_create(self->r.dm_name, tb, self->dm_dev));
	self->r.dm_up = true;
	ASSERT_EQ(0, bs_fs_with_state(&ext4, self->dm_dev, self->r.mnt,
				      self->state0));
	ASSERT_EQ(0, bs_mount(&ext4, self->dm_dev, self->r.mnt));
	self->r.mounted = true;
	snprintf(self->a.dir, sizeof(self->a.dir), "%s/state", self->r.mnt);
	ASSERT_EQ(0, tr_init(&self->t, &self->a));
}

FIXTURE_TEARDOWN(flakey)
{
	agent_proc_kill(&self->a);
	if (self->t.lg)
		tr_free(&self->t);
	bs_rig_down(&self->r);
	snprintf(self->a.dir, sizeof(self->a.dir), "%s", self->state0);
	agent_proc_destroy(&self->a);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rounds until enough ACKs or, with seconds, until that much time. */
static int traffic(struct traffic *t, unsigned int acks, double seconds)
{
	double end = now_s() + seconds;
	int ret = 0;

	while (!ret && (seconds ? now_s() < end : t->lg->acked < acks)) {
		ret = tr_round(t);
		ret = ret == -EAGAIN ? 0 : ret;
	}
	return ret;
}

/*
 * After the disk went bad: a running agent must answer a ping on a new
 * connection; one that stopped must have exited, not died of a signal.
 */
static bool behaved(FIXTURE_DATA(flakey) *self)
{
	int status;

	if (waitpid(self->a.pid, &status, WNOHANG) == self->a.pid) {
		self->a.pid = 0;
		ksft_print_msg("the agent stopped: %s %d\n",
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
						   WTERMSIG(status));
		agent_proc_dump_log(&self->a);
		return WIFEXITED(status) && WEXITSTATUS(status);
	}
	if (tr_open(&self->t, TR_BOB) || tc_ping(self->t.cl[TR_BOB].c, 7)) {
		ksft_print_msg("the agent runs but does not answer\n");
		return false;
	}
	ksft_print_msg("the agent keeps serving\n");
	return true;
}

/* The power goes: the agent dies, the disk is what it kept. */
static void cut(FIXTURE_DATA(flakey) *self)
{
	agent_proc_kill(&self->a);
	tr_disconnect(&self->t);
	if (self->r.mounted && bs_umount(self->r.mnt))
		bs_tool(NULL, 0, "/bin/umount", "-l", self->r.mnt, NULL);
	self->r.mounted = false;
	if (!bs_dm_remove(self->r.dm_name))
		self->r.dm_up = false;
}

TEST_F_TIMEOUT(flakey, acked_is_on_disk, 1800)
{
	const char *env = getenv("KC_FLAKEY_SECONDS");
	double seconds = env ? atof(env) : 4;
	unsigned int acked_before, acked_during;
	struct cut_sums s = { 0 };
	uint32_t point;
	char tb[256];

	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, tr_register_all(&self->t));
	ASSERT_EQ(0, tr_connect(&self->t));
	ASSERT_EQ(0, traffic(&self->t, BEFORE_ACKS, 0));
	acked_before = self->t.lg->acked;
	/* Bob's DELIVEREDs so far may have taken their messages away. */
	point = tr_point(&self->t, "disk goes bad");
	table(self, variant->feature, tb, sizeof(tb));
	ASSERT_EQ(0, bs_dm_swap(self->r.dm_name, tb));
	traffic(&self->t, 0, seconds); /* may end with the connections */
	acked_during = self->t.lg->acked - acked_before;
	ksft_print_msg("%s: %u ACKed before, %u while the disk failed\n",
		       variant->feature, acked_before, acked_during);
	EXPECT_TRUE(behaved(self));
	if (variant->must_not_ack) {
		EXPECT_EQ(0, acked_during);
		point = self->t.lg->points;
	}
	cut(self);
	/* The loop device under it holds exactly what reached the disk. */
	ASSERT_FALSE(self->r.dm_up);
	after_cut_check(&ext4, self->r.data_dev, self->r.mnt, &self->t, point, &s);
	ksft_print_msg("%lu ACKed messages checked after the cut\n",
		       s.required);
	EXPECT_EQ(1, s.checked);
	EXPECT_EQ(0, s.fsck_bad);
	EXPECT_EQ(0, s.start_bad);
	EXPECT_EQ(0, s.failed);
}

TEST_HARNESS_MAIN
