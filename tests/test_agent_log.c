// SPDX-License-Identifier: GPL-2.0-only
/*
 * A real kcourierd and its message log (docs/DESIGN.md "Storage"): the
 * duplicate rules of PROTOCOL.md section 4 by message counters, over one
 * connection, across connections and across restarts; NO_RECEIPT;
 * messages queued across restarts delivered once, in order; a full disk
 * (the log on a small tmpfs): TRY_LATER and nothing acknowledged lost,
 * then service again; and kill -9 while SENDs are in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "kselftest_harness.h"

#define AGENT_TEST(name) TEST_F_TIMEOUT(log, name, 300)

FIXTURE(log)
{
	struct agent_proc a;
	struct test_ident alice, bob;
	struct kc_client *ca;
	struct test_session s;
	uint64_t seq; /* alice's last SEND seq in s */
	bool tmpfs;
};

static int connect_alice(FIXTURE_DATA(log) *self)
{
	int status;

	self->seq = 0;
	return ti_connect(&self->a, &self->alice, &self->ca) ||
	       ts_open(self->ca, &self->alice, &self->s, &status);
}

FIXTURE_SETUP(log)
{
	int ret = agent_proc_init(&self->a, 2);

	self->ca = NULL;
	self->tmpfs = false;
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make_enrolled(&self->a, &self->alice, "alice"));
	ASSERT_EQ(0, ti_make_enrolled(&self->a, &self->bob, "bob"));
	ASSERT_EQ(0, connect_alice(self));
}

FIXTURE_TEARDOWN(log)
{
	char path[300];
	int rc;

	kc_client_close(self->ca);
	rc = agent_proc_finish(&self->a, _metadata->exit_code);
	EXPECT_EQ(0, rc);
	if (self->tmpfs) {
		snprintf(path, sizeof(path), "%s/log", self->a.dir);
		umount(path);
	}
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

static void msg_id_of(uint8_t id[KC_MSGID_LEN], unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0x10;
	memcpy(id + 8, &n, sizeof(n));
}

/* Message n to bob with counter `counter`, its inner n repeated. */
struct msg {
	uint8_t id[KC_MSGID_LEN];
	uint8_t inner[40];
	struct kc_send_plain sp;
};

static void make(struct msg *m, unsigned int n, uint64_t counter,
		 uint8_t flags)
{
	msg_id_of(m->id, n);
	memset(m->inner, (int)n, sizeof(m->inner));
	m->sp = (struct kc_send_plain){
		.to = { (const uint8_t *)"bob", 3 },
		.msg_id = m->id,
		.counter = counter,
		.flags = flags,
		.inner = { m->inner, sizeof(m->inner) },
	};
}

/* Sends one message and returns its ACK status (or -errno). */
static int send_msg(FIXTURE_DATA(log) *self, unsigned int n, uint64_t counter,
		    uint8_t flags, uint8_t ack_id[KC_MSGID_LEN])
{
	uint8_t id[KC_MSGID_LEN];
	uint16_t status;
	struct msg m;
	int ret;

	make(&m, n, counter, flags);
	ret = ts_send_plain(self->ca, &self->s, ++self->seq, &m.sp);
	if (!ret)
		ret = ts_await_ack(self->ca, &self->s, self->seq, &status,
				   ack_id ? ack_id : id);
	return ret ? ret : status;
}

/* Bob's deliveries until none comes for wait_ms; their message numbers. */
static int collect(FIXTURE_DATA(log) *self, unsigned int *nums, int cap,
		   unsigned int wait_ms, bool answer)
{
	struct kc_client *cb;
	struct kc_frame f;
	int n = 0;

	if (ti_connect(&self->a, &self->bob, &cb))
		return -1;
	while (!kc_client_next_event(cb, wait_ms, &f)) {
		struct kc_frame d = { .type = KC_T_DELIVERED };
		unsigned int num;

		if (f.type != KC_T_DELIVER)
			continue;
		memcpy(&num, f.u.deliver.msg_id + 8, sizeof(num));
		if (n < cap)
			nums[n] = num;
		n++;
		if (!answer)
			continue;
		d.u.delivered.msg_id = f.u.deliver.msg_id;
		if (kc_client_send(cb, &d))
			break;
	}
	kc_client_shutdown(cb, 5000);
	kc_client_close(cb);
	return n;
}

AGENT_TEST(resent_counter_is_ok_and_stored_once)
{
	uint8_t ack_id[KC_MSGID_LEN], id[KC_MSGID_LEN];
	unsigned int got[8];

	ASSERT_EQ(KC_OK, send_msg(self, 1, 1, 0, NULL));
	/* The same counter with another msg_id and inner: a resend. */
	ASSERT_EQ(KC_OK, send_msg(self, 2, 1, 0, ack_id));
	msg_id_of(id, 2);
	/* The ACK names this SEND's msg_id (PROTOCOL.md step 6). */
	EXPECT_EQ(0, memcmp(id, ack_id, KC_MSGID_LEN));
	ASSERT_EQ(KC_OK, send_msg(self, 3, 2, 0, NULL));
	/* From another connection and another agent session. */
	kc_client_close(self->ca);
	ASSERT_EQ(0, connect_alice(self));
	ASSERT_EQ(KC_OK, send_msg(self, 4, 2, 0, NULL));
	ASSERT_EQ(2, collect(self, got, 8, 1500, true));
	EXPECT_EQ(1, got[0]);
	EXPECT_EQ(3, got[1]);
}

AGENT_TEST(resent_counter_after_a_crash_is_ok)
{
	unsigned int got[8];

	ASSERT_EQ(KC_OK, send_msg(self, 1, 7, 0, NULL));
	kc_client_close(self->ca);
	self->ca = NULL;
	agent_proc_kill(&self->a);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, connect_alice(self));
	ASSERT_EQ(KC_OK, send_msg(self, 2, 7, 0, NULL));
	ASSERT_EQ(KC_OK, send_msg(self, 3, 8, 0, NULL));
	ASSERT_EQ(2, collect(self, got, 8, 1500, true));
	EXPECT_EQ(1, got[0]);
	EXPECT_EQ(3, got[1]);
}

AGENT_TEST(window_bottom_is_replay)
{
	ASSERT_EQ(KC_OK, send_msg(self, 1, 10, 0, NULL));
	ASSERT_EQ(KC_OK, send_msg(self, 2, 10 + 4096, 0, NULL));
	/* 10 = hi - 4096: the agent cannot tell, so REPLAY. */
	EXPECT_EQ(KC_REPLAY, send_msg(self, 3, 10, 0, NULL));
	EXPECT_EQ(KC_REPLAY, send_msg(self, 4, 5, 0, NULL));
	/* hi - 4095 is inside the window: new, then a duplicate. */
	EXPECT_EQ(KC_OK, send_msg(self, 5, 11, 0, NULL));
	EXPECT_EQ(KC_OK, send_msg(self, 6, 11, 0, NULL));
}

/* Counter 0 and unknown flags do not decode (step 5): BAD_FRAME. */
AGENT_TEST(counter_zero_and_unknown_flag_are_bad_frame)
{
	static const uint8_t zero[KC_MSGID_LEN];
	uint8_t pt[2 + 3 + KC_MSGID_LEN + 8 + 1 + 4 + 1], ack_id[KC_MSGID_LEN];
	uint16_t status;
	size_t i;

	for (int bad = 0; bad < 2; bad++) {
		/* str "bob", msg_id, u64 counter, u8 flags, blob of 1 byte. */
		memset(pt, 0, sizeof(pt));
		pt[1] = 3;
		memcpy(pt + 2, "bob", 3);
		i = 2 + 3 + KC_MSGID_LEN;
		pt[i + 7] = bad ? 1 : 0; /* counter 0, or 1 */
		pt[i + 8] = bad ? 0x02 : 0; /* flag bit 1: unknown */
		pt[i + 9 + 3] = 1;
		ASSERT_EQ(0, ts_send_bytes(self->ca, &self->s, ++self->seq, pt,
					   sizeof(pt), TS_GOOD));
		ASSERT_EQ(0, ts_await_ack(self->ca, &self->s, self->seq,
					  &status, ack_id));
		EXPECT_EQ(KC_BAD_FRAME, status);
		EXPECT_EQ(0, memcmp(zero, ack_id, KC_MSGID_LEN));
	}
}

/* A duplicate is answered before routing: OK, not NOT_FOUND. */
AGENT_TEST(duplicate_is_judged_before_the_recipient)
{
	struct timespec settle = { 0, 300 * 1000000 };

	ASSERT_EQ(KC_OK, send_msg(self, 1, 3, 0, NULL));
	ASSERT_EQ(0, agent_proc_revoke(&self->a, "bob"));
	/* Workers look for directory changes every 100 ms (live_cache.h). */
	nanosleep(&settle, NULL);
	EXPECT_EQ(KC_OK, send_msg(self, 2, 3, 0, NULL));
	EXPECT_EQ(KC_NOT_FOUND, send_msg(self, 3, 4, 0, NULL));
	/* A refused counter stays unused: the same SEND is judged afresh. */
	EXPECT_EQ(KC_NOT_FOUND, send_msg(self, 3, 4, 0, NULL));
}

/* Two SENDs with one counter in flight together: one stored, both OK. */
AGENT_TEST(same_counter_in_one_round)
{
	struct msg m1, m2;
	unsigned int got[8];
	uint8_t ack_id[KC_MSGID_LEN];
	uint16_t st1, st2;

	make(&m1, 1, 42, 0);
	make(&m2, 2, 42, 0);
	ASSERT_EQ(0, ts_send_plain(self->ca, &self->s, 1, &m1.sp));
	ASSERT_EQ(0, ts_send_plain(self->ca, &self->s, 2, &m2.sp));
	self->seq = 2;
	ASSERT_EQ(0, ts_await_ack(self->ca, &self->s, 1, &st1, ack_id));
	ASSERT_EQ(0, ts_await_ack(self->ca, &self->s, 2, &st2, ack_id));
	EXPECT_EQ(KC_OK, st1);
	EXPECT_EQ(KC_OK, st2);
	ASSERT_EQ(1, collect(self, got, 8, 1500, true));
	EXPECT_EQ(1, got[0]);
}

static int await_receipt(struct kc_client *c, unsigned int *num)
{
	struct kc_frame f;
	int ret = kc_client_next_event(c, 2000, &f);

	if (ret)
		return ret;
	if (f.type != KC_T_RECEIPT)
		return -EPROTO;
	memcpy(num, f.u.receipt.msg_id + 8, sizeof(*num));
	return 0;
}

AGENT_TEST(no_receipt_flag)
{
	unsigned int got[8], num = 0;

	ASSERT_EQ(KC_OK, send_msg(self, 1, 1, KC_SEND_NO_RECEIPT, NULL));
	ASSERT_EQ(KC_OK, send_msg(self, 2, 2, 0, NULL));
	ASSERT_EQ(2, collect(self, got, 8, 1500, true));
	/* Only message 2's DELIVERED brings alice a RECEIPT. */
	ASSERT_EQ(0, await_receipt(self->ca, &num));
	EXPECT_EQ(2, num);
	EXPECT_EQ(-ETIMEDOUT, await_receipt(self->ca, &num));
}

/* Queued across two restarts, one of them a crash: once each, in order. */
AGENT_TEST(queue_survives_restarts_in_order)
{
	unsigned int got[64];
	int n;

	for (unsigned int i = 1; i <= 20; i++)
		ASSERT_EQ(KC_OK, send_msg(self, i, i, 0, NULL));
	kc_client_close(self->ca);
	self->ca = NULL;
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, connect_alice(self));
	for (unsigned int i = 21; i <= 30; i++)
		ASSERT_EQ(KC_OK, send_msg(self, i, i, 0, NULL));
	kc_client_close(self->ca);
	self->ca = NULL;
	agent_proc_kill(&self->a);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	/* Read without answering: all 30, then again after a reconnect. */
	n = collect(self, got, 64, 1500, false);
	ASSERT_EQ(30, n);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(i + 1, got[i]);
	ASSERT_EQ(30, collect(self, got, 64, 1500, true));
	ASSERT_EQ(0, collect(self, got, 64, 1000, true));
	ASSERT_EQ(0, connect_alice(self));
}

/* The log on a 2 MiB tmpfs, whose space a filler file takes. */
static int small_disk(FIXTURE_DATA(log) *self, char *filler, size_t cap)
{
	char log[200];

	snprintf(log, sizeof(log), "%s/log", self->a.dir);
	snprintf(filler, cap, "%s/filler", log);
	if (mount("kc-test", log, "tmpfs", 0, "size=2m,mode=0700"))
		return -errno;
	self->tmpfs = true;
	return 0;
}

static void fill(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	static const char block[4096];

	while (fd >= 0 && write(fd, block, sizeof(block)) == sizeof(block))
		;
	if (fd >= 0)
		close(fd);
}

AGENT_TEST(full_disk_then_room_again)
{
	char filler[300];
	unsigned int got[256], acked = 0;
	int ret, status = KC_OK;

	kc_client_close(self->ca);
	self->ca = NULL;
	ASSERT_EQ(0, agent_proc_stop(&self->a));
	ret = small_disk(self, filler, sizeof(filler));
	if (ret)
		SKIP(return, "cannot mount a tmpfs for the log (%s): needs root",
		     strerror(-ret));
	ASSERT_EQ(0, agent_proc_config(&self->a, "log_segment_bytes",
				       "262144"));
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, connect_alice(self));
	/* The first message makes the first segment; then the disk fills. */
	ASSERT_EQ(KC_OK, send_msg(self, 1, 1, 0, NULL));
	acked = 1;
	fill(filler);
	/* Until no segment can be made: TRY_LATER, the agent serving. */
	for (unsigned int i = 2; status == KC_OK && i < 10000; i++) {
		status = send_msg(self, i, i, 0, NULL);
		if (status == KC_OK)
			acked = i;
	}
	EXPECT_EQ(KC_TRY_LATER, status);
	ASSERT_LT(0, acked);
	EXPECT_EQ(0, tc_ping(self->ca, 1));
	unlink(filler);
	/* The refused message goes in once there is room again. */
	EXPECT_EQ(KC_OK, send_msg(self, acked + 1, acked + 1, 0, NULL));
	/* Every acknowledged message is there. */
	EXPECT_EQ((int)acked + 1, collect(self, got, 256, 1500, true));
}

TEST_HARNESS_MAIN
