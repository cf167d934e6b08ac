/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A disk as a machine finds it after the power went: mounted once and
 * unmounted (the journal or log recovers), checked read-only (e2fsck -fn
 * or xfs_repair -n), mounted again, kcourierd started on the state
 * directory there, and the ledgered traffic checked against it as of a
 * point (tests/lib/traffic.h). Shared by test_powercut (replayed
 * dm-log-writes images) and test_flakey (what a failing disk kept).
 */
#ifndef KC_TEST_AFTER_CUT_H
#define KC_TEST_AFTER_CUT_H

#include "blockstack.h"
#include "traffic.h"

/* Totals over the checks made. */
struct cut_sums {
	unsigned int checked;
	unsigned int fsck_bad;	/* unmountable, or the fsck complained */
	unsigned int start_bad; /* the agent did not start or stop cleanly */
	unsigned int failed;	/* tr_check found something */
	unsigned long required; /* ACKed messages that had to be there */
};

/*
 * agent_proc_init, its state directory's path kept in state0 (the tests
 * move a->dir onto their disks), and small log segments (64 KiB), so that
 * a short run makes, fills and deletes several. 0, -ENOENT (no KC_BIN:
 * SKIP) or -errno.
 */
int after_cut_agent_init(struct agent_proc *a, char state0[128]);

/*
 * Checks dev (a device or an image file) at mount point mnt, the agent
 * of t running from mnt/state (t->a->dir is set to it). Unmounts before
 * it returns. What fails is printed with the point and added to s.
 */
void after_cut_check(const struct bs_fs *fs, const char *dev,
		     const char *mnt, struct traffic *t, uint32_t point,
		     struct cut_sums *s);

#endif
