// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clocks (clock.h). clock_gettime cannot fail for these clock ids.
 */
#include <time.h>

#include "base/clock.h"

int64_t kc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t kc_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kc_mono_ms(void)
{
	return kc_mono_ns() / 1000000u;
}

double kc_mono_s(void)
{
	return (double)kc_mono_ns() / 1e9;
}
