// SPDX-License-Identifier: GPL-2.0-only
/*
 * SEND (PROTOCOL.md section 4): the eight checks in their normative order,
 * one ACK per SEND whose body decoded. Statuses of steps 1-5 carry an
 * all-zero msg_id; from step 6 on, the message's own.
 *
 *   1 session live            else UNKNOWN_SESSION
 *   2 MAC                     else BAD_MAC
 *   3 seq above max_seq       else REPLAY (a seq past step 2 is used up)
 *   4 decrypt and padding     else BAD_MAC
 *   5 plaintext decodes       else BAD_FRAME (counter 0, unknown flags)
 * Steps 1-5 are the worker's and answered at once. A SEND past them joins
 * the turn's group with the worker's view of step 7 (recipient live,
 * size) and its ACK written but held; the committer judges, in order,
 *   6 duplicates              OK for a counter accepted before, not stored
 *                             again; REPLAY at or below the window
 *   7 routing and limits      the worker's verdict (NOT_FOUND, TOO_LARGE)
 *   8 stored durably          then OK
 * and the worker patches the held ACK's status when the group comes back.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "conn/conn.h"
#include "conn/conn_out.h"
#include "crypto/crypto.h"
#include "proto/context.h"
#include "proto/id_bytes.h"
#include "proto/send.h"
#include "ring/counters.h"
#include "ring/probes.h"
#include "store/store.h"

static const uint8_t zero_msg_id[KC_MSGID_LEN];

static struct kc_frame ack_frame(const struct kc_send *s, const uint8_t *msg_id,
				 enum kc_status status)
{
	struct kc_frame f = { .type = KC_T_ACK };

	f.u.ack.sid = s->sid;
	f.u.ack.seq = s->seq;
	f.u.ack.msg_id = msg_id;
	f.u.ack.status = (uint16_t)status;
	return f;
}

static void ack(struct kc_conn *c, const struct kc_send *s,
		const uint8_t *msg_id, enum kc_status status)
{
	struct kc_frame f = ack_frame(s, msg_id, status);

	/* An OK now is a held ACK: counted with its final status. */
	if (status != KC_OK)
		kc_count_status(status);
	kc_conn_reply(c, &f);
}

/* Where the group commit patches the status: the codec's layout says. */
static long ack_status_off(const struct kc_send *s, const uint8_t *msg_id)
{
	struct kc_frame f = ack_frame(s, msg_id, KC_OK);

	return kc_frame_field_offset(&f,
				     offsetof(struct kc_frame, u.ack.status));
}

/*
 * Steps 2-4. The crypto tier checks the MAC before it decrypts and reports
 * both failures as -KC_BAD_MAC; `mac_ok` says whether the MAC passed, for
 * the REPLAY rule (step 3 sits between the MAC and the padding check).
 */
static int open_send(struct kc_proto_worker *pw,
		     const struct kc_conn_session *sess,
		     const struct kc_send *s, size_t *pt_len, bool *mac_ok)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_open_req req = {
		.session = sess->handle,
		.aad = aad,
		.iv = s->iv,
		.ct = s->ct.p,
		.ct_len = s->ct.len,
		.mac = s->mac,
		.pt = pw->scratch,
	};

	*mac_ok = false;
	if (s->ct.len > pw->scratch_len)
		return -KC_BAD_MAC; /* cannot be a frame we accepted */
	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, s->sid, s->seq, s->iv,
				 (uint32_t)s->ct.len);
	kc_count(KC_CTR_CRYPTO_OPENS, 1);
	if (kc_open_batch(pw->crypto, &req, 1))
		return -KC_INTERNAL;
	*mac_ok = req.mac_ok;
	*pt_len = req.pt_len;
	return req.status;
}

/* Steps 1-4: 0 with the plaintext in w->scratch, or the status to send. */
static int authenticate(struct kc_conn *c, const struct kc_send *s,
			size_t *pt_len)
{
	struct kc_conn_session *sess;
	bool mac_ok;
	int ret;

	sess = kc_conn_session_find(&kc_peer(c)->sessions, s->sid,
				    kc_conn_now_ms(c));
	if (!sess)
		return KC_UNKNOWN_SESSION;
	ret = open_send(kc_pw(c), sess, s, pt_len, &mac_ok);
	if (ret == -KC_UNKNOWN_SESSION)
		return KC_UNKNOWN_SESSION;
	if (!mac_ok) {
		if (KC_PROBE_ON(mac_fail))
			KC_PROBE2(mac_fail, c->id, s->seq);
		return ret == -KC_BAD_MAC ? KC_BAD_MAC : KC_INTERNAL;
	}
	if (s->seq <= sess->max_seq) {
		/* 0: a session's sequence number; the committer's are 1. */
		if (KC_PROBE_ON(replay))
			KC_PROBE3(replay, c->id, s->seq, 0);
		return KC_REPLAY;
	}
	sess->max_seq = s->seq;
	return ret ? KC_BAD_MAC : 0;
}

/* Step 7 as far as the worker can tell: the recipient exists, it fits. */
static int route_check(struct kc_conn *c, const struct kc_send_plain *sp,
		       char *to)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_proto *p = pw->p;
	int ret;

	if (!kc_id_from_bytes(sp->to, to))
		return KC_NOT_FOUND;
	if (pw->reader) {
		ret = kc_store_reader_client_live(pw->reader, to);
	} else {
		pthread_mutex_lock(&p->store_lock);
		ret = kc_store_client_live(p->store, to);
		pthread_mutex_unlock(&p->store_lock);
	}
	if (ret == -ENOENT)
		return KC_NOT_FOUND;
	if (ret)
		return KC_TRY_LATER;
	if (sp->inner.len > p->cfg->max_message)
		return KC_TOO_LARGE;
	return KC_OK;
}

/*
 * The first SEND of this turn's group on a connection starts a hold there:
 * its answers wait until the group comes back from the committer.
 */
static int hold_for_group(struct kc_conn *c)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_peer *peer = kc_peer(c);

	if (peer->held_gen == pw->batch->gen)
		return 0;
	if (kc_conn_hold(c))
		return -ENOMEM;
	if (kc_commit_add_hold(pw->batch, c->slot, c->gen)) {
		kc_conn_release_newest(c);
		return -ENOMEM;
	}
	peer->held_gen = pw->batch->gen;
	return 0;
}

/* Into the group; the ACK is written now and waits, held, for its status. */
static void queue_for_commit(struct kc_conn *c, const struct kc_send *s,
			     const struct kc_send_plain *sp, const char *to,
			     int verdict, uint64_t received_ns)
{
	long status_off = ack_status_off(s, sp->msg_id);
	struct kc_commit_msg m = {
		.slot = c->slot,
		.gen = c->gen,
		.counter = sp->counter,
		.flags = sp->flags,
		.verdict = (uint16_t)verdict,
		.inner_len = sp->inner.len,
		.t = { .received_ns = received_ns, .opened_ns = kc_mono_ns() },
	};

	strcpy(m.sender, c->id);
	strcpy(m.recipient, to);
	memcpy(m.msg_id, sp->msg_id, KC_MSGID_LEN);
	if (status_off < 0 || hold_for_group(c)) {
		ack(c, s, sp->msg_id, KC_TRY_LATER);
		return;
	}
	m.status_pos = kc_conn_out_pos(c) + (uint64_t)status_off;
	/* Not stored, yet judged for duplicates first: inner stays empty. */
	if (verdict != KC_OK)
		m.inner_len = 0;
	if (kc_commit_add_msg(kc_pw(c)->batch, &m, sp->inner.p)) {
		ack(c, s, sp->msg_id, KC_TRY_LATER);
		return;
	}
	kc_count(KC_CTR_MSGS_ACCEPTED, 1);
	ack(c, s, sp->msg_id, KC_OK);
}

static void deliver_plaintext(struct kc_conn *c, const struct kc_send *s,
			      size_t pt_len, uint64_t received_ns)
{
	char to[KC_CLIENT_ID_MAX + 1] = "";
	struct kc_send_plain sp;

	if (kc_send_plain_decode(kc_pw(c)->scratch, pt_len, &sp)) {
		ack(c, s, zero_msg_id, KC_BAD_FRAME);
		return;
	}
	queue_for_commit(c, s, &sp, to, route_check(c, &sp, to), received_ns);
}

void kc_handle_send(struct kc_conn *c, const struct kc_send *s)
{
	struct kc_proto_worker *pw = kc_pw(c);
	uint64_t received_ns = kc_mono_ns();
	size_t pt_len = 0;
	int status;

	kc_count(KC_CTR_SENDS, 1);
	status = authenticate(c, s, &pt_len);
	if (status)
		ack(c, s, zero_msg_id, (enum kc_status)status);
	else
		deliver_plaintext(c, s, pt_len, received_ns);
	/* A failed decrypt may have left blocks behind pt_len. */
	explicit_bzero(pw->scratch, s->ct.len < pw->scratch_len
					    ? s->ct.len
					    : pw->scratch_len);
}
