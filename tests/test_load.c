// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-load against a real agent: a clean run reports what it did and
 * no errors; a second run reuses its cached clients (no tokens left) and
 * their message counters go on above the first run's; a run started while
 * another uses the same cache stops (they would share counters); a
 * message dropped after DELIVERED is reported lost and one counted twice
 * is reported duplicate (KC_LOAD_FAULTS, load.h); the connection storm
 * counts handshakes; bad options and a wrong pin fail with a clear word.
 *
 * The histogram and the ledger are tested on known inputs in
 * test_loadkit.c; here they get real traffic.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "kselftest_harness.h"

#include "lib/agent_proc.h"
#include "lib/counter_mark.h"
#include "lib/run_cmd.h"

#define CLIENTS 4 /* two pairs: two receivers, two senders */

FIXTURE(load)
{
	struct agent_proc agent;
	char base[160], tokens[200], cache[200];
	bool up;
};

static int write_tokens(struct agent_proc *a, const char *path, int n)
{
	char token[65];
	FILE *f = fopen(path, "w");
	int ret = f ? 0 : -errno;

	while (!ret && n--) {
		ret = agent_proc_token(a, token);
		if (!ret && fprintf(f, "%s\n", token) < 0)
			ret = -EIO;
	}
	if (f && fclose(f))
		ret = ret ? ret : -EIO;
	return ret;
}

FIXTURE_SETUP(load)
{
	char dir[sizeof(self->agent.dir)];
	int ret;

	ret = agent_proc_init(&self->agent, 2);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN is not set: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	snprintf(dir, sizeof(dir), "%s", self->agent.dir);
	snprintf(self->base, sizeof(self->base), "%s", dirname(dir));
	snprintf(self->tokens, sizeof(self->tokens), "%s/tokens",
		 self->base);
	snprintf(self->cache, sizeof(self->cache), "%s/cache", self->base);
	/* A load run is one heavy sender and one address, not an attack. */
	ASSERT_EQ(0, agent_proc_config(&self->agent, "send_rate", "0"));
	ASSERT_EQ(0, agent_proc_config(&self->agent, "handshakes_per_addr", "0"));
	ASSERT_EQ(0, agent_proc_config(&self->agent, "max_conns_per_addr",
				       "1000000"));
	ASSERT_EQ(0, agent_proc_start(&self->agent));
	self->up = true;
	ASSERT_EQ(0, write_tokens(&self->agent, self->tokens, CLIENTS));
}

FIXTURE_TEARDOWN(load)
{
	agent_proc_destroy(&self->agent);
}

/* The command line of a run against the fixture's agent, plus extra. */
static void load_argv(FIXTURE_DATA(load) *self, const char *const *extra,
		      char bin[4096], char *argv[RUN_ARGS_MAX])
{
	char *const common[] = { bin, "--agent", self->agent.addr,
				 "--ca-fingerprint", self->agent.pin,
				 "--tokens", self->tokens, "--cache",
				 self->cache, "--json" };
	int n = sizeof(common) / sizeof(common[0]);

	snprintf(bin, 4096, "%s/kcourier-load", getenv("KC_BIN"));
	memcpy(argv, common, sizeof(common));
	while (*extra && n < RUN_ARGS_MAX - 1)
		argv[n++] = (char *)*extra++;
	argv[n] = NULL;
}

/* kcourier-load against the fixture's agent, with extra arguments. */
static int load_run(struct __test_metadata *_metadata, FIXTURE_DATA(load) *self,
		    struct result *r, const char *const *extra)
{
	char bin[4096], *argv[RUN_ARGS_MAX];

	load_argv(self, extra, bin, argv);
	return run_argv(argv, NULL, 0, r);
}

static json_int_t json_int_at(json_t *doc, const char *obj, const char *key)
{
	json_t *o = obj ? json_object_get(doc, obj) : doc;

	return json_integer_value(json_object_get(o, key));
}

static json_t *parse_report(struct __test_metadata *_metadata,
			    const struct result *r)
{
	json_error_t jerr;
	json_t *doc = json_loads(r->out ? r->out : "", 0, &jerr);

	if (!doc)
		TH_LOG("not JSON (%s): %s\nstderr: %s", jerr.text, r->out,
		       r->err);
	return doc;
}

/* The counter mark of cached client n, or -1. */
static long long client_mark(FIXTURE_DATA(load) *self, int n)
{
	char dir[400];

	snprintf(dir, sizeof(dir), "%s/%s/%d", self->cache, self->agent.pin,
		 n);
	return counter_mark(dir);
}

static const char *const short_run[] = { "--pairs", "2", "--duration", "1",
					 "--warmup", "0.5", "--drain", "3",
					 "--window", "4", NULL };

TEST_F(load, clean_run_then_cached_clients)
{
	long long marks[CLIENTS] = { 0 };
	struct result r;
	json_t *doc;
	int pass, n;

	/* The second run has no tokens left: it must use the cache. */
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, load_run(_metadata, self, &r, short_run));
		EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
		doc = parse_report(_metadata, &r);
		ASSERT_NE(NULL, doc);
		EXPECT_STREQ("kcourier", json_string_value(
						 json_object_get(doc, "target")));
		EXPECT_LT(0, json_int_at(doc, NULL, "acked"));
		EXPECT_LT(0, json_int_at(doc, NULL, "delivered"));
		EXPECT_EQ(0, json_int_at(doc, NULL, "errors_total"));
		EXPECT_LT(0, json_int_at(json_object_get(doc, "latency_us"),
					 "ack", "count"));
		EXPECT_LT(0, json_int_at(json_object_get(doc, "latency_us"),
					 "deliver", "count"));
		EXPECT_EQ(pass == 0, strstr(r.err, "enrolled 4 new") != NULL)
		TH_LOG("pass %d stderr: %s", pass, r.err);
		json_decref(doc);
		result_free(&r);
		/*
		 * Clients 0 and 1 receive, 2 and 3 send: a sender's counters
		 * go on from where its last run's block ended.
		 */
		for (n = 0; n < CLIENTS; n++) {
			long long mark = client_mark(self, n);

			if (n < 2) {
				EXPECT_EQ(-1, mark);
				continue;
			}
			EXPECT_LT(marks[n], mark) TH_LOG("client %d", n);
			EXPECT_EQ(0, mark % 1000);
			marks[n] = mark;
		}
	}
}

/* Two runs on one cache would share counters: the second one stops. */
TEST_F(load, second_run_on_the_same_cache_is_refused)
{
	static const char *const long_run[] = { "--pairs", "2", "--duration",
						"4", "--warmup", "0", NULL };
	char bin[4096], *argv[RUN_ARGS_MAX];
	int in = memfd_with(NULL, 0), out = memfd_with(NULL, 0);
	int err = memfd_with(NULL, 0), status, waited;
	struct result r;
	pid_t pid;

	load_argv(self, long_run, bin, argv);
	pid = spawn(argv, in, out, err);
	ASSERT_GT(pid, 0);
	/* Its last sender holds its lock once it has written a mark. */
	for (waited = 0; waited < 30000 && client_mark(self, 3) < 0;
	     waited += 50)
		usleep(50 * 1000);
	ASSERT_LT(0, client_mark(self, 3));
	ASSERT_EQ(0, load_run(_metadata, self, &r, short_run));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "in use by another run")) TH_LOG("%s",
									r.err);
	result_free(&r);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, exit_code(status));
	close(in);
	close(out);
	close(err);
}

TEST_F(load, lost_and_duplicate_are_reported)
{
	struct result r;
	json_t *doc;

	setenv("KC_LOAD_FAULTS", "drop=5,dup=9", 1);
	ASSERT_EQ(0, load_run(_metadata, self, &r, short_run));
	unsetenv("KC_LOAD_FAULTS");
	/* 3: the run completed but counted errors. */
	EXPECT_EQ(3, r.status) TH_LOG("stderr: %s", r.err);
	doc = parse_report(_metadata, &r);
	ASSERT_NE(NULL, doc);
	/* Each of the two receivers dropped one and doubled one. */
	EXPECT_EQ(2, json_int_at(doc, "errors", "lost"));
	EXPECT_EQ(2, json_int_at(doc, "errors", "duplicate"));
	json_decref(doc);
	result_free(&r);
}

/* A run that must finish clean, with something counted under count_key. */
static void expect_clean(struct __test_metadata *_metadata,
			 FIXTURE_DATA(load) *self, const char *const *args,
			 const char *count_key)
{
	struct result r;
	json_t *doc;

	ASSERT_EQ(0, load_run(_metadata, self, &r, args));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	doc = parse_report(_metadata, &r);
	ASSERT_NE(NULL, doc);
	EXPECT_LT(0, json_int_at(doc, NULL, count_key));
	EXPECT_EQ(0, json_int_at(doc, NULL, "errors_total"));
	json_decref(doc);
	result_free(&r);
}

TEST_F(load, open_loop_run_is_clean)
{
	static const char *const args[] = { "--pairs", "1", "--rate", "200",
					    "--duration", "1", "--warmup",
					    "0.2", NULL };

	expect_clean(_metadata, self, args, "acked");
}

/* Three senders into one receiver: three streams, each checked in order. */
TEST_F(load, fanin_run_is_clean)
{
	static const char *const args[] = { "--pairs", "1", "--fanin", "3",
					    "--duration", "1", "--warmup",
					    "0.2", "--window", "4", NULL };

	expect_clean(_metadata, self, args, "delivered");
}

TEST_F(load, connect_storm_counts_handshakes)
{
	static const char *const args[] = { "--connect-storm", "--duration",
					    "1", "--warmup", "0", NULL };

	expect_clean(_metadata, self, args, "connections");
}

TEST_F(load, wrong_pin_is_refused)
{
	static const char pin[] =
		"00000000000000000000000000000000"
		"00000000000000000000000000000000";
	char bin[4096];
	char *argv[] = { bin, "--agent", self->agent.addr, "--ca-fingerprint",
			 (char *)pin, "--tokens", self->tokens, "--cache",
			 self->cache, "--duration", "1", NULL };
	struct result r;

	snprintf(bin, sizeof(bin), "%s/kcourier-load", getenv("KC_BIN"));
	ASSERT_EQ(0, run_argv(argv, NULL, 0, &r));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "pinned")) TH_LOG("stderr: %s", r.err);
	result_free(&r);
}

TEST_F(load, bad_options_are_usage_errors)
{
	static const char *const small[] = { "--size", "10", NULL };
	static const char *const zero[] = { "--pairs", "0", NULL };
	static const char *const junk[] = { "--rate", "fast", NULL };
	static const char *const wide[] = { "--window", "2049", NULL };
	const char *const *cases[] = { small, zero, junk, wide };
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(0, load_run(_metadata, self, &r, cases[i]));
		EXPECT_EQ(2, r.status);
		EXPECT_NE(NULL, strstr(r.err, cases[i][0]))
		TH_LOG("stderr: %s", r.err);
		result_free(&r);
	}
}

TEST_HARNESS_MAIN
