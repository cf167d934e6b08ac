// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-lat: where a running agent's messages wait, from its USDT
 * probes (docs/OPERATIONS.md "Probes"). It attaches bpf/kcourier_lat.bpf.c
 * to kcourierd, prints a histogram per stage every interval and the
 * totals since attach when it stops (SIGINT, SIGTERM or --duration), and
 * leaves nothing behind: programs, maps and links go with it, and the
 * agent's sampling knob gets its old value back.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "base/opts.h"
#include "knob.h"
#include "report.h"

#define PROG "kcourier-lat"

static const char *const stage_names[] = {
	"check", "group",  "commit", "return", "ack",
	"route", "client", "fsync",  NULL,
};

struct lat_opts {
	unsigned int pid;
	const char *binary;
	double interval_s, duration_s;
	bool json, sample_set;
	unsigned int sample;
	const char *stage;
	char exe[PATH_MAX];
};

static const char about[] =
	"Attaches to a running kcourierd's USDT probes and prints, every\n"
	"interval, a log2 histogram of microseconds per stage of a message,\n"
	"then the totals since attach when stopped. Needs root. Stages:\n"
	"  check   SEND read .. checks passed      group   .. handed to the "
	"committer\n"
	"  commit  .. round durable                return  .. ACK patched\n"
	"  ack     SEND read .. ACK released       route   durable .. DELIVER "
	"queued\n"
	"  client  DELIVER .. its DELIVERED read   fsync   one round's write "
	"and sync\n";

static int parse(int argc, char **argv, struct lat_opts *o, int *rc)
{
	unsigned int count = 0;
	const struct kc_opt rows[] = {
		{ .name = "pid",
		  KC_OPT_UINT(&o->pid),
		  .metavar = "PID",
		  .min = 1,
		  .max = 4194304,
		  .help = "the agent's process (or --binary)" },
		{ .name = "binary",
		  KC_OPT_STRING(&o->binary),
		  .metavar = "PATH",
		  .help = "every agent running this kcourierd" },
		{ .name = "interval",
		  KC_OPT_REAL(&o->interval_s),
		  .metavar = "S",
		  .min = 0.1,
		  .max = 3600,
		  .unit = "seconds",
		  .help = "time between reports" },
		{ .name = "duration",
		  KC_OPT_REAL(&o->duration_s),
		  .metavar = "S",
		  .min = 0,
		  .max = 1e7,
		  .unit = "seconds",
		  .def = "0: until SIGINT",
		  .help = "stop after this long" },
		{ .name = "sample",
		  KC_OPT_UINT(&o->sample),
		  .metavar = "N",
		  .min = 0,
		  .max = 1000000,
		  .count = &count,
		  .help = "set the agent's sampling to one message in N "
			  "while attached (0: automatic; needs --pid)" },
		{ .name = "stage",
		  KC_OPT_CHOICE(&o->stage, stage_names),
		  .metavar = "NAME",
		  .help = "print this stage only" },
		{ .name = "json",
		  KC_OPT_FLAG(&o->json),
		  .help = "one JSON object per report on stdout" },
	};
	const struct kc_opts spec = {
		.prog = PROG,
		.synopsis = PROG " (--pid PID | --binary PATH) [options]",
		.description = about,
		KC_OPTS_TABLE(rows),
		.error_exit = 2,
	};

	o->interval_s = 5;
	if (!kc_opts_parse(&spec, argc, argv, rc))
		return -1;
	o->sample_set = count > 0;
	if (!o->pid == !o->binary) {
		*rc = kc_opts_fail(&spec, "give --pid PID or --binary PATH");
		return -1;
	}
	if (o->sample_set && !o->pid) {
		*rc = kc_opts_fail(&spec, "--sample needs --pid");
		return -1;
	}
	return 0;
}

/* --pid: the binary is the process's executable. */
static int resolve_binary(struct lat_opts *o)
{
	char link[64];
	ssize_t n;

	if (!o->pid)
		return 0;
	snprintf(link, sizeof(link), "/proc/%u/exe", o->pid);
	n = readlink(link, o->exe, sizeof(o->exe) - 1);
	if (n < 0) {
		kc_cmd_err(PROG, "process %u: %s", o->pid, strerror(errno));
		return -errno;
	}
	o->exe[n] = '\0';
	o->binary = o->exe;
	return 0;
}

struct lat_run {
	struct lat_opts *o;
	struct lat_bpf bpf;
	struct lat_knob knob;
	uint32_t old_sample;
	bool knob_set;
	struct kl_hist prev[KL_NSTAGES], cur[KL_NSTAGES];
};

static int set_sample(struct lat_run *r)
{
	int ret;

	if (!r->o->sample_set)
		return 0;
	ret = lat_knob_find(&r->knob, (pid_t)r->o->pid, r->o->binary);
	if (!ret)
		ret = lat_knob_get(&r->knob, &r->old_sample);
	if (!ret)
		ret = lat_knob_set(&r->knob, r->o->sample);
	if (ret) {
		kc_cmd_err(PROG, "setting the agent's sampling: %s",
			   strerror(-ret));
		return ret;
	}
	r->knob_set = true;
	return 0;
}

/* Waits for the next report; false when a signal asked to stop. */
static bool wait_interval(const sigset_t *set, double seconds)
{
	struct timespec ts = { (time_t)seconds,
			       (long)((seconds - (time_t)seconds) * 1e9) };

	return sigtimedwait(set, NULL, &ts) < 0 && errno == EAGAIN;
}

static void report(struct lat_run *r, bool total, double seconds)
{
	struct kl_hist d[KL_NSTAGES];
	struct lat_report rep = {
		.out = stdout,
		.json = r->o->json,
		.only = r->o->stage ? lat_stage_find(r->o->stage) : -1,
		.seconds = seconds,
		.total = total,
	};

	if (total) {
		lat_print(&rep, r->cur);
		return;
	}
	lat_delta(r->cur, r->prev, d);
	memcpy(r->prev, r->cur, sizeof(r->prev));
	lat_print(&rep, d);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void run_loop(struct lat_run *r, const sigset_t *set)
{
	const struct lat_opts *o = r->o;
	struct timespec t0;
	double last = 0, step;
	bool going = true;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (going) {
		step = o->interval_s;
		if (o->duration_s > 0 && last + step > o->duration_s)
			step = o->duration_s - last;
		going = wait_interval(set, step) &&
			!(o->duration_s > 0 && since(&t0) >= o->duration_s);
		if (lat_read(&r->bpf, r->cur))
			break;
		if (going)
			report(r, false, since(&t0) - last);
		last = since(&t0);
	}
	report(r, true, since(&t0));
}

static int trace(struct lat_opts *o)
{
	struct lat_run r = { .o = o };
	char why[512];
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ret = lat_check(o->binary, why, sizeof(why));
	if (!ret)
		ret = lat_attach(&r.bpf, o->binary, o->pid ? (pid_t)o->pid : -1,
				 why, sizeof(why));
	if (ret) {
		kc_cmd_err(PROG, "%s", why);
		return 1;
	}
	if (!set_sample(&r)) {
		fprintf(stderr, PROG ": attached to %s%s; Ctrl-C to stop\n",
			o->binary, o->pid ? "" : " (every process)");
		run_loop(&r, &set);
	}
	if (r.knob_set && lat_knob_set(&r.knob, r.old_sample))
		kc_cmd_err(PROG,
			   "the agent's sampling could not be set back "
			   "to %u",
			   r.old_sample);
	lat_detach(&r.bpf);
	return r.knob_set || !o->sample_set ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct lat_opts o = { 0 };
	char why[256];
	int rc;

	if (parse(argc, argv, &o, &rc))
		return rc;
	if (lat_check_root(why, sizeof(why))) {
		kc_cmd_err(PROG, "%s", why);
		return 1;
	}
	if (resolve_binary(&o))
		return 1;
	return trace(&o);
}
