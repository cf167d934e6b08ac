// SPDX-License-Identifier: GPL-2.0-only
/*
 * Idle connections in steps and the server's memory; see idlekit.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "base/clock.h"
#include "idlekit.h"

/* Files the process itself needs beside its connections. */
#define NOFILE_SPARE 256

int idle_raise_nofile(size_t n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + NOFILE_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	/* Above the hard limit needs CAP_SYS_RESOURCE: try, else go to it. */
	if (rl.rlim_max < want) {
		struct rlimit all = { want, want };

		if (!setrlimit(RLIMIT_NOFILE, &all))
			return 0;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	return rl.rlim_cur < want ? -EMFILE : 0;
}

long idle_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

struct opener {
	struct idle_run *r;
	const struct idle_ops *ops;
	size_t upto; /* this step opens [next, upto) */
	atomic_size_t next;
	atomic_size_t failed;
	atomic_int first_error;
	bool *open; /* which ones are open, to close */
};

static void *open_some(void *arg)
{
	struct opener *op = arg;
	size_t i;
	int ret, none = 0;

	while ((i = atomic_fetch_add(&op->next, 1)) < op->upto) {
		ret = op->ops->open_one(op->ops->ctx, i);
		op->open[i] = !ret;
		if (ret) {
			atomic_fetch_add(&op->failed, 1);
			atomic_compare_exchange_strong(&op->first_error, &none,
						       ret);
		}
	}
	return NULL;
}

static void open_step(struct opener *op, size_t upto)
{
	unsigned int i, n = op->r->threads ? op->r->threads : 1;
	pthread_t *t = calloc(n, sizeof(*t));
	unsigned int started = 0;

	op->upto = upto;
	for (i = 0; t && i < n; i++)
		if (!pthread_create(&t[started], NULL, open_some, op))
			started++;
	if (!started)
		open_some(op); /* no threads: this one does it */
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	atomic_store(&op->next, upto);
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s,
			       (long)((s - (double)(time_t)s) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static void sample(struct idle_run *r, size_t connections)
{
	struct idle_step *st = &r->steps[r->n_steps++];

	sleep_s(r->settle_s); /* the server's work on the last ones done */
	st->connections = connections;
	st->server_kib = r->server_pid ? idle_rss_kib(r->server_pid) : -1;
	st->tool_kib = idle_rss_kib(0);
}

/* 1, 1,000, 10,000, ... below the target, then the target itself. */
static size_t next_step(size_t done, size_t target)
{
	size_t s = 1;

	while (s <= done)
		s = s == 1 ? 1000 : s * 10;
	return s < target ? s : target;
}

int idle_run(struct idle_run *r, const struct idle_ops *ops)
{
	struct opener op = { .r = r, .ops = ops };
	uint64_t t0;
	size_t i, upto;

	op.open = calloc(r->target ? r->target : 1, sizeof(*op.open));
	if (!op.open)
		return -ENOMEM;
	r->n_steps = 0;
	sample(r, 0);
	t0 = kc_mono_ns();
	for (upto = 0; upto < r->target && r->n_steps <= IDLE_STEPS_MAX;) {
		upto = next_step(upto, r->target);
		open_step(&op, upto);
		if (upto == r->target)
			r->open_s = (double)(kc_mono_ns() - t0) / 1e9;
		sample(r, upto - atomic_load(&op.failed));
	}
	r->failed = atomic_load(&op.failed);
	r->opened = r->target - r->failed;
	r->first_error = atomic_load(&op.first_error);
	sleep_s(r->hold_s);
	r->held_kib = r->server_pid ? idle_rss_kib(r->server_pid) : -1;
	for (i = 0; i < r->target; i++)
		if (op.open[i])
			ops->close_one(ops->ctx, i);
	free(op.open);
	return r->first_error;
}

static json_t *steps_json(const struct idle_run *r)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; a && i < r->n_steps; i++)
		json_array_append_new(
			a, json_pack("{sIsIsI}", "connections",
				     (json_int_t)r->steps[i].connections,
				     "server_kib",
				     (json_int_t)r->steps[i].server_kib,
				     "tool_kib",
				     (json_int_t)r->steps[i].tool_kib));
	return a;
}

int idle_print_json(FILE *f, const char *tool, const char *target,
		    const struct idle_run *r)
{
	json_t *o;
	int ret;

	o = json_pack("{sssss{sIsIsIsssfsfsIso}}", "tool", tool, "target",
		      target, "idle", "connections", (json_int_t)r->target,
		      "opened", (json_int_t)r->opened, "failed",
		      (json_int_t)r->failed, "error",
		      r->first_error ? strerror(-r->first_error) : "", "open_s",
		      r->open_s, "hold_s", r->hold_s, "held_server_kib",
		      (json_int_t)r->held_kib, "steps", steps_json(r));
	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, f, JSON_COMPACT) || fputc('\n', f) == EOF ||
			      fflush(f)
		      ? -EIO
		      : 0;
	json_decref(o);
	return ret;
}
