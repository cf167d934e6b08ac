// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-lat on this machine's kernel, attached to a real agent: with
 * sampling 1 its counts per stage are the messages kcourier-load sent,
 * every one acknowledged and delivered, plus the sender's SESSION_INIT
 * (a SEND like any other to the agent, which the load tool does not
 * count); the load tool's own "acked" and "delivered" count only what
 * came back inside its measured window, so they may be a few short,
 * never more; the stages add up to the whole (they are
 * cut from the same time stamps); the agent's part of an ACK is never
 * slower than what the load tool measured around it, to a bucket's
 * width; --sample N reports one message in N and the agent's knob is set
 * back on detach; detach leaves no program or map in the kernel; and the
 * errors say why (not root, no probes in the binary).
 *
 * Needs root, uprobes and BTF: SKIPs with the reason otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "kselftest_harness.h"

#include "lib/agent_proc.h"
#include "lib/load_run.h"
#include "lib/run_cmd.h"

#define CLIENTS 2	/* one receiver, one sender */
#define SESSION_INITS 1 /* the sender's first SEND: not counted by the load */
#define LOAD_WINDOW 8	/* --window of the load below */

FIXTURE(lat)
{
	struct agent_proc agent;
	struct load_run load;
	char lat[4096];
};

/* Why this machine cannot run the test, or NULL. */
static const char *cannot_trace(const char *lat)
{
	if (geteuid() != 0)
		return "needs root (BPF programs and uprobes)";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
	if (access("/sys/kernel/tracing/uprobe_events", F_OK) &&
	    access("/sys/kernel/debug/tracing/uprobe_events", F_OK) &&
	    access("/sys/bus/event_source/devices/uprobe", F_OK))
		return "the kernel has no uprobes";
	if (access(lat, X_OK))
		return "kcourier-lat was not built (no BTF at build time)";
	return NULL;
}

FIXTURE_SETUP(lat)
{
	const char *why;
	int ret;

	ret = agent_proc_init(&self->agent, 1);
	if (ret == -ENOENT)
		SKIP(return,
			   "KC_BIN is not set: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	snprintf(self->lat, sizeof(self->lat), "%s/kcourier-lat",
		 getenv("KC_BIN"));
	why = cannot_trace(self->lat);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, agent_proc_start(&self->agent));
	ASSERT_EQ(0, load_run_init(&self->load, &self->agent, CLIENTS));
}

FIXTURE_TEARDOWN(lat)
{
	agent_proc_destroy(&self->agent);
}

struct tracer {
	pid_t pid;
	int out, err;
};

/* kcourier-lat --pid AGENT --sample N --json, up once it says attached. */
static int tracer_start(FIXTURE_DATA(lat) * self, const char *sample,
			struct tracer *t)
{
	char pid[16];
	char *argv[] = { self->lat,    "--pid",	       pid,
			 "--sample",   (char *)sample, "--json",
			 "--interval", "3600",	       NULL };
	int in = memfd_with(NULL, 0);

	snprintf(pid, sizeof(pid), "%d", (int)self->agent.pid);
	t->out = memfd_with(NULL, 0);
	t->err = memfd_with(NULL, 0);
	t->pid = spawn(argv, in, t->out, t->err);
	close(in);
	for (int waited = 0; t->pid > 0 && waited < 20000; waited += 50) {
		size_t len;
		char *text;

		lseek(t->err, 0, SEEK_SET);
		text = read_fd_all(t->err, &len);
		if (text && strstr(text, "attached to")) {
			free(text);
			return 0;
		}
		if (text && waitpid(t->pid, NULL, WNOHANG) == t->pid) {
			fprintf(stderr, "kcourier-lat: %s\n", text);
			free(text);
			return -ECHILD;
		}
		free(text);
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * SIGINT, then its last line: the totals since attach. The receivers'
 * last DELIVEREDs may still be on their way when the load tool is done:
 * a moment for them first.
 */
static json_t *tracer_stop(struct tracer *t, int *status)
{
	char *text, *last;
	json_t *doc = NULL;
	size_t len;

	usleep(500 * 1000);
	kill(t->pid, SIGINT);
	waitpid(t->pid, status, 0);
	*status = exit_code(*status);
	lseek(t->out, 0, SEEK_SET);
	text = read_fd_all(t->out, &len);
	if (text) {
		char *nl = strrchr(text, '\n');

		if (nl)
			*nl = '\0';
		last = strrchr(text, '\n');
		doc = json_loads(last ? last + 1 : text, 0, NULL);
	}
	free(text);
	close(t->out);
	close(t->err);
	return doc;
}

/*
 * 1,000 messages at a rate where nothing queues for long: fewer on a
 * starved machine (an open loop sends what it can in its time), which
 * changes none of the checks.
 */
static const char *const thousand[] = { "--pairs",    "1", "--rate",   "500",
					"--duration", "2", "--warmup", "0",
					"--drain",    "5", "--window", "8", /* LOAD_WINDOW */
					NULL };

static json_t *run_load(struct __test_metadata *_metadata,
			FIXTURE_DATA(lat) * self)
{
	json_t *doc;

	EXPECT_EQ(0, load_run_start(&self->load, &self->agent, thousand));
	doc = load_run_wait(&self->load);
	EXPECT_NE(NULL, doc);
	return doc;
}

static long long stage_count(json_t *lat, const char *stage)
{
	char path[64];

	snprintf(path, sizeof(path), "stages.%s.count", stage);
	return json_path_int(lat, path);
}

static long long stage_sum(json_t *lat, const char *stage)
{
	char path[64];

	snprintf(path, sizeof(path), "stages.%s.sum_ns", stage);
	return json_path_int(lat, path);
}

/* Whether bpftool lists anything of ours: programs or maps by name. */
static bool kernel_has_ours(void)
{
	static const char *const names[] = {
		"\"msg_done\"",	   "\"msg_deliver\"", "\"msg_delivered\"",
		"\"commit_done\"", "\"hists\"",	      "\"delivering\""
	};
	char *argv[] = { "/usr/sbin/bpftool", "-j", "prog", "show", NULL };
	char *argv_m[] = { "/usr/sbin/bpftool", "-j", "map", "show", NULL };
	bool found = false;
	struct result r;

	for (int pass = 0; pass < 2; pass++) {
		if (run_argv(pass ? argv_m : argv, NULL, 0, &r))
			return true; /* cannot tell: fail */
		for (size_t i = 0; r.out && i < sizeof(names) / sizeof(*names);
		     i++)
			found |= strstr(r.out, names[i]) != NULL;
		result_free(&r);
	}
	return found;
}

/* One number of `kcourierd status --json`, or -1. */
static double status_num(FIXTURE_DATA(lat) * self, const char *key)
{
	struct result r;
	json_t *doc;
	double v = -1;

	if (!run(&r, NULL, "kcourierd", "status", "--dir", self->agent.dir,
		 "--json", NULL) &&
	    !r.status) {
		doc = json_loads(r.out, 0, NULL);
		if (json_is_number(json_object_get(doc, key)))
			v = json_number_value(json_object_get(doc, key));
		json_decref(doc);
	}
	result_free(&r);
	return v;
}

/* The kernel frees a program after its last reference, not at once. */
static bool kernel_has_ours_after(int ms)
{
	for (int waited = 0; waited < ms; waited += 100) {
		if (!kernel_has_ours())
			return false;
		usleep(100 * 1000);
	}
	return kernel_has_ours();
}

TEST_F(lat, counts_match_the_load_and_detach_is_clean)
{
	json_t *load, *lat;
	struct tracer t;
	long long sent, n, parts;
	int status;

	ASSERT_EQ(0, tracer_start(self, "1", &t));
	load = run_load(_metadata, self);
	lat = tracer_stop(&t, &status);
	ASSERT_NE(NULL, load);
	ASSERT_NE(NULL, lat);
	EXPECT_EQ(0, status);
	sent = json_path_int(load, "sent");
	EXPECT_LT(100, sent);
	sent += SESSION_INITS;
	n = stage_count(lat, "ack");
	/* No error: every message sent was acknowledged and delivered. */
	EXPECT_EQ(0, json_path_int(load, "errors_total"));
	EXPECT_GE(n, json_path_int(load, "acked"));
	EXPECT_GE(stage_count(lat, "client"), json_path_int(load, "delivered"));
	/*
	 * What it sent, and at most a window (LOAD_WINDOW) more: messages
	 * whose intended send time fell just outside the measured interval
	 * but went out in the same catch-up burst (a slow tool, as under
	 * ASan, sends several at once).
	 */
	EXPECT_LE(sent, n);
	EXPECT_GE(sent + LOAD_WINDOW, n);
	/* Sampling 1: every message, every stage, as the agent counted. */
	EXPECT_EQ(status_num(self, "acks_total{status=\"OK\"}"), n);
	EXPECT_EQ(n, stage_count(lat, "check"));
	EXPECT_EQ(n, stage_count(lat, "group"));
	EXPECT_EQ(n, stage_count(lat, "commit"));
	EXPECT_EQ(n, stage_count(lat, "return"));
	EXPECT_EQ(n, stage_count(lat, "route"));
	EXPECT_EQ(n, stage_count(lat, "client"));
	EXPECT_EQ(status_num(self, "delivers_total"),
		  stage_count(lat, "route"));
	EXPECT_EQ(status_num(self, "delivered_total"),
		  stage_count(lat, "client"));
	EXPECT_EQ(status_num(self, "commit_rounds_total"),
		  stage_count(lat, "fsync"));
	/* The four parts of an ACK are cut from the same stamps. */
	parts = stage_sum(lat, "check") + stage_sum(lat, "group") +
		stage_sum(lat, "commit") + stage_sum(lat, "return");
	EXPECT_EQ(stage_sum(lat, "ack"), parts);
	/*
	 * The agent's part is inside the client's round trip: at each
	 * quantile no slower than it, give or take the bucket it falls in
	 * (a log2 bucket: a factor of two).
	 */
	EXPECT_GE(2 * json_path_num(load, "latency_us.ack.p50") + 1,
		  json_path_num(lat, "stages.ack.p50_us"));
	EXPECT_GE(2 * json_path_num(load, "latency_us.ack.p99") + 1,
		  json_path_num(lat, "stages.ack.p99_us"));
	EXPECT_GE(json_path_num(load, "latency_us.ack.mean"),
		  json_path_num(lat, "stages.ack.mean_us"));
	EXPECT_FALSE(kernel_has_ours_after(3000));
	json_decref(load);
	json_decref(lat);
}

TEST_F(lat, sample_n_reports_one_in_n_and_is_set_back)
{
	json_t *load, *lat;
	struct tracer t;
	int status;

	EXPECT_EQ(0, status_num(self, "probe_sample_setting"));
	EXPECT_EQ(1, status_num(self, "probe_sample_every"));
	ASSERT_EQ(0, tracer_start(self, "4", &t));
	EXPECT_EQ(4, status_num(self, "probe_sample_setting"));
	EXPECT_EQ(4, status_num(self, "probe_sample_every"));
	load = run_load(_metadata, self);
	lat = tracer_stop(&t, &status);
	ASSERT_NE(NULL, load);
	ASSERT_NE(NULL, lat);
	/* One worker: its count of acknowledged messages picks every 4th. */
	EXPECT_EQ(0, json_path_int(load, "errors_total"));
	EXPECT_EQ((long long)status_num(self, "acks_total{status=\"OK\"}") / 4,
		  stage_count(lat, "ack"));
	/* Back to automatic (whose stride follows the rate just seen). */
	EXPECT_EQ(0, status_num(self, "probe_sample_setting"));
	json_decref(load);
	json_decref(lat);
}

TEST_F(lat, says_why_it_cannot)
{
	struct result r;
	char pid[16];

	/* A binary without the probes. */
	ASSERT_EQ(0, run(&r, NULL, "kcourier-lat", "--binary", "/bin/true",
			 "--duration", "1", NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "has no kcourier USDT probes"))
	TH_LOG("stderr: %s", r.err);
	result_free(&r);
	/* Not root: the same tool under nobody's uid. */
	snprintf(pid, sizeof(pid), "%d", (int)self->agent.pid);
	{
		char *argv[] = { "/usr/bin/setpriv",
				 "--reuid=65534",
				 "--regid=65534",
				 "--clear-groups",
				 self->lat,
				 "--pid",
				 pid,
				 NULL };

		ASSERT_EQ(0, run_argv(argv, NULL, 0, &r));
	}
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "needs root"))
	TH_LOG("stderr: %s", r.err);
	result_free(&r);
}

TEST_HARNESS_MAIN
