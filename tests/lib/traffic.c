// SPDX-License-Identifier: GPL-2.0-only
/*
 * The load half of the ledgered traffic: see traffic.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

#define TR_TAG 0xcc

static const char *const names[TR_IDENTS] = { "alice", "carol", "erin",
					       "bob", "dave" };

const char *tr_name(int id)
{
	return names[id];
}

void tr_msg_id(uint8_t id[KC_MSGID_LEN], int i, unsigned int n)
{
	memset(id, 0, KC_MSGID_LEN);
	id[0] = TR_TAG;
	id[1] = (uint8_t)i;
	memcpy(id + 4, &n, sizeof(n));
}

/* Bytes no other (i, n) has, so a mixed-up delivery shows. */
void tr_inner(uint8_t out[TR_INNER], int i, unsigned int n)
{
	uint32_t x = 0x9e3779b9u * (n + 1) ^ (uint32_t)(i + 1) * 0x85ebca6bu;

	for (int k = 0; k < TR_INNER; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[k] = (uint8_t)x;
	}
}

int tr_init(struct traffic *t, struct agent_proc *a)
{
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->a = a;
	t->lg = calloc(1, sizeof(*t->lg));
	if (!t->lg)
		return -ENOMEM;
	for (int id = 0; id < TR_IDENTS && !ret; id++)
		ret = ti_make(&t->cl[id].ident, names[id]);
	return ret ? ret : ti_make(&t->zed, "zed");
}

void tr_free(struct traffic *t)
{
	tr_disconnect(t);
	for (int id = 0; id < TR_IDENTS; id++)
		ti_free(&t->cl[id].ident);
	ti_free(&t->zed);
	free(t->lg);
	t->lg = NULL;
}

static int note(struct traffic *t, const char *what, uint32_t *point)
{
	uint32_t p = t->note ? t->note(t, what) : t->lg->points + 1;

	if (!p)
		return -EIO;
	t->lg->points = p;
	*point = p;
	return 0;
}

uint32_t tr_point(struct traffic *t, const char *what)
{
	uint32_t p;

	return note(t, what, &p) ? 0 : p;
}

int tr_register_all(struct traffic *t)
{
	struct tr_ledger *lg = t->lg;
	int status, ret = 0;

	for (int id = 0; id < TR_IDENTS && !ret; id++) {
		ret = agent_proc_token(t->a, lg->token[id]);
		if (!ret)
			ret = ti_register(t->a, &t->cl[id].ident,
					  lg->token[id], &status);
		if (!ret)
			ret = note(t, "registered", &lg->reg[id]);
	}
	return ret;
}

int tr_open(struct traffic *t, int id)
{
	struct tr_client *cl = &t->cl[id];
	int status;

	kc_client_close(cl->c);
	cl->c = NULL;
	cl->seq = 0;
	cl->next = cl->acked;
	if (ti_connect(t->a, &cl->ident, &cl->c))
		return -ECONNREFUSED;
	/*
	 * A receiver only reads, but the agent wants a first frame within
	 * handshake_timeout (10 s: under TCG, less than the rest of a check).
	 */
	if (id >= TR_SENDERS)
		return tc_ping(cl->c, (uint64_t)id + 1) ? -ECONNRESET : 0;
	return ts_open(cl->c, &cl->ident, &cl->s, &status);
}

int tr_connect(struct traffic *t)
{
	int ret = 0;

	for (int id = 0; id <= TR_BOB && !ret; id++)
		ret = tr_open(t, id);
	return ret;
}

void tr_disconnect(struct traffic *t)
{
	for (int id = 0; id < TR_IDENTS; id++) {
		kc_client_close(t->cl[id].c);
		t->cl[id].c = NULL;
	}
}

/* Counter n + 1, the same on every resend (PROTOCOL.md section 4). */
int tr_send(struct traffic *t, int i, unsigned int n, bool garbled)
{
	struct tr_client *sd = &t->cl[i];
	uint8_t id[KC_MSGID_LEN], inner[TR_INNER];
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)names[TR_BOB + (n & 1)],
			strlen(names[TR_BOB + (n & 1)]) },
		.msg_id = id,
		.counter = n + 1,
		.inner = { inner, sizeof(inner) },
	};

	tr_msg_id(id, i, n);
	tr_inner(inner, i, n);
	if (garbled)
		inner[0] ^= 0x5a;
	return ts_send_plain(sd->c, &sd->s, ++sd->seq, &sp);
}

static int ack_one(struct traffic *t, int i, unsigned int n, uint16_t status)
{
	struct tr_ledger *lg = t->lg;
	struct tr_client *sd = &t->cl[i];

	if (status != KC_OK) {
		if (n < sd->next)
			sd->next = n; /* from here on, again */
		return -EAGAIN;
	}
	if (n == sd->acked)
		sd->acked++;
	if (lg->ack[i][n])
		return 0;
	lg->acked++;
	return note(t, "ack", &lg->ack[i][n]);
}

/* A window from sender i: sends, then reads the ACKs in order. */
static int sender_window(struct traffic *t, int i)
{
	struct tr_client *sd = &t->cl[i];
	uint64_t first_seq = sd->seq + 1;
	unsigned int first = sd->next, cnt = 0;
	uint16_t status;
	int ret = 0, r;

	while (cnt < TR_WINDOW && sd->next < TR_MAX_MSGS) {
		if (tr_send(t, i, sd->next, false))
			return -EIO;
		sd->next++;
		cnt++;
	}
	if (sd->next > t->lg->sent[i])
		t->lg->sent[i] = sd->next;
	for (unsigned int k = 0; k < cnt; k++) {
		if (ts_await_ack(sd->c, &sd->s, first_seq + k, &status, NULL))
			return -EIO;
		r = ack_one(t, i, first + k, status);
		if (r && r != -EAGAIN)
			return r;
		ret = ret ? ret : r;
	}
	/* Past a refusal, what had OK counts; acked is the first gap. */
	while (sd->acked < sd->next && t->lg->ack[i][sd->acked])
		sd->acked++;
	return ret;
}

/* A delivery to bob: which (i, n) it is, or -1 when not one of ours. */
static int ours(const uint8_t *msg_id, int *i, unsigned int *n)
{
	if (msg_id[0] != TR_TAG || msg_id[1] >= TR_SENDERS)
		return -1;
	*i = msg_id[1];
	memcpy(n, msg_id + 4, sizeof(*n));
	return *n < TR_MAX_MSGS ? 0 : -1;
}

/* Bob takes what is there (up to wait_ms of quiet) and answers. */
static int bob_reads(struct traffic *t, unsigned int wait_ms)
{
	struct kc_client *c = t->cl[TR_BOB].c;
	struct kc_frame f;
	unsigned int n;
	int ret, i;

	while (!(ret = kc_client_next_event(c, wait_ms, &f))) {
		struct kc_frame d = { .type = KC_T_DELIVERED };

		if (f.type != KC_T_DELIVER)
			continue;
		if (!ours(f.u.deliver.msg_id, &i, &n) &&
		    !t->lg->delivered[i][n])
			t->lg->delivered[i][n] = t->lg->points + 1;
		d.u.delivered.msg_id = f.u.deliver.msg_id;
		if (kc_client_send(c, &d))
			return -EIO;
		wait_ms = 1;
	}
	return ret == -ETIMEDOUT ? 0 : -EIO;
}

int tr_round(struct traffic *t)
{
	int ret = 0, r;

	for (int i = 0; i < TR_SENDERS; i++) {
		r = sender_window(t, i);
		if (r && r != -EAGAIN)
			return r;
		ret = ret ? ret : r;
	}
	r = bob_reads(t, 1);
	return r ? r : ret;
}
