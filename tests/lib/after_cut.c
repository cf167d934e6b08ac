// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checks after a cut: see after_cut.h.
 */
#include <stdio.h>

#include "after_cut.h"

/* As the harness prints: a TAP comment. */
#define say(...) (printf("# " __VA_ARGS__), fflush(stdout))

int after_cut_agent_init(struct agent_proc *a, char state0[128])
{
	int ret = agent_proc_init(a, 2);

	if (ret)
		return ret;
	snprintf(state0, 128, "%s", a->dir);
	/*
	 * The user tier: auto measures both tiers at every start, seconds
	 * under TCG for each of the many starts; durability is the same.
	 */
	a->crypto = "user";
	return agent_proc_config(a, "log_segment_bytes", "65536");
}

static void report(uint32_t point, const struct tr_verdict *v)
{
	say("at %u: of %u ACKed: %u lost, %u twice, %u never "
		       "sent, %u garbage, %u resends stored, %u clients "
		       "refused, %u tokens reused, %u errors\n",
		       point, v->required, v->lost, v->dup, v->never_sent,
		       v->garbage, v->resend_stored, v->refused,
		       v->token_reused, v->errors);
}

/* Recovery by a mount, then the read-only check of what it left. */
static int recover_and_fsck(const struct bs_fs *fs, const char *dev,
			    const char *mnt, uint32_t point)
{
	if (bs_mount(fs, dev, mnt) || bs_umount(mnt)) {
		say("at %u: the file system does not mount\n",
			       point);
		return -1;
	}
	if (bs_fsck(fs, dev)) {
		say("at %u: %s check finds damage\n", point,
			       fs->type);
		return -1;
	}
	return 0;
}

static void run_agent(struct traffic *t, uint32_t point, struct cut_sums *s)
{
	struct tr_verdict v;
	int ret = agent_proc_start(t->a);

	if (ret) {
		say("at %u: the agent does not start (%d)\n", point,
			       ret);
		agent_proc_dump_log(t->a);
		s->start_bad++;
		return;
	}
	tr_check(t, point, &v);
	s->required += v.required;
	if (tr_failures(&v)) {
		s->failed++;
		report(point, &v);
	}
	if (agent_proc_stop(t->a)) {
		say("at %u: the agent did not stop cleanly\n",
			       point);
		agent_proc_dump_log(t->a);
		s->start_bad++;
	}
}

void after_cut_check(const struct bs_fs *fs, const char *dev,
		     const char *mnt, struct traffic *t, uint32_t point,
		     struct cut_sums *s)
{
	s->checked++;
	if (recover_and_fsck(fs, dev, mnt, point))
		s->fsck_bad++;
	if (bs_mount(fs, dev, mnt)) {
		s->fsck_bad++;
		return;
	}
	snprintf(t->a->dir, sizeof(t->a->dir), "%s/state", mnt);
	run_agent(t, point, s);
	bs_umount(mnt);
}
