// SPDX-License-Identifier: GPL-2.0-only
/*
 * The check half of the ledgered traffic: what an agent started on a
 * disk as it was at point N must hold. See traffic.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

#define SENTINEL_TAG 0x5e

/* Deliveries per (sender, number), and the sentinels seen. */
struct tally {
	uint8_t got[TR_SENDERS][TR_MAX_MSGS];
	bool sentinel[TR_RECEIVERS];
};

static bool before(uint32_t event, uint32_t point)
{
	return event && event <= point;
}

/* Every client registered before the point connects; others stay out. */
static void connect_registered(struct traffic *t, uint32_t point,
			       struct tr_verdict *v)
{
	for (int id = 0; id < TR_IDENTS; id++) {
		t->cl[id].acked = 0;
		if (before(t->lg->reg[id], point) && tr_open(t, id))
			v->refused++;
	}
}

/* The newest token used before the point must not register zed. */
static void reuse_token(struct traffic *t, uint32_t point,
			struct tr_verdict *v)
{
	int last = -1, status;

	for (int id = 0; id < TR_IDENTS; id++)
		if (before(t->lg->reg[id], point))
			last = id;
	if (last >= 0 &&
	    !ti_register(t->a, &t->zed, t->lg->token[last], &status))
		v->token_reused++;
}

/* The newest number of sender i ACKed before the point, or -1. */
static int last_acked(const struct tr_ledger *lg, int i, uint32_t point)
{
	for (int n = (int)lg->sent[i] - 1; n >= 0; n--)
		if (before(lg->ack[i][n], point))
			return n;
	return -1;
}

/*
 * Sends message n of sender i again with other bytes: it was ACKed, so
 * the counter window must answer OK (or REPLAY, too old to judge) and
 * store nothing; a stored copy shows up as a second or garbled delivery.
 */
static void resend(struct traffic *t, int i, unsigned int n,
		   struct tr_verdict *v)
{
	struct tr_client *sd = &t->cl[i];
	uint16_t status;

	if (tr_send(t, i, n, true) ||
	    ts_await_ack(sd->c, &sd->s, sd->seq, &status, NULL))
		v->errors++;
	else if (status != KC_OK && status != KC_REPLAY)
		v->resend_stored++;
}

/* The newest and an older ACKed message of each sender, again. */
static void resend_acked(struct traffic *t, uint32_t point,
			 struct tr_verdict *v)
{
	for (int i = 0; i < TR_SENDERS; i++) {
		int n = last_acked(t->lg, i, point);

		if (n < 0 || !t->cl[i].c)
			continue;
		resend(t, i, (unsigned int)n, v);
		if (n >= 2 && before(t->lg->ack[i][n / 2], point))
			resend(t, i, (unsigned int)n / 2, v);
	}
}

/* A new message to each receiver: once it is in, the queue is read. */
static void send_sentinels(struct traffic *t, struct tr_verdict *v)
{
	struct tr_client *sd = &t->cl[0];
	uint8_t id[KC_MSGID_LEN] = { SENTINEL_TAG }, inner[8] = { 0 };
	uint16_t status;

	for (int r = 0; r < TR_RECEIVERS; r++) {
		const char *to = tr_name(TR_BOB + r);
		struct kc_send_plain sp = {
			.to = { (const uint8_t *)to, strlen(to) },
			.msg_id = id,
			.counter = 2 * TR_MAX_MSGS + (uint64_t)r + 1,
			.inner = { inner, sizeof(inner) },
		};

		id[1] = (uint8_t)r;
		if (ts_send_plain(sd->c, &sd->s, ++sd->seq, &sp) ||
		    ts_await_ack(sd->c, &sd->s, sd->seq, &status, NULL) ||
		    status != KC_OK)
			v->errors++;
	}
}

/* One delivery to receiver r, counted or judged garbage. */
static void tally_one(struct traffic *t, int r, const struct kc_deliver *d,
		      struct tally *ty, struct tr_verdict *v)
{
	uint8_t want[TR_INNER];
	unsigned int n;
	int i = d->msg_id[1];

	if (d->msg_id[0] == SENTINEL_TAG && i == r) {
		ty->sentinel[r] = true;
		return;
	}
	memcpy(&n, d->msg_id + 4, sizeof(n));
	if (d->msg_id[0] != 0xcc || i >= TR_SENDERS || n >= TR_MAX_MSGS ||
	    (int)(n & 1) != r) {
		v->garbage++;
		return;
	}
	if (n >= t->lg->sent[i]) {
		v->never_sent++;
		return;
	}
	tr_inner(want, i, n);
	if (d->inner.len != TR_INNER || memcmp(d->inner.p, want, TR_INNER) ||
	    d->from.len != strlen(tr_name(i)) ||
	    memcmp(d->from.p, tr_name(i), d->from.len)) {
		v->garbage++;
		return;
	}
	if (ty->got[i][n] < 255)
		ty->got[i][n]++;
}

/* Receiver r reads until its sentinel (no DELIVERED: a look only). */
static void drain(struct traffic *t, int r, struct tally *ty,
		  struct tr_verdict *v)
{
	struct kc_client *c = t->cl[TR_BOB + r].c;
	struct kc_frame f;

	while (c && !ty->sentinel[r]) {
		if (kc_client_next_event(c, TEST_WAIT_MS, &f)) {
			v->errors++;
			return;
		}
		if (f.type == KC_T_DELIVER)
			tally_one(t, r, &f.u.deliver, ty, v);
	}
	if (!c)
		v->errors++;
}

/*
 * Bob's messages whose DELIVERED was written before the point may be
 * gone; everything else ACKed before it must come, and nothing twice.
 */
static void judge(const struct tr_ledger *lg, uint32_t point,
		  const struct tally *ty, struct tr_verdict *v)
{
	for (int i = 0; i < TR_SENDERS; i++)
		for (unsigned int n = 0; n < lg->sent[i]; n++) {
			bool may_be_gone = !(n & 1) &&
					   before(lg->delivered[i][n], point);

			if (ty->got[i][n] > 1)
				v->dup++;
			if (!before(lg->ack[i][n], point))
				continue;
			v->required++;
			if (!ty->got[i][n] && !may_be_gone)
				v->lost++;
		}
}

void tr_check(struct traffic *t, uint32_t point, struct tr_verdict *v)
{
	struct tally *ty = calloc(1, sizeof(*ty));

	memset(v, 0, sizeof(*v));
	tr_disconnect(t);
	if (!ty) {
		v->errors++;
		return;
	}
	connect_registered(t, point, v);
	reuse_token(t, point, v);
	if (last_acked(t->lg, 0, point) >= 0 && t->cl[0].c) {
		resend_acked(t, point, v);
		send_sentinels(t, v);
		for (int r = 0; r < TR_RECEIVERS; r++)
			drain(t, r, ty, v);
	}
	judge(t->lg, point, ty, v);
	tr_disconnect(t);
	free(ty);
}

unsigned int tr_failures(const struct tr_verdict *v)
{
	return v->lost + v->dup + v->never_sent + v->garbage +
	       v->resend_stored + v->refused + v->token_reused + v->errors;
}
