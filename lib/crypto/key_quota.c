// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key quota of a user: see key_quota.h. The kernel offers it only as
 * text in procfs (no syscall returns it), so it is parsed here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "crypto/key_quota.h"

#define KEY_USERS "/proc/key-users"
#define MAXKEYS "/proc/sys/kernel/keys/maxkeys"
#define ROOT_MAXKEYS "/proc/sys/kernel/keys/root_maxkeys"

static int read_u32_file(const char *path, uint32_t *v)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%" SCNu32, v) != 1)
		ret = -EINVAL;
	fclose(f);
	return ret;
}

/* uid's line: "%u: %u %u/%u %u/%u %u/%u"; 1 found, 0 not, or -errno. */
static int find_user(FILE *f, uid_t uid, struct kc_key_quota *q)
{
	unsigned int who, usage, nkeys, nikeys, qnkeys, maxkeys;
	char line[256];

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %u: %u %u/%u %u/%u", &who, &usage, &nkeys,
			   &nikeys, &qnkeys, &maxkeys) != 6)
			return -EINVAL;
		if (who != uid)
			continue;
		q->used = qnkeys;
		q->max = maxkeys;
		return 1;
	}
	return 0;
}

int kc_key_quota_read(uid_t uid, struct kc_key_quota *q)
{
	FILE *f = fopen(KEY_USERS, "re");
	int ret;

	if (!f)
		return errno == ENOENT ? -ENOENT : -errno;
	ret = find_user(f, uid, q);
	fclose(f);
	if (ret)
		return ret < 0 ? ret : 0;
	/* No key yet: the whole quota is left. */
	q->used = 0;
	return read_u32_file(uid ? MAXKEYS : ROOT_MAXKEYS, &q->max);
}

int kc_key_quota_self(struct kc_key_quota *q)
{
	return kc_key_quota_read(geteuid(), q);
}

uint32_t kc_key_quota_session_cap(const struct kc_key_quota *q,
				  unsigned int keys_per_session,
				  unsigned int shares, uint32_t wanted)
{
	uint32_t left = q->max > q->used ? q->max - q->used : 0;
	uint64_t cap = (uint64_t)left / keys_per_session / shares;

	if (cap < 1)
		cap = 1;
	return cap < wanted ? (uint32_t)cap : wanted;
}
