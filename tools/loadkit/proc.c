// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU time and clocks for the load reports (report.h): the agent's CPU is
 * read from /proc so the tool can charge each side its own cost.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "report.h"

/*
 * proc(5) fields 3 to 13: state, ppid, pgrp, session, tty_nr, tpgid,
 * flags and four page-fault counts; utime (14) and stime (15) follow.
 */
#define STAT_SKIP_3_TO_13 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u"

/*
 * utime + stime are in clock ticks. comm, in parentheses after the pid,
 * may itself hold spaces and ')', so parsing starts after the last ')'.
 */
static double parse_stat_cpu(const char *line)
{
	unsigned long long utime, stime;
	const char *p = strrchr(line, ')');
	long ticks = sysconf(_SC_CLK_TCK);

	if (!p || ticks <= 0)
		return -1.0;
	if (sscanf(p + 1, STAT_SKIP_3_TO_13 " %llu %llu", &utime, &stime) != 2)
		return -1.0;
	return (double)(utime + stime) / (double)ticks;
}

double kc_proc_cpu_seconds(int pid)
{
	char path[64], line[4096];
	size_t n;
	FILE *f;

	if (pid <= 0)
		return -1.0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1.0;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	return parse_stat_cpu(line);
}

static double timeval_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

double kc_self_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1.0;
	return timeval_seconds(&ru.ru_utime) + timeval_seconds(&ru.ru_stime);
}

