// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dropping root for the configured user and group: see privdrop.h.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privdrop.h"

static int lookup_group(const char *group, gid_t *gid, char *why,
			size_t why_len)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(group);
	if (!gr) {
		snprintf(why, why_len, "no group '%s'", group);
		return errno ? -errno : -ENOENT;
	}
	*gid = gr->gr_gid;
	return 0;
}

int kcd_run_as_lookup(const char *user, const char *group,
		      const char *state_dir, struct kcd_run_as *out, char *why,
		      size_t why_len)
{
	struct passwd *pw;
	struct stat st;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(why, why_len, "no user '%s'", user);
		return errno ? -errno : -ENOENT;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (group[0] && lookup_group(group, &out->gid, why, why_len))
		return -ENOENT;
	if (stat(state_dir, &st)) {
		snprintf(why, why_len, "%s: %m", state_dir);
		return -errno;
	}
	if (st.st_uid != out->uid) {
		snprintf(why, why_len,
			 "%s belongs to uid %u, not to '%s' (uid %u): chown -R "
			 "it, the agent writes there as that user",
			 state_dir, (unsigned int)st.st_uid, user,
			 (unsigned int)out->uid);
		return -EPERM;
	}
	return 0;
}

void kcd_run_as_files(const struct kcd_run_as *as)
{
	setfsgid(as->gid);
	setfsuid(as->uid);
}

int kcd_drop_privileges(const struct kcd_run_as *as)
{
	if (setgroups(0, NULL) || setresgid(as->gid, as->gid, as->gid) ||
	    setresuid(as->uid, as->uid, as->uid))
		return -errno;
	/* A drop that did not stick is worse than none: make sure. */
	if (as->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	/* set*id made us dumpable per fs.suid_dumpable: not again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	return 0;
}
