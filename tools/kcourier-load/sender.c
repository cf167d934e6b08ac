// SPDX-License-Identifier: GPL-2.0-only
/*
 * One sender: a client of its own that seals every message end to end for
 * its receiver (a SESSION_INIT first, and again on rotation, exactly as
 * `kcourier send` does through lib/e2e.c) and then to the agent (lib/outer.c),
 * keeping up to --window SENDs in flight and matching their ACKs in order.
 *
 * In flight is a ring of what was sent, oldest first: the agent answers
 * SENDs in order, so each ACK belongs to the head. SESSION_INITs travel in
 * the ring too (their ACKs come in the same order, and they go with
 * NO_RECEIPT) but are not messages of the run: they are neither counted
 * nor timed.
 *
 * Message counters come from the client's cache directory as for
 * `kcourier send` (lib/client/counter.h), under the same out-state lock,
 * held for the whole run: a second run on the same cache is refused
 * rather than allowed to hand out the same counters. --window keeps the
 * counters in flight far below KC_COUNTER_SPAN; may_send() checks anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "crypto/certcheck.h"
#include "client/client.h"
#include "client/counter.h"
#include "crypto/crypto.h"
#include "client/e2e.h"
#include "client/outer.h"
#include "payload.h"
#include "client/peer.h"
#include "run.h"
#include "base/status.h"

struct inflight {
	uint64_t outer_seq;
	uint64_t counter;
	uint64_t app_seq; /* 0 for a SESSION_INIT */
	uint64_t t0_ns;	  /* (intended) send time */
	uint64_t sent_ns; /* when it really went out, for the timeout */
};

struct load_sender {
	const struct load_opts *o;
	unsigned int stream;
	char to[KC_CLIENT_ID_MAX + 1];
	struct kc_client *conn;
	struct kc_crypto *crypto;
	struct kc_e2e *e2e;
	struct kc_outer outer;
	const char *home_dir; /* the identity's, in the cache */
	int lock_fd;	      /* its out-state lock, over its counter */
	struct kc_counter counter;
	struct kc_peer peer; /* the receiver's checked keys */
	EVP_PKEY *seal_pub;
	struct inflight *ring;
	size_t ring_cap, head, len;
	unsigned int app_inflight;
	uint64_t next_app_seq;
	uint64_t next_due_ns; /* open loop */
	uint8_t *payload;
	bool dead;
	const char *local_error; /* a failure that is not the transport's */
};

struct kc_client *sender_conn(const struct load_sender *s)
{
	return s->dead ? NULL : s->conn;
}

/* The receiver's keys as the agent serves them, checked as send does. */
static int lookup_receiver(struct load_sender *s,
			   const struct load_identity *me)
{
	int ret = kc_peer_lookup(s->conn, s->to, &s->peer);

	if (ret) {
		load_err("%s: LOOKUP %s: %s", me->id, s->to,
			 kc_client_error(s->conn));
		return ret;
	}
	ret = kc_peer_verify(&s->peer, (struct kc_bytes){ me->ca, me->ca_len });
	if (ret)
		load_err("%s: keys of %s rejected: %s", me->id, s->to,
			 s->peer.why);
	return ret;
}

static int open_agent_session(struct load_sender *s, const char *me)
{
	int ret = kc_outer_open(s->conn, s->crypto, s->seal_pub, &s->outer);

	if (ret)
		load_err("%s: OPEN_SESSION: %s", me, kc_client_error(s->conn));
	return ret;
}

static int open_counter(struct load_sender *s, const struct load_identity *me)
{
	int ret = kc_home_trylock(&me->home, KC_HOME_STATE_OUT, &s->lock_fd);

	s->home_dir = me->home.dir;
	if (ret == -EWOULDBLOCK) {
		load_err("%s: in use by another run (give each a --cache)",
			 me->home.dir);
		return ret;
	}
	if (!ret)
		ret = kc_counter_open(&s->counter, &me->home);
	if (ret)
		load_err("%s/%s: %s", me->home.dir, KC_HOME_COUNTER,
			 strerror(-ret));
	return ret;
}

static int setup(struct load_sender *s, const struct load_identity *me)
{
	int ret;

	ret = open_counter(s, me);
	if (ret)
		return ret;
	ret = identity_connect(s->o, me, &s->conn);
	if (ret) {
		load_err("%s: cannot connect to %s: %s", me->id, s->o->agent,
			 kc_tls_client_strerror());
		return ret;
	}
	ret = lookup_receiver(s, me);
	if (!ret)
		ret = kc_cert_public_key((struct kc_bytes){ me->seal,
							    me->seal_len },
					 &s->seal_pub);
	if (!ret)
		ret = kc_crypto_open("user", &s->crypto);
	if (!ret)
		ret = kc_e2e_create(s->crypto, me->id, me->id_key, me->enc_key,
				    &s->e2e);
	if (!ret)
		ret = open_agent_session(s, me->id);
	return ret;
}

int sender_create(const struct load_opts *o, const struct load_identity *me,
		  const struct load_identity *to, unsigned int stream,
		  struct load_sender **out)
{
	struct load_sender *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->o = o;
	s->stream = stream;
	s->lock_fd = -1;
	s->counter = KC_COUNTER_CLOSED;
	s->next_app_seq = 1;
	snprintf(s->to, sizeof(s->to), "%s", to->id);
	/* Room for the window plus the SESSION_INITs among it. */
	s->ring_cap = 2 * (size_t)o->window + 2;
	s->ring = calloc(s->ring_cap, sizeof(*s->ring));
	s->payload = malloc(o->size);
	if (!s->ring || !s->payload || setup(s, me)) {
		sender_free(s);
		return -1;
	}
	kc_random(s->payload, o->size);
	*out = s;
	return 0;
}

void sender_free(struct load_sender *s)
{
	if (!s)
		return;
	kc_outer_close(&s->outer);
	kc_e2e_free(s->e2e);
	kc_crypto_close(s->crypto);
	kc_client_close(s->conn);
	kc_peer_clear(&s->peer);
	kc_counter_close(&s->counter);
	kc_home_unlock(s->lock_fd);
	EVP_PKEY_free(s->seal_pub);
	free(s->ring);
	free(s->payload);
	free(s);
}

/* Sending. */

static void kill_sender(struct load_sender *s, struct load_worker *w,
			const char *kind)
{
	s->dead = true;
	worker_error(w, kind);
	atomic_fetch_sub(&w->live.inflight, (int64_t)s->app_inflight);
	s->app_inflight = 0;
}

static const char *transport_kind(int err)
{
	return err == -ETIMEDOUT ? "timeout" :
	       err == -EREMOTEIO ? "agent-error" :
	       err == -EPROTO	 ? "protocol" :
				   "tls";
}

static int send_inner(struct load_sender *s, uint8_t *inner, size_t len,
		      struct inflight *slot)
{
	uint8_t msg_id[KC_MSGID_LEN];
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)s->to, strlen(s->to) },
		.msg_id = msg_id,
		.flags = slot->app_seq ? 0 : KC_SEND_NO_RECEIPT,
		.inner = { inner, len },
	};
	int ret;

	kc_random(msg_id, sizeof(msg_id));
	ret = kc_counter_take(&s->counter, &sp.counter);
	if (ret) {
		load_err("%s/%s: %s", s->home_dir, KC_HOME_COUNTER,
			 strerror(-ret));
		s->local_error = "counter";
	} else {
		ret = kc_outer_send(s->conn, &s->outer, &sp,
				    &slot->outer_seq);
	}
	slot->counter = sp.counter;
	explicit_bzero(inner, len);
	free(inner);
	if (ret)
		return ret;
	s->len++;
	return 0;
}

static struct inflight *ring_tail(struct load_sender *s)
{
	return &s->ring[(s->head + s->len) % s->ring_cap];
}

static int send_session_init(struct load_sender *s)
{
	struct inflight *slot = ring_tail(s);
	uint8_t *init = NULL;
	size_t len = 0;
	int ret;

	ret = kc_e2e_start(s->e2e, s->to, s->peer.enc_pub, kc_wall_ms(), &init,
			   &len);
	if (ret)
		return ret;
	*slot = (struct inflight){ .app_seq = 0, .sent_ns = kc_mono_ns() };
	return send_inner(s, init, len, slot);
}

static int send_message(struct load_sender *s, uint64_t t0)
{
	struct payload_hdr h = { s->stream, s->next_app_seq, t0 };
	struct inflight *slot;
	uint8_t *inner = NULL;
	size_t len = 0;
	int ret;

	if (kc_e2e_needs_init(s->e2e, s->to, kc_wall_ms())) {
		ret = send_session_init(s);
		if (ret)
			return ret;
	}
	payload_write(s->payload, &h);
	ret = kc_e2e_seal(s->e2e, s->to, s->payload, s->o->size, &inner, &len);
	if (ret)
		return ret;
	slot = ring_tail(s);
	*slot = (struct inflight){ .app_seq = h.seq, .t0_ns = t0,
				   .sent_ns = kc_mono_ns() };
	ret = send_inner(s, inner, len, slot);
	if (!ret)
		s->next_app_seq++;
	return ret;
}

/*
 * Room for two more counters (a SESSION_INIT may go first) within the
 * span the protocol allows above the oldest unacknowledged one.
 */
static bool counters_in_span(const struct load_sender *s)
{
	return !s->len || kc_counter_in_span(s->ring[s->head].counter,
					     s->counter.next + 1);
}

/* The agent session is renewed only with nothing in flight on it. */
static bool may_send(struct load_sender *s, struct load_worker *w)
{
	if (s->app_inflight >= s->o->window || !counters_in_span(s))
		return false;
	if (!kc_outer_expiring(&s->outer))
		return true;
	if (s->len)
		return false;
	kc_outer_close(&s->outer);
	if (!open_agent_session(s, "sender"))
		return true;
	kill_sender(s, w, "session");
	return false;
}

static void count_sent(struct load_sender *s, struct load_worker *w,
		       uint64_t t0)
{
	s->app_inflight++;
	atomic_fetch_add(&w->live.sent, 1);
	atomic_fetch_add(&w->live.inflight, 1);
	if (run_in_window(w->run, t0))
		w->sent++;
}

void sender_pump(struct load_sender *s, struct load_worker *w, uint64_t now)
{
	uint64_t interval = w->run->interval_ns, t0;
	int ret;

	if (!s->next_due_ns)
		s->next_due_ns = w->run->t_start +
				 interval * s->stream / load_senders(s->o);
	while (!s->dead && may_send(s, w)) {
		if (interval && now < s->next_due_ns)
			return;
		t0 = interval ? s->next_due_ns : now;
		ret = send_message(s, t0);
		if (ret) {
			kill_sender(s, w,
				    s->local_error ? s->local_error :
						     transport_kind(ret));
			return;
		}
		count_sent(s, w, t0);
		s->next_due_ns += interval;
		now = interval ? now : kc_mono_ns();
	}
}

uint64_t sender_next_due(const struct load_sender *s)
{
	return s->dead ? 0 : s->next_due_ns;
}

/* Receiving. */

static void nack(struct load_sender *s, struct load_worker *w, uint16_t code)
{
	char name[KC_REPORT_ERROR_NAME];

	snprintf(name, sizeof(name), "nack:%s", kc_status_name(code));
	worker_error(w, name);
}

static void take_ack(struct load_sender *s, struct load_worker *w,
		     const struct kc_frame *f)
{
	struct inflight *head = &s->ring[s->head];
	uint64_t now = kc_mono_ns();
	uint16_t status;

	if (!s->len || kc_outer_match_ack(&s->outer, f, head->outer_seq,
					  &status)) {
		kill_sender(s, w, "protocol");
		return;
	}
	s->head = (s->head + 1) % s->ring_cap;
	s->len--;
	if (status != KC_OK)
		nack(s, w, status);
	if (!head->app_seq)
		return;
	s->app_inflight--;
	atomic_fetch_sub(&w->live.inflight, 1);
	if (status != KC_OK)
		return;
	kc_ledger_acked(w->run->ledger, s->stream, head->app_seq);
	atomic_fetch_add(&w->live.acked, 1);
	if (run_in_window(w->run, now))
		w->acked++;
	if (run_in_window(w->run, head->t0_ns))
		kc_hist_record(&w->ack_latency, now - head->t0_ns);
}

void sender_read(struct load_sender *s, struct load_worker *w)
{
	struct kc_frame f;
	int ret;

	do {
		ret = kc_client_next_frame(s->conn, s->o->timeout_ms, &f);
		if (ret) {
			kill_sender(s, w, transport_kind(ret));
			return;
		}
		/* RECEIPTs for our messages: the receivers check delivery. */
		if (f.type == KC_T_ACK)
			take_ack(s, w, &f);
		else if (f.type == KC_T_RECEIPT)
			atomic_fetch_add(&w->live.receipts, 1);
		else
			kill_sender(s, w, "protocol");
	} while (!s->dead && kc_client_event_ready(s->conn));
}

void sender_check_timeout(struct load_sender *s, struct load_worker *w,
			  uint64_t now)
{
	const struct inflight *head = &s->ring[s->head];
	uint64_t limit = (uint64_t)s->o->timeout_ms * 1000000;

	if (!s->dead && s->len && now > head->sent_ns &&
	    now - head->sent_ns > limit)
		kill_sender(s, w, "timeout");
}
