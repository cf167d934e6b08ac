// SPDX-License-Identifier: GPL-2.0-only
/*
 * No core dumps: see nocore.h.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "nocore.h"

int kcd_no_core_dumps(void)
{
	const struct rlimit none = { 0, 0 };
	int ret = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		ret = -errno;
	if (setrlimit(RLIMIT_CORE, &none) && !ret)
		ret = -errno;
	return ret;
}
