// SPDX-License-Identifier: GPL-2.0-only
/*
 * The last frames before a close: every whole frame a client sent before
 * it ended the connection is handled by the agent, however it ended it.
 *
 * DELIVERED has no answer, so a client that writes it and closes at once
 * (as `kcourier recv --count 1` did) learns nothing if it is lost; the
 * sender then never gets its RECEIPT. Each round here: alice sends bob a
 * message, bob connects, takes the DELIVER, writes DELIVERED and ends the
 * connection the variant's way, and alice must get the RECEIPT. Many
 * rounds, because the loss depended on whether the frame and the end of
 * the connection reached the agent in the same loop turn.
 *
 * Variants: close_notify then close (the old client close), a bare FIN
 * without close_notify, a reset right behind the close_notify, and the
 * orderly end (kc_client_shutdown), which must also see the agent's own
 * close come back.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/agent_client.h"
#include "lib/agent_proc.h"
#include "kselftest_harness.h"

#define ROUNDS 40
#define RECEIPT_WAIT_MS 5000

enum close_way { CLOSE_NOTIFY, BARE_FIN, RESET, ORDERLY };

FIXTURE(closing)
{
	struct agent_proc a;
	struct test_ident alice, bob;
	struct kc_client *ca;
	struct test_session s;
};

FIXTURE_VARIANT(closing)
{
	enum close_way way;
};

FIXTURE_VARIANT_ADD(closing, close_notify) { .way = CLOSE_NOTIFY };
FIXTURE_VARIANT_ADD(closing, bare_fin) { .way = BARE_FIN };
FIXTURE_VARIANT_ADD(closing, reset) { .way = RESET };
FIXTURE_VARIANT_ADD(closing, orderly) { .way = ORDERLY };

FIXTURE_SETUP(closing)
{
	int status, ret = agent_proc_init(&self->a, 2);

	self->ca = NULL;
	if (ret == -ENOENT)
		SKIP(return, "KC_BIN unset: run through tests/run-tests.sh");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, agent_proc_start(&self->a));
	ASSERT_EQ(0, ti_make_enrolled(&self->a, &self->alice, "alice"));
	ASSERT_EQ(0, ti_make_enrolled(&self->a, &self->bob, "bob"));
	ASSERT_EQ(0, ti_connect(&self->a, &self->alice, &self->ca));
	ASSERT_EQ(0, ts_open(self->ca, &self->alice, &self->s, &status));
}

FIXTURE_TEARDOWN(closing)
{
	int rc;

	kc_client_close(self->ca);
	rc = agent_proc_finish(&self->a, _metadata->exit_code);
	EXPECT_EQ(0, rc);
	ti_free(&self->alice);
	ti_free(&self->bob);
	agent_proc_destroy(&self->a);
}

static void msg_id_of(uint8_t id[KC_MSGID_LEN], unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = 0xc1;
	memcpy(id + 12, &n, sizeof(n));
}

static int send_to_bob(struct kc_client *c, const struct test_session *s,
		       unsigned int n)
{
	uint8_t id[KC_MSGID_LEN], ack_id[KC_MSGID_LEN], inner[16];
	uint16_t status;
	int ret;

	msg_id_of(id, n);
	memset(inner, (int)n, sizeof(inner));
	ret = ts_send(c, s, n, "bob", id, inner, sizeof(inner), TS_GOOD);
	if (!ret)
		ret = ts_await_ack(c, s, n, &status, ack_id);
	return ret ? ret : status;
}

/* Takes the DELIVER of message n and answers DELIVERED. */
static int take(struct kc_client *c, unsigned int n)
{
	struct kc_frame f = { .type = KC_T_DELIVERED };
	uint8_t id[KC_MSGID_LEN];
	int ret = kc_client_next_event(c, TEST_WAIT_MS, &f);

	if (ret)
		return ret;
	msg_id_of(id, n);
	if (f.type != KC_T_DELIVER ||
	    memcmp(f.u.deliver.msg_id, id, KC_MSGID_LEN))
		return -EPROTO;
	f = (struct kc_frame){ .type = KC_T_DELIVERED };
	f.u.delivered.msg_id = id;
	return kc_client_send(c, &f);
}

/* Ends bob's connection right after his DELIVERED, the variant's way. */
static int hang_up(struct kc_client *c, enum close_way way)
{
	int fd = kc_tls_client_fd(kc_client_tls(c));
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	int ret = 0;

	switch (way) {
	case CLOSE_NOTIFY:
		break;
	case BARE_FIN:
		/* Shut before close(): close_notify can no longer go out. */
		shutdown(fd, SHUT_WR);
		break;
	case RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
		break;
	case ORDERLY:
		ret = kc_client_shutdown(c, RECEIPT_WAIT_MS);
		break;
	}
	kc_client_close(c);
	return ret;
}

static int await_receipt(struct kc_client *c, unsigned int n)
{
	uint8_t id[KC_MSGID_LEN];
	struct kc_frame f;
	int ret = kc_client_next_event(c, RECEIPT_WAIT_MS, &f);

	if (ret)
		return ret;
	msg_id_of(id, n);
	if (f.type != KC_T_RECEIPT ||
	    memcmp(f.u.receipt.msg_id, id, KC_MSGID_LEN))
		return -EPROTO;
	return 0;
}

TEST_F_TIMEOUT(closing, delivered_then_close, 300)
{
	struct kc_client *cb;
	unsigned int n;

	for (n = 1; n <= ROUNDS; n++) {
		ASSERT_EQ(KC_OK, send_to_bob(self->ca, &self->s, n));
		ASSERT_EQ(0, ti_connect(&self->a, &self->bob, &cb));
		ASSERT_EQ(0, take(cb, n));
		ASSERT_EQ(0, hang_up(cb, variant->way));
		ASSERT_EQ(0, await_receipt(self->ca, n))
			TH_LOG("round %u: no RECEIPT, so the agent lost bob's DELIVERED",
			       n);
	}
}

TEST_HARNESS_MAIN
