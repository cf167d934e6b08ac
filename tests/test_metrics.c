// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's metrics against what kcourier-load did: the Prometheus
 * endpoint (metrics_listen) answers GET /metrics in the text format while
 * the load runs, and afterwards `kcourierd status --json` (from
 * DIR/metrics.sock) counts exactly the SENDs, ACKs by status, DELIVERs
 * and DELIVEREDs of the run; its table has the same names; the endpoint
 * answers nothing but GET /metrics; without metrics_listen nothing
 * listens and status still works.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "kselftest_harness.h"

#include "lib/agent_proc.h"
#include "lib/load_run.h"
#include "lib/run_cmd.h"

#define SENDERS 2 /* --pairs 2 */

FIXTURE(metrics)
{
	struct agent_proc agent;
	struct load_run load;
	int port;
};

/* A port nothing listens on now (the kernel's pick). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

FIXTURE_SETUP(metrics)
{
	char addr[32];
	int ret;

	ret = agent_proc_init(&self->agent, 2);
	if (ret == -ENOENT)
		SKIP(return,
			   "KC_BIN is not set: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	self->port = free_port();
	ASSERT_LT(0, self->port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", self->port);
	ASSERT_EQ(0, agent_proc_config(&self->agent, "metrics_listen", addr));
	ASSERT_EQ(0, agent_proc_start(&self->agent));
	ASSERT_EQ(0, load_run_init(&self->load, &self->agent, 4));
}

FIXTURE_TEARDOWN(metrics)
{
	agent_proc_destroy(&self->agent);
}

/* Everything until the peer closes (read_fd_all wants a file). */
static char *read_socket(int fd)
{
	size_t len = 0;
	char *text = NULL, buf[4096];
	FILE *f = open_memstream(&text, &len);
	ssize_t n;

	if (!f)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	return text;
}

/* One HTTP/1.0 request to the endpoint: the whole answer, or NULL. */
static char *http_get(int port, const char *method, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char req[128];
	char *text = NULL;

	if (fd < 0)
		return NULL;
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n\r\n", method, path);
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    write(fd, req, strlen(req)) == (ssize_t)strlen(req))
		text = read_socket(fd);
	close(fd);
	return text;
}

/* A sample's value in Prometheus text ("name value" lines); -1 if absent. */
static double prom_value(const char *text, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	p = text ? strstr(text, key) : NULL;
	return p ? strtod(p + strlen(key), NULL) : -1;
}

static json_t *status_json(FIXTURE_DATA(metrics) * self)
{
	struct result r;
	json_t *doc = NULL;

	if (!run(&r, NULL, "kcourierd", "status", "--dir", self->agent.dir,
		 "--json", NULL) &&
	    !r.status)
		doc = json_loads(r.out, 0, NULL);
	result_free(&r);
	return doc;
}

static double num(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static json_t *settled_status(FIXTURE_DATA(metrics) * self, long long delivered)
{
	json_t *st = NULL;

	for (int i = 0; i < 50; i++) {
		json_decref(st);
		st = status_json(self);
		if (st &&
		    num(st, "delivered_total") >= num(st, "delivers_total") &&
		    num(st, "delivered_total") >= (double)delivered &&
		    num(st, "queue_messages") == 0)
			break;
		usleep(100 * 1000);
	}
	return st;
}

static const char *const load_args[] = { "--pairs",    "2", "--rate",	"400",
					 "--duration", "3", "--warmup", "0",
					 "--drain",    "5", NULL };

TEST_F(metrics, scrape_during_load_then_status_counts_what_the_load_did)
{
	double during = -1;
	char *text = NULL;
	json_t *load, *st;
	long long sent;
	double n;

	ASSERT_EQ(0, load_run_start(&self->load, &self->agent, load_args));
	/*
	 * While it runs: the endpoint answers, and messages go up (after
	 * the load tool has enrolled its clients: seconds on a busy box).
	 */
	for (int i = 0; i < 300 && during <= 0; i++) {
		usleep(100 * 1000);
		free(text);
		text = http_get(self->port, "GET", "/metrics");
		during = prom_value(text, "kcourier_messages_accepted_total");
	}
	ASSERT_NE(NULL, text);
	EXPECT_TRUE(strstr(text, "HTTP/1.0 200") ||
		    strstr(text, "HTTP/1.1 200"));
	EXPECT_NE(NULL, strstr(text, "text/plain; version=0.0.4"));
	EXPECT_NE(
		NULL,
		strstr(text, "# TYPE kcourier_commit_fsync_seconds histogram"));
	EXPECT_LT(0, during);
	free(text);
	load = load_run_wait(&self->load);
	ASSERT_NE(NULL, load);
	/*
	 * No error: every message sent was acknowledged and delivered (its
	 * "acked" and "delivered" count only its measured window).
	 */
	/* Plus each sender's SESSION_INIT, a SEND the load does not count. */
	sent = json_path_int(load, "sent") + SENDERS;
	EXPECT_LT(SENDERS, sent);
	EXPECT_EQ(0, json_path_int(load, "errors_total"));
	/*
	 * The last DELIVEREDs may reach the agent after the load tool is
	 * done, and the queue's size is published a few times a second.
	 */
	st = settled_status(self, sent);
	ASSERT_NE(NULL, st);
	EXPECT_GE((double)sent, during);
	/*
	 * What it sent, and at most one message per sender more: one whose
	 * intended send time fell just outside its window. Every count
	 * agrees with the others exactly.
	 */
	n = num(st, "sends_total");
	EXPECT_LE((double)sent, n);
	EXPECT_GE((double)(sent + SENDERS), n);
	EXPECT_EQ(n, num(st, "messages_accepted_total"));
	EXPECT_EQ(n, num(st, "acks_total{status=\"OK\"}"));
	EXPECT_EQ(n, num(st, "commit_messages_total"));
	EXPECT_EQ(n, num(st, "delivers_total"));
	EXPECT_EQ(n, num(st, "delivered_total"));
	EXPECT_EQ(0, num(st, "acks_total{status=\"TRY_LATER\"}"));
	EXPECT_EQ(0, num(st, "queue_messages"));
	EXPECT_EQ(num(st, "commit_rounds_total"),
		  num(st, "commit_fsync_seconds_count"));
	EXPECT_LT(0, num(st, "commit_rounds_total"));
	/* Four clients, and each new one registered first. */
	EXPECT_LE(4, num(st, "connections_accepted_total"));
	EXPECT_TRUE(num(st, "crypto_tier{tier=\"user\"}") == 1 ||
		    num(st, "crypto_tier{tier=\"afalg\"}") == 1);
	json_decref(load);
	json_decref(st);
}

TEST_F(metrics, table_and_endpoint_answer_only_get_metrics)
{
	struct result r;
	char *text;

	ASSERT_EQ(0, run(&r, NULL, "kcourierd", "status", "--dir",
			 self->agent.dir, NULL));
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "messages_accepted_total"));
	EXPECT_NE(NULL, strstr(r.out, "acks_total{status=\"OK\"}"));
	EXPECT_EQ(NULL, strstr(r.out, "_bucket")); /* those are --json's */
	result_free(&r);
	text = http_get(self->port, "GET", "/other");
	EXPECT_TRUE(text && strstr(text, " 404 "));
	free(text);
	text = http_get(self->port, "POST", "/metrics");
	EXPECT_TRUE(text && strstr(text, " 405 "));
	free(text);
}

TEST_F(metrics, status_says_when_no_agent_runs)
{
	struct result r;

	EXPECT_EQ(0, agent_proc_stop(&self->agent));
	ASSERT_EQ(0, run(&r, NULL, "kcourierd", "status", "--dir",
			 self->agent.dir, NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "is the agent running?"));
	result_free(&r);
	EXPECT_EQ(NULL, http_get(self->port, "GET", "/metrics"));
}

TEST_HARNESS_MAIN
