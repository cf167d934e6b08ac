// SPDX-License-Identifier: GPL-2.0-only
/*
 * kill -9 under load: alice and carol send numbered messages to bob and
 * dave, a window at a time, while bob and dave receive and answer
 * DELIVERED; a child kills the agent at a random moment; everyone
 * reconnects to the restarted agent, the senders resend what had no ACK
 * (same msg_id and counter, as PROTOCOL.md asks), and on it goes. Within
 * each agent lifetime the clients also come and go: a sender hangs up in
 * the middle of a window and resends what had no ACK on a new connection,
 * and a receiver either leaves cleanly (every DELIVER answered, then a
 * PING so the agent has read each DELIVERED) or drops its connection with
 * DELIVERs read and not answered, as a receiver that died would. At the
 * end the receivers drain their queues, and:
 *   - every message whose ACK a sender read was delivered, to its
 *     recipient;
 *   - none was delivered again in the agent lifetime in which its
 *     DELIVERED had reached the agent; a message comes again only across
 *     a crash (its DELIVERED was not committed when the agent died) or
 *     after its receiver dropped it unanswered;
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
#define RECEIVERS 2
#define WINDOW 16
#define MAX_MSGS 50000
#define MAX_LIVES 256
/* One in this many rounds of traffic, a client comes and goes. */
#define SENDER_HANGUP_ODDS 8
#define RECEIVER_LEAVE_ODDS 3

/* One sender: its next counter, and what the agent has acknowledged. */
struct sender {
	struct test_ident ident;
	struct kc_client *c;
	struct test_session s;
	uint64_t seq;
	unsigned int next;  /* next message number to send */
	unsigned int acked; /* messages 0 .. acked - 1 are acknowledged */
};

struct receiver {
	struct test_ident ident;
	struct kc_client *c;  /* NULL: connects at its next read */
	unsigned int conn_no; /* c's number (ledger.conns_made) */
};

/*
 * Per message (sender, number), by agent lifetime (1, 2, ...; 0: never):
 * the last DELIVER, the DELIVERED answering it, and a drop without one.
 */
struct ledger {
	uint8_t acked[SENDERS][MAX_MSGS];
	uint16_t delivered[SENDERS][MAX_MSGS];
	uint16_t answered[SENDERS][MAX_MSGS];
	uint16_t dropped[SENDERS][MAX_MSGS];
	/* Receiver connections, numbered as made; the last one per message. */
	unsigned int conn_of[SENDERS][MAX_MSGS], conns_made;
	/* Delivered again after a crash, by the lifetime it came in. */
	unsigned int again_after_crash[MAX_LIVES];
	unsigned int dup_in_lifetime, again_after_drop, unknown, misrouted;
	unsigned int sender_hangups, receiver_leaves, receiver_drops;
};

FIXTURE(crash)
{
	struct agent_proc a;
	struct sender snd[SENDERS];
	struct receiver rcv[RECEIVERS];
	struct ledger *lg;
	unsigned int lifetime;
};

static const char *const sender_ids[SENDERS] = { "alice", "carol" };
static const char *const receiver_ids[RECEIVERS] = { "bob", "dave" };

FIXTURE_SETUP(crash)
{
	int ret = agent_proc_init(&self->a, 2);

	memset(self->snd, 0, sizeof(self->snd));
	memset(self->rcv, 0, sizeof(self->rcv));
	self->lg = calloc(1, sizeof(*self->lg));
	ASSERT_NE(NULL, self->lg);
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	for (int i = 0; i < SENDERS; i++) {
		ASSERT_EQ(0, ti_make(&self->snd[i].ident, sender_ids[i]));
		ASSERT_EQ(0, ti_enroll(&self->a, &self->snd[i].ident));
	}
	for (int r = 0; r < RECEIVERS; r++) {
		ASSERT_EQ(0, ti_make(&self->rcv[r].ident, receiver_ids[r]));
		ASSERT_EQ(0, ti_enroll(&self->a, &self->rcv[r].ident));
	}
	self->lifetime = 1;
}

FIXTURE_TEARDOWN(crash)
{
	for (int i = 0; i < SENDERS; i++) {
		kc_client_close(self->snd[i].c);
		ti_free(&self->snd[i].ident);
	}
	for (int r = 0; r < RECEIVERS; r++) {
		kc_client_close(self->rcv[r].c);
		ti_free(&self->rcv[r].ident);
	}
	/* The test judges each agent lifetime itself, as it goes. */
	(void)agent_proc_finish(&self->a, _metadata->exit_code);
	free(self->lg);
	agent_proc_destroy(&self->a);
}

/* Message number n of sender i goes to receiver n % RECEIVERS. */
static int receiver_of(unsigned int n)
{
	return (int)(n % RECEIVERS);
}

/* Its msg_id carries sender and number. */
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
	const char *to = receiver_ids[receiver_of(n)];
	uint8_t id[KC_MSGID_LEN], inner[64];
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)to, strlen(to) },
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

/*
 * One window from sender i: sends, then reads the ACKs in order, at most
 * read_max of them (fewer: it hangs up with the rest unanswered, -3).
 */
static int sender_window(FIXTURE_DATA(crash) *self, int i,
			 unsigned int read_max)
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
		if (k == read_max)
			return -3;
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

/* A sender that hangs up halfway through a window, then comes back. */
static int sender_hangs_up(FIXTURE_DATA(crash) *self, int i)
{
	int ret = sender_window(self, i, (unsigned int)(random() % WINDOW));

	if (ret == -1)
		return -1;
	self->lg->sender_hangups++;
	return connect_sender(self, i);
}

/* Where a message came twice in one lifetime, for the report. */
static void report_dup(const struct ledger *lg, int i, unsigned int n,
		       unsigned int life, unsigned int conn_no)
{
	if (lg->dup_in_lifetime < 8)
		ksft_print_msg("%s's message %u again in agent lifetime %u: "
			       "receiver connection %u, before on %u%s\n",
			       sender_ids[i], n, life, conn_no,
			       lg->conn_of[i][n],
			       lg->answered[i][n] == life ?
				       ", its DELIVERED sent" : "");
}

/* Why message (i, n) came again, if it did (see the top of the file). */
static void judge_again(struct ledger *lg, int i, unsigned int n,
			unsigned int life, unsigned int conn_no)
{
	if (!lg->delivered[i][n])
		return;
	if (lg->answered[i][n] != life && lg->dropped[i][n] == life) {
		lg->again_after_drop++;
	} else if (lg->answered[i][n] != life && lg->delivered[i][n] < life) {
		lg->again_after_crash[life < MAX_LIVES ? life : 0]++;
	} else {
		/* Answered in this lifetime, or neither answered nor dropped. */
		report_dup(lg, i, n, life, conn_no);
		lg->dup_in_lifetime++;
	}
}

/* Returns the message's number, or -1 when it is none of ours. */
static long note_delivery(FIXTURE_DATA(crash) *self, int r, const uint8_t *id)
{
	struct ledger *lg = self->lg;
	unsigned int n;
	int i = id[1];

	memcpy(&n, id + 4, sizeof(n));
	if (id[0] != 0xcc || i >= SENDERS || n >= MAX_MSGS) {
		lg->unknown++;
		return -1;
	}
	if (receiver_of(n) != r)
		lg->misrouted++;
	judge_again(lg, i, n, self->lifetime, self->rcv[r].conn_no);
	lg->delivered[i][n] = self->lifetime;
	lg->dropped[i][n] = 0;
	lg->conn_of[i][n] = self->rcv[r].conn_no;
	return (long)n;
}

static int answer(FIXTURE_DATA(crash) *self, struct kc_client *c,
		  const uint8_t *id, long n)
{
	struct kc_frame d = { .type = KC_T_DELIVERED };

	d.u.delivered.msg_id = id;
	if (kc_client_send(c, &d))
		return -1;
	if (n >= 0)
		self->lg->answered[id[1]][n] = (uint16_t)self->lifetime;
	return 0;
}

/*
 * Receiver r takes what is there (up to wait_ms of quiet) and answers
 * each DELIVER, or (dropping) only notes it, as a receiver that dies
 * before answering would.
 */
static int receiver_reads(FIXTURE_DATA(crash) *self, int r,
			  unsigned int wait_ms, bool dropping)
{
	struct receiver *rc = &self->rcv[r];
	struct kc_frame f;
	long n;
	int ret;

	if (!rc->c) {
		if (ti_connect(&self->a, &rc->ident, &rc->c))
			return -1;
		rc->conn_no = ++self->lg->conns_made;
	}
	while (!(ret = kc_client_next_event(rc->c, wait_ms, &f))) {
		if (f.type != KC_T_DELIVER)
			continue;
		n = note_delivery(self, r, f.u.deliver.msg_id);
		if (dropping && n >= 0)
			self->lg->dropped[f.u.deliver.msg_id[1]][n] =
				(uint16_t)self->lifetime;
		else if (answer(self, rc->c, f.u.deliver.msg_id, n))
			return -1;
		wait_ms = wait_ms > 1 ? 1 : wait_ms;
	}
	return ret == -ETIMEDOUT ? 0 : -1;
}

/*
 * Receiver r leaves and comes back at once: cleanly (a PING after its
 * last DELIVERED, so the agent has read them all) or dropping what it
 * reads last unanswered. Coming back at once gives the agent the least
 * time to commit those DELIVEREDs before the new connection's queue
 * is read.
 */
static int receiver_leaves(FIXTURE_DATA(crash) *self, int r)
{
	struct receiver *rc = &self->rcv[r];
	int ret;

	if (random() % 2) {
		ret = rc->c ? tc_ping(rc->c, 1) : 0;
		self->lg->receiver_leaves++;
	} else {
		ret = receiver_reads(self, r, 1, true);
		self->lg->receiver_drops++;
	}
	kc_client_close(rc->c);
	rc->c = NULL;
	return ret ? -1 : receiver_reads(self, r, 1, false);
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

/* Traffic, with clients coming and going, until the agent dies under it. */
static void run_until_killed(FIXTURE_DATA(crash) *self)
{
	bool alive = true;
	int leaver;

	while (alive) {
		for (int i = 0; alive && i < SENDERS; i++) {
			if (random() % SENDER_HANGUP_ODDS == 0)
				alive = sender_hangs_up(self, i) != -1;
			else
				alive = sender_window(self, i, WINDOW) != -1;
		}
		/*
		 * A receiver leaves before the reads, while the windows'
		 * DELIVERs wait, or after them, while the DELIVEREDs it
		 * just sent are being committed.
		 */
		leaver = random() % RECEIVER_LEAVE_ODDS == 0 ?
				 (int)(random() % (2 * RECEIVERS)) : -1;
		if (alive && leaver >= 0 && leaver < RECEIVERS)
			alive = !receiver_leaves(self, leaver);
		for (int r = 0; alive && r < RECEIVERS; r++)
			alive = !receiver_reads(self, r, 1, false);
		if (alive && leaver >= RECEIVERS)
			alive = !receiver_leaves(self, leaver - RECEIVERS);
	}
}

static void restart(struct __test_metadata *_metadata,
		    FIXTURE_DATA(crash) *self)
{
	agent_proc_kill(&self->a); /* reaps the killed one */
	ASSERT_EQ(0, agent_proc_start(&self->a));
	self->lifetime++;
	ASSERT_GT(MAX_LIVES, self->lifetime);
	for (int r = 0; r < RECEIVERS; r++) {
		kc_client_close(self->rcv[r].c);
		self->rcv[r].c = NULL;
	}
	for (int i = 0; i < SENDERS; i++)
		ASSERT_EQ(0, connect_sender(self, i));
}

/* "N messages came again after crash 2: 3, ..." for the report. */
static void print_again(const struct ledger *lg, unsigned int lives)
{
	char line[2048];
	size_t at = 0;

	line[0] = '\0';
	for (unsigned int l = 2; l <= lives && at < sizeof(line) - 32; l++)
		if (lg->again_after_crash[l])
			at += (size_t)snprintf(line + at, sizeof(line) - at,
					       "%scrash %u: %u", at ? ", " : "",
					       l - 1, lg->again_after_crash[l]);
	ksft_print_msg("delivered again after a crash, by crash: %s\n",
		       at ? line : "none");
}

TEST_F_TIMEOUT(crash, acknowledged_survive_kill9, 1800)
{
	const char *env = getenv("KC_CRASH_CYCLES");
	int cycles = env ? atoi(env) : 3;
	unsigned int lost = 0, acked = 0, delivered = 0, again = 0;
	struct ledger *lg = self->lg;
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
		ASSERT_EQ(0, sender_window(self, i, WINDOW));
	for (int r = 0; r < RECEIVERS; r++)
		ASSERT_EQ(0, receiver_reads(self, r, 2000, false));
	for (int i = 0; i < SENDERS; i++)
		for (unsigned int n = 0; n < self->snd[i].next; n++) {
			acked += lg->acked[i][n];
			delivered += lg->delivered[i][n] != 0;
			lost += lg->acked[i][n] && !lg->delivered[i][n];
		}
	for (unsigned int l = 0; l < MAX_LIVES; l++)
		again += lg->again_after_crash[l];
	ksft_print_msg("%d crashes: %u messages acknowledged, %u delivered, "
		       "%u lost; %u delivered again after a crash, %u after "
		       "a receiver dropped them unanswered, %u delivered "
		       "twice in one agent lifetime, %u misrouted, %u unknown\n",
		       cycles, acked, delivered, lost, again,
		       lg->again_after_drop, lg->dup_in_lifetime, lg->misrouted,
		       lg->unknown);
	ksft_print_msg("clients came and went: %u sender hang-ups, %u clean "
		       "receiver leaves, %u receiver drops\n",
		       lg->sender_hangups, lg->receiver_leaves,
		       lg->receiver_drops);
	print_again(lg, self->lifetime);
	EXPECT_LT(0, acked);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, lg->dup_in_lifetime);
	EXPECT_EQ(0, lg->misrouted);
	EXPECT_EQ(0, lg->unknown);
}

TEST_HARNESS_MAIN
