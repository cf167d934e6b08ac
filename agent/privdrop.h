/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Started as root, the agent does as root only what needs it: binding
 * (a port below 1024), loading its keys (the passphrase file may be
 * root's), handing the seal key to the kernel. Then every thread becomes
 * the configured user and group (`user`, `group` in kcourierd.conf) for
 * good: supplementary groups dropped, real, effective and saved ids all
 * set, so nothing can take root back.
 */
#ifndef KC_AGENT_PRIVDROP_H
#define KC_AGENT_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct kcd_run_as {
	uid_t uid;
	gid_t gid;
};

/*
 * Looks up user and group (group "" is the user's primary group) and
 * checks that the user owns state_dir, where the agent keeps writing
 * after the drop. 0, or -errno with the reason in why.
 */
int kcd_run_as_lookup(const char *user, const char *group,
		      const char *state_dir, struct kcd_run_as *out, char *why,
		      size_t why_len);

/*
 * From here on, files this thread (and the threads it starts) creates
 * belong to `as` (setfsuid/setfsgid): the store's, the message log's and
 * the keys the agent adds, made while it is still root, are the user's
 * after the drop. Binding keeps working (capabilities other than the file
 * ones stay), but root's files cannot be read any more, so this comes
 * after the passphrase and the keys are read.
 */
void kcd_run_as_files(const struct kcd_run_as *as);

/*
 * setgroups(0), setresgid, setresuid to `as`, in every thread (glibc
 * applies set*id to the whole process), then checks that root cannot be
 * had back. 0 or -errno.
 */
int kcd_drop_privileges(const struct kcd_run_as *as);

#endif
