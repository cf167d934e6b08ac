/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's key quota for this process's user (keyrings(7)): how many
 * more keys it may own. Every key of a uid counts against one quota
 * (/proc/sys/kernel/keys/maxkeys, 200 by default; root_maxkeys for root),
 * shared by everything that runs as that user, so the agent sizes its
 * per-client session caps from what is left (docs/OPERATIONS.md "Limits
 * and hardening").
 */
#ifndef KC_KEY_QUOTA_H
#define KC_KEY_QUOTA_H

#include <stdint.h>
#include <sys/types.h>

struct kc_key_quota {
	uint32_t used; /* keys the user owns now */
	uint32_t max;  /* the most it may own */
};

/*
 * uid's line of /proc/key-users ("uid: usage nkeys/nikeys qnkeys/maxkeys
 * ..."), or, for a user that owns no key yet, the sysctl that sets its
 * quota. 0, -ENOENT (no /proc/key-users: no keyrings), -EINVAL, -errno.
 */
int kc_key_quota_read(uid_t uid, struct kc_key_quota *q);
/* The same for the effective user. */
int kc_key_quota_self(struct kc_key_quota *q);

/*
 * A per-client session cap under a tier that keeps keys_per_session keys
 * for each session: a share (1 / shares) of the keys left, at least 1,
 * at most `wanted`.
 */
uint32_t kc_key_quota_session_cap(const struct kc_key_quota *q,
				  unsigned int keys_per_session,
				  unsigned int shares, uint32_t wanted);

#endif
