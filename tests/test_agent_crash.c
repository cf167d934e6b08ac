// SPDX-License-Identifier: GPL-2.0-only
/*
 * kill -9 under load: alice and carol send bob numbered messages, a
 * window at a time, while bob receives and answers DELIVERED; a child
 * kills the agent at a random moment; everyone reconnects to the
 * restarted agent, the senders resend what had no ACK (same msg_id and
 * counter, as PROTOCOL.md asks), and on it goes. At the end bob drains
 * the queue, and:
 *   - every message whose ACK a sender read was delivered;
 *   - none was delivered twice within one agent lifetime (a message can
 *     come again after a crash, when its DELIVERED did not become durable);
 *   - nothing was delivered that was never sent.
 * KC_CRASH_CYCLES sets the number of crashes (default 3; the script
 * tests/kill9-loop.sh runs 20).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "kselftest_harness.h"

#define SENDERS 2
#define WINDOW 16
#define MAX_MSGS 20000

/* One sender: its next counter, and what the agent has acknowledged. */
struct sender {
	struct test_ident ident;
	struct kc_client *c;
	struct test_session s;
	uint64_t seq;
	unsigned int next;  /* next message number to send */
	unsigned int acked; /* messages 0 .. acked - 1 are acknowledged */
};

/* Per message (sender, number): when it was delivered, by lifetime. */
struct ledger {
	uint8_t acked[SENDERS][MAX_MSGS];
	unsigned int delivered[SENDERS][MAX_MSGS]; /* last lifetime + 1 */
	unsigned int dup_in_lifetime, unknown;
};

FIXTURE(crash)
{
	struct agent_proc a;
	struct sender snd[SENDERS];
	struct test_ident bob;
	struct kc_client *cb;
	struct ledger *lg;
	unsigned int lifetime;
};

static const char *const sender_ids[SENDERS] = { "alice", "carol" };

FIXTURE_SETUP(crash)
{
	int ret = agent_proc_init(&self->a, 2);

	self->cb = NULL;
	self->lg = calloc(1, sizeof(*self->lg));
	ASSERT_NE(NULL, self->lg);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	for (int i = 0; i < SENDERS; i++) {
		memset(&self->snd[i], 0, sizeof(self->snd[i]));
		ASSERT_EQ(0, ti_make(&self->snd[i].ident, sender_ids[i]));
		ASSERT_EQ(0, ti_enroll(&self->a, &self->snd[i].ident));
	}
	ASSERT_EQ(0, ti_make(&self->bob, "bob"));
	ASSERT_EQ(0, ti_enroll(&self->a, &self->bob));
	self->lifetime = 1;
}

FIXTURE_TEARDOWN(crash)
{
	int rc;

	for (int i = 0; i < SENDERS; i++) {
		kc_client_close(self->snd[i].c);
		ti_free(&self->snd[i].ident);
	}
	kc_client_close(self->cb);
	rc = self->a.pid ? agent_proc_stop(&self->a) : 0;
	if (rc || _metadata->exit_code)
		agent_proc_dump_log(&self->a);
	ti_free(&self->bob);
	free(self->lg);
	agent_proc_destroy(&self->a);
}

/* Message number n of sender i: its msg_id carries both. */
static void msg_id_of(uint8_t id[KC_MSGID_LEN], int i, unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0xcc;
	id[1] = (uint8_t)i;
	memcpy(id + 4, &n, sizeof(n));
}

/* Counter = number + 1: a resend keeps both (PROTOCOL.md section 4). */
static int send_number(struct sender *sd, int i, unsigned int n)
{
	uint8_t id[KC_MSGID_LEN], inner[64];
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)"bob", 3 },
		.msg_id = id,
		.counter = n + 1,
		.inner = { inner, sizeof(inner) },
	};

	msg_id_of(id, i, n);
	memset(inner, (int)n, sizeof(inner));
	return ts_send_plain(sd->c, &sd->s, ++sd->seq, &sp);
}

static int connect_sender(FIXTURE_DATA(crash) *self, int i)
{
	struct sender *sd = &self->snd[i];
	int status;

	kc_client_close(sd->c);
	sd->c = NULL;
	sd->seq = 0;
	/* What had no ACK goes again, same numbers. */
	sd->next = sd->acked;
	if (ti_connect(&self->a, &sd->ident, &sd->c))
		return -1;
	return ts_open(sd->c, &sd->ident, &sd->s, &status);
}

/* One window from sender i: sends, then reads the ACKs in order. */
static int sender_window(FIXTURE_DATA(crash) *self, int i)
{
	struct sender *sd = &self->snd[i];
	uint64_t first_seq = sd->seq + 1;
	unsigned int first = sd->next, n = 0;
	uint8_t ack_id[KC_MSGID_LEN];
	uint16_t status;

	while (n < WINDOW && sd->next < MAX_MSGS) {
		if (send_number(sd, i, sd->next))
			return -1;
		sd->next++;
		n++;
	}
	for (unsigned int k = 0; k < n; k++) {
		if (ts_await_ack(sd->c, &sd->s, first_seq + k, &status, ack_id))
			return -1;
		if (status != KC_OK) {
			/* TRY_LATER and friends: from here on, again. */
			sd->next = first + k;
			return -2;
		}
		self->lg->acked[i][first + k] = 1;
		sd->acked = first + k + 1;
	}
	return 0;
}

static void note_delivery(FIXTURE_DATA(crash) *self, const uint8_t *id)
{
	struct ledger *lg = self->lg;
	unsigned int n;
	int i = id[1];

	memcpy(&n, id + 4, sizeof(n));
	if (id[0] != 0xcc || i >= SENDERS || n >= MAX_MSGS) {
		lg->unknown++;
		return;
	}
	if (lg->delivered[i][n] == self->lifetime)
		lg->dup_in_lifetime++;
	lg->delivered[i][n] = self->lifetime;
}

/* Bob takes what is there (up to wait_ms of quiet) and answers. */
static int bob_reads(FIXTURE_DATA(crash) *self, unsigned int wait_ms)
{
	struct kc_frame f;
	int ret;

	if (!self->cb && ti_connect(&self->a, &self->bob, &self->cb))
		return -1;
	while (!(ret = kc_client_next_event(self->cb, wait_ms, &f))) {
		struct kc_frame d = { .type = KC_T_DELIVERED };

		if (f.type != KC_T_DELIVER)
			continue;
		note_delivery(self, f.u.deliver.msg_id);
		d.u.delivered.msg_id = f.u.deliver.msg_id;
		if (kc_client_send(self->cb, &d))
			return -1;
		wait_ms = wait_ms > 1 ? 1 : wait_ms;
	}
	return ret == -ETIMEDOUT ? 0 : -1;
}

/* A child that kills the agent after a random few hundred ms. */
static pid_t arm_killer(pid_t agent)
{
	unsigned int ms = 100 + (unsigned int)(random() % 500);
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec ts = { 0, (long)ms * 1000000 };

		nanosleep(&ts, NULL);
		kill(agent, SIGKILL);
		_exit(0);
	}
	return pid;
}

/* Traffic until the agent dies under it. */
static void run_until_killed(FIXTURE_DATA(crash) *self)
{
	bool alive = true;

	while (alive) {
		for (int i = 0; alive && i < SENDERS; i++)
			alive = sender_window(self, i) != -1;
		alive = alive && !bob_reads(self, 1);
	}
}

static void restart(struct __test_metadata *_metadata,
		    FIXTURE_DATA(crash) *self)
{
	agent_proc_kill(&self->a); /* reaps the killed one */
	ASSERT_EQ(0, agent_proc_start(&self->a));
	self->lifetime++;
	kc_client_close(self->cb);
	self->cb = NULL;
	for (int i = 0; i < SENDERS; i++)
		ASSERT_EQ(0, connect_sender(self, i));
}

TEST_F_TIMEOUT(crash, acknowledged_survive_kill9, 1800)
{
	const char *env = getenv("KC_CRASH_CYCLES");
	int cycles = env ? atoi(env) : 3;
	unsigned int lost = 0, acked = 0;
	pid_t killer;

	srandom((unsigned int)getpid());
	for (int i = 0; i < SENDERS; i++)
		ASSERT_EQ(0, connect_sender(self, i));
	for (int cycle = 0; cycle < cycles; cycle++) {
		killer = arm_killer(self->a.pid);
		ASSERT_LT(0, killer);
		run_until_killed(self);
		waitpid(killer, NULL, 0);
		restart(_metadata, self);
	}
	/* The last window: what had no ACK goes once more. */
	for (int i = 0; i < SENDERS; i++)
		ASSERT_EQ(0, sender_window(self, i));
	ASSERT_EQ(0, bob_reads(self, 2000));
	for (int i = 0; i < SENDERS; i++)
		for (unsigned int n = 0; n < self->snd[i].acked; n++) {
			acked += self->lg->acked[i][n];
			lost += self->lg->acked[i][n] &&
				!self->lg->delivered[i][n];
		}
	ksft_print_msg("%d crashes, %u messages acknowledged, %u lost, "
		       "%u delivered twice in one agent lifetime, %u unknown\n",
		       cycles, acked, lost, self->lg->dup_in_lifetime,
		       self->lg->unknown);
	EXPECT_LT(0, acked);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, self->lg->dup_in_lifetime);
	EXPECT_EQ(0, self->lg->unknown);
}

TEST_HARNESS_MAIN
