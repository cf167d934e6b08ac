// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rate-limited logging: a token bucket shared by all threads.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "base/clock.h"
#include "ring/ratelog.h"

#define BURST 20
#define PER_SECOND 5

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static double tokens = BURST;
static double last_s;
static unsigned long dropped;

static void vlog(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so threads do not interleave within a line. */
	fprintf(stderr, "kcourierd: %s\n", line);
}

void kc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* Under log_lock: whether this line may go out, and how many were lost. */
static bool take_token(unsigned long *was_dropped)
{
	double t = kc_mono_s();

	tokens += (t - last_s) * PER_SECOND;
	if (tokens > BURST)
		tokens = BURST;
	last_s = t;
	if (tokens < 1) {
		dropped++;
		return false;
	}
	tokens -= 1;
	*was_dropped = dropped;
	dropped = 0;
	return true;
}

void kc_log_peer(const char *fmt, ...)
{
	unsigned long was_dropped = 0;
	bool ok;
	va_list ap;

	pthread_mutex_lock(&log_lock);
	ok = take_token(&was_dropped);
	pthread_mutex_unlock(&log_lock);
	if (!ok)
		return;
	if (was_dropped)
		kc_log("(%lu peer events not logged)", was_dropped);
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
