// SPDX-License-Identifier: GPL-2.0-only
/*
 * One receiver: a client of its own that opens every DELIVER end to end
 * (lib/e2e.c: the sender's signature on each SESSION_INIT, the MAC and
 * the sequence of every message), checks the payload against what its
 * sender wrote, feeds the ledger, and answers DELIVERED for each, in
 * batches of whatever arrived together, as `kcourier recv` does.
 *
 * The senders' id keys are fetched with LOOKUP and checked against the
 * pinned CA once, at set-up; a record from anyone else is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "crypto/crypto.h"
#include "client/e2e.h"
#include "payload.h"
#include "client/peer.h"
#include "run.h"

struct known_sender {
	struct kc_peer peer;
	unsigned int stream;
};

struct load_receiver {
	const struct load_opts *o;
	struct kc_client *conn;
	struct kc_crypto *crypto;
	struct kc_e2e *e2e;
	struct known_sender *senders;
	unsigned int n_senders;
	uint8_t (*acks)[KC_MSGID_LEN];
	size_t n_acks;
	uint64_t messages; /* opened so far, for KC_LOAD_FAULTS */
	bool dead;
};

struct kc_client *receiver_conn(const struct load_receiver *r)
{
	return r->dead ? NULL : r->conn;
}

static int learn_sender(struct load_receiver *r, const struct load_identity *me,
			const char *id, unsigned int stream)
{
	struct known_sender *k = &r->senders[r->n_senders];
	int ret;

	ret = kc_peer_lookup(r->conn, id, &k->peer);
	if (!ret)
		ret = kc_peer_verify(&k->peer,
				     (struct kc_bytes){ me->ca, me->ca_len });
	if (ret) {
		load_err("%s: keys of sender %s: %s", me->id, id,
			 k->peer.why[0] ? k->peer.why :
					  kc_client_error(r->conn));
		kc_peer_clear(&k->peer);
		return ret;
	}
	k->stream = stream;
	r->n_senders++;
	return 0;
}

static int setup(struct load_receiver *r, const struct load_identity *me,
		 const struct load_identity *senders, unsigned int first,
		 unsigned int count)
{
	unsigned int i;
	int ret;

	ret = identity_connect(r->o, me, &r->conn);
	if (ret) {
		load_err("%s: cannot connect to %s: %s", me->id, r->o->agent,
			 kc_tls_client_strerror());
		return ret;
	}
	for (i = 0; !ret && i < count; i++)
		ret = learn_sender(r, me, senders[first + i].id, first + i);
	if (!ret)
		ret = kc_crypto_open("user", &r->crypto);
	if (!ret)
		ret = kc_e2e_create(r->crypto, me->id, me->id_key, me->enc_key,
				    &r->e2e);
	return ret;
}

int receiver_create(const struct load_opts *o, const struct load_identity *me,
		    const struct load_identity *senders, unsigned int first,
		    unsigned int count, struct load_receiver **out)
{
	struct load_receiver *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->o = o;
	r->senders = calloc(count, sizeof(*r->senders));
	/* At most one DELIVERED per message a sender may have in flight. */
	r->acks = calloc((size_t)count * (2 * o->window + 2), KC_MSGID_LEN);
	if (!r->senders || !r->acks || setup(r, me, senders, first, count)) {
		receiver_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void receiver_free(struct load_receiver *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->n_senders; i++)
		kc_peer_clear(&r->senders[i].peer);
	kc_e2e_free(r->e2e);
	kc_crypto_close(r->crypto);
	kc_client_close(r->conn);
	free(r->senders);
	free(r->acks);
	free(r);
}

static const struct known_sender *find_sender(const struct load_receiver *r,
					      struct kc_bytes id)
{
	unsigned int i;

	for (i = 0; i < r->n_senders; i++) {
		const char *known = r->senders[i].peer.id;

		if (strlen(known) == id.len && !memcmp(known, id.p, id.len))
			return &r->senders[i];
	}
	return NULL;
}

/* kc_e2e_key_fn: only the senders checked at set-up are known. */
static int sender_key(void *arg, const char *sender, bool fresh,
		      EVP_PKEY **pub)
{
	const struct load_receiver *r = arg;
	const struct known_sender *k;

	k = find_sender(r, (struct kc_bytes){ (const uint8_t *)sender,
					      strlen(sender) });
	if (!k || !k->peer.id_pub)
		return -ENOKEY;
	if (!EVP_PKEY_up_ref(k->peer.id_pub))
		return -ENOMEM;
	*pub = k->peer.id_pub;
	return 0;
}

static void check_payload(struct load_receiver *r, struct load_worker *w,
			  const struct known_sender *k, const uint8_t *pt,
			  size_t len)
{
	struct payload_hdr h;
	enum kc_ledger_verdict v;
	uint64_t now = kc_mono_ns();

	if (len != r->o->size || !payload_read(pt, len, &h) ||
	    h.stream != k->stream) {
		worker_error(w, "bad-payload");
		return;
	}
	v = kc_ledger_delivered(w->run->ledger, h.stream, h.seq);
	if (v == KC_LEDGER_DUPLICATE)
		worker_error(w, "duplicate");
	else if (v != KC_LEDGER_OK && v != KC_LEDGER_LATE)
		worker_error(w, kc_ledger_verdict_text(v));
	if (v == KC_LEDGER_DUPLICATE || v == KC_LEDGER_BAD_STREAM)
		return;
	atomic_fetch_add(&w->live.delivered, 1);
	if (run_in_window(w->run, now))
		w->delivered++;
	if (run_in_window(w->run, h.t0_ns) && now >= h.t0_ns)
		kc_hist_record(&w->deliver_latency, now - h.t0_ns);
}

/* The payload check, unless KC_LOAD_FAULTS says to skip or repeat it. */
static void check_with_faults(struct load_receiver *r, struct load_worker *w,
			      const struct known_sender *k, const uint8_t *pt,
			      size_t len)
{
	r->messages++;
	if (r->messages == r->o->fault_drop)
		return;
	check_payload(r, w, k, pt, len);
	if (r->messages == r->o->fault_dup)
		check_payload(r, w, k, pt, len);
}

static void open_delivery(struct load_receiver *r, struct load_worker *w,
			  const struct kc_deliver *d)
{
	const struct known_sender *k = find_sender(r, d->from);
	uint8_t *pt = NULL;
	size_t len = 0;
	int res;

	if (!k) {
		worker_error(w, "unknown-sender");
		return;
	}
	if (kc_e2e_seen(r->e2e, d->from, d->msg_id)) {
		worker_error(w, "duplicate");
		return;
	}
	res = kc_e2e_open(r->e2e, d->from, d->inner.p, d->inner.len,
			  sender_key, r, &pt, &len);
	if (res == KC_E2E_MESSAGE)
		check_with_faults(r, w, k, pt, len);
	else if (res != KC_E2E_SESSION_OPENED)
		worker_error(w, res < 0 ? "local" : kc_e2e_result_text(res));
	if (res >= 0)
		kc_e2e_remember(r->e2e, d->from, d->msg_id);
	if (pt) {
		explicit_bzero(pt, len);
		free(pt);
	}
}

static int answer_deliveries(struct load_receiver *r, struct load_worker *w)
{
	struct kc_frame f = { .type = KC_T_DELIVERED };
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < r->n_acks; i++) {
		f.u.delivered.msg_id = r->acks[i];
		ret = kc_client_send(r->conn, &f);
		if (!ret)
			atomic_fetch_add(&w->live.answered, 1);
	}
	r->n_acks = 0;
	return ret;
}

static void kill_receiver(struct load_receiver *r, struct load_worker *w,
			  int err)
{
	r->dead = true;
	worker_error(w, err == -ETIMEDOUT ? "timeout" : "tls");
}

static void take_deliver(struct load_receiver *r, struct load_worker *w,
			 const struct kc_deliver *d)
{
	size_t cap = (size_t)r->n_senders * (2 * r->o->window + 2);

	open_delivery(r, w, d);
	if (r->n_acks == cap && answer_deliveries(r, w))
		kill_receiver(r, w, -EIO);
	memcpy(r->acks[r->n_acks++], d->msg_id, KC_MSGID_LEN);
}

void receiver_read(struct load_receiver *r, struct load_worker *w)
{
	struct kc_frame f;
	int ret;

	do {
		ret = kc_client_next_frame(r->conn, r->o->timeout_ms, &f);
		if (ret) {
			kill_receiver(r, w, ret);
			return;
		}
		if (f.type == KC_T_DELIVER)
			take_deliver(r, w, &f.u.deliver);
		else if (f.type != KC_T_RECEIPT)
			worker_error(w, "protocol");
	} while (!r->dead && kc_client_event_ready(r->conn));
	if (!r->dead && answer_deliveries(r, w))
		kill_receiver(r, w, -EIO);
}
