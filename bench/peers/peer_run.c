// SPDX-License-Identifier: GPL-2.0-only
/*
 * One load run against a broker (peer_run.h): windows, pacing, the
 * measured interval and the drain, stepped by the driver's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_run.h"

#define NSEC_PER_SEC 1000000000ull
/* How long in-flight messages get to arrive after the last send. */
#define DRAIN_NS (5 * NSEC_PER_SEC)
/* During the drain the loop looks at least this often whether it is over. */
#define DRAIN_POLL_NS (10 * 1000000ull)
#define PROGRESS_NS NSEC_PER_SEC
#define NEVER UINT64_MAX

void peer_error(struct peer_run *run, enum peer_error e)
{
	__atomic_fetch_add(&run->errors[e], 1, __ATOMIC_RELAXED);
}

uint64_t peer_payload_seq(const void *data, size_t len)
{
	struct peer_header h;

	return peer_header_get(data, len, &h) ? 0 : h.seq;
}

static bool open_loop(const struct peer_run *run)
{
	return run->opts->rate > 0;
}

static bool in_interval(const struct peer_run *run, uint64_t t)
{
	return t >= run->m_start && t < run->m_end;
}

static bool sending(const struct peer_run *run)
{
	return run->phase == PEER_PHASE_WARMUP ||
	       run->phase == PEER_PHASE_MEASURE;
}

/*
 * Open loop: pair p sends message seq at t0 + (seq - 1 + p / pairs) *
 * period, so the pairs' sends interleave evenly instead of in bursts.
 */
static uint64_t intended_ns(const struct peer_sender *s, uint64_t seq)
{
	const struct peer_run *run = s->run;
	double phase = (double)s->pair / (double)run->opts->pairs;

	return run->t0 +
	       (uint64_t)(((double)(seq - 1) + phase) * run->period_ns);
}

/* No message of s will ever be due again. */
static bool sender_finished(const struct peer_sender *s)
{
	if (s->failed)
		return true;
	if (open_loop(s->run))
		return intended_ns(s, s->next_seq) >= s->run->m_end;
	return kc_mono_ns() >= s->run->m_end;
}

static bool window_full(const struct peer_sender *s)
{
	return s->next_seq - s->base >= s->run->opts->window;
}

/* The slot is written before the send: its ack may come with the return. */
static int send_one(struct peer_sender *s, uint64_t t)
{
	struct peer_run *run = s->run;
	struct peer_slot *slot = &s->ring[s->next_seq % run->opts->window];
	struct peer_header h = { .pair = s->pair,
				 .seq = s->next_seq,
				 .t_ns = t };
	uint32_t key = 0;

	peer_header_put(s->buf, &h);
	slot->t_ns = t;
	slot->key = 0;
	slot->acked = false;
	if (run->send(s, s->buf, run->opts->size, &key)) {
		peer_error(run, PEER_ERR_PUBLISH);
		s->failed = true;
		return -EIO;
	}
	slot->key = key;
	if (in_interval(run, t))
		s->sent_measured++;
	s->next_seq++;
	return 0;
}

unsigned int peer_sender_pump(struct peer_sender *s)
{
	struct peer_run *run = s->run;
	unsigned int n = 0;
	uint64_t now, t;

	if (!sending(run))
		return 0;
	while (!s->failed && !window_full(s)) {
		now = kc_mono_ns();
		t = open_loop(run) ? intended_ns(s, s->next_seq) : now;
		if (t > now || t >= run->m_end)
			break;
		if (send_one(s, t))
			break;
		n++;
	}
	return n;
}

/* Acks may come out of order; the ledger hears the contiguous prefix. */
static void advance(struct peer_sender *s)
{
	unsigned int w = s->run->opts->window;
	uint64_t old = s->base;

	while (s->base < s->next_seq && s->ring[s->base % w].acked)
		s->base++;
	if (s->base != old)
		kc_ledger_acked(s->run->ledger, s->pair, s->base - 1);
}

static void mark_acked(struct peer_sender *s, uint64_t seq, uint64_t now)
{
	struct peer_slot *slot = &s->ring[seq % s->run->opts->window];

	slot->acked = true;
	if (in_interval(s->run, slot->t_ns)) {
		s->acked_measured++;
		kc_hist_record(&s->ack_hist,
			       now > slot->t_ns ? now - slot->t_ns : 0);
	}
	advance(s);
	peer_sender_pump(s);
}

void peer_sender_acked_key(struct peer_sender *s, uint32_t key)
{
	unsigned int w = s->run->opts->window;
	uint64_t now = kc_mono_ns(), seq;

	/* Acks nearly always come in order: the first look usually hits. */
	for (seq = s->base; seq < s->next_seq; seq++)
		if (!s->ring[seq % w].acked && s->ring[seq % w].key == key)
			break;
	if (seq < s->next_seq)
		mark_acked(s, seq, now);
	else
		peer_error(s->run, PEER_ERR_STRAY_ACK);
}

void peer_sender_acked_seq(struct peer_sender *s, uint64_t seq)
{
	unsigned int w = s->run->opts->window;

	if (seq >= s->base && seq < s->next_seq && !s->ring[seq % w].acked)
		mark_acked(s, seq, kc_mono_ns());
	else
		peer_error(s->run, PEER_ERR_STRAY_ACK);
}

void peer_sender_fail(struct peer_sender *s, enum peer_error e)
{
	peer_error(s->run, e);
	s->failed = true;
}

void peer_sender_confirmed(struct peer_sender *s, uint64_t seq)
{
	unsigned int w = s->run->opts->window;
	uint64_t q;

	if (seq >= s->next_seq)
		seq = s->next_seq - 1;
	for (q = s->base; q <= seq; q++)
		s->ring[q % w].acked = true;
	advance(s);
	peer_sender_pump(s);
}

uint64_t peer_deliver(struct peer_receiver *r, const void *data, size_t len)
{
	struct peer_run *run = r->run;
	uint64_t now = kc_mono_ns();
	enum kc_ledger_verdict v;
	struct peer_header h;

	if (len != run->opts->size || peer_header_get(data, len, &h) ||
	    h.pair != r->pair) {
		peer_error(run, PEER_ERR_BAD);
		return 0;
	}
	v = kc_ledger_delivered(run->ledger, r->pair, h.seq);
	if (v == KC_LEDGER_DUPLICATE || v == KC_LEDGER_BAD_STREAM)
		return h.seq;
	r->delivered++;
	if (!in_interval(run, h.t_ns))
		return h.seq;
	r->delivered_measured++;
	kc_hist_record(&r->deliver_hist, now > h.t_ns ? now - h.t_ns : 0);
	return h.seq;
}

static int sender_init(struct peer_sender *s, struct peer_run *run,
		       unsigned int pair, const char *fmt)
{
	const struct peer_opts *o = run->opts;

	s->run = run;
	s->pair = pair;
	s->next_seq = s->base = 1;
	snprintf(s->subject, sizeof(s->subject), fmt, pair);
	kc_hist_init(&s->ack_hist);
	s->ring = calloc(o->window, sizeof(*s->ring));
	s->buf = malloc(o->size);
	if (!s->ring || !s->buf)
		return -ENOMEM;
	peer_payload_fill(s->buf, o->size, pair);
	return 0;
}

int peer_run_init(struct peer_run *run, const struct peer_opts *o,
		  peer_send_fn send, const char *subject_fmt)
{
	unsigned int i;
	int err;

	memset(run, 0, sizeof(*run));
	run->opts = o;
	run->send = send;
	run->threads = 1;
	run->cpu_self[0] = run->cpu_self[1] = -1.0;
	run->cpu_broker[0] = run->cpu_broker[1] = -1.0;
	run->senders = calloc(o->pairs, sizeof(*run->senders));
	run->receivers = calloc(o->pairs, sizeof(*run->receivers));
	if (!run->senders || !run->receivers)
		return -ENOMEM;
	for (i = 0; i < o->pairs; i++) {
		err = sender_init(&run->senders[i], run, i, subject_fmt);
		if (err)
			return err;
		run->receivers[i].run = run;
		run->receivers[i].pair = i;
		snprintf(run->receivers[i].subject, PEER_SUBJECT_LEN,
			 subject_fmt, i);
		kc_hist_init(&run->receivers[i].deliver_hist);
	}
	return kc_ledger_create(o->pairs, &run->ledger);
}

void peer_run_free(struct peer_run *run)
{
	unsigned int i;

	for (i = 0; run->senders && i < run->opts->pairs; i++) {
		free(run->senders[i].ring);
		free(run->senders[i].buf);
	}
	free(run->senders);
	free(run->receivers);
	kc_ledger_free(run->ledger);
	memset(run, 0, sizeof(*run));
}

void peer_run_start(struct peer_run *run)
{
	const struct peer_opts *o = run->opts;

	run->t0 = kc_mono_ns();
	run->m_start = run->t0 + (uint64_t)(o->warmup_s * 1e9);
	run->m_end = run->m_start + (uint64_t)(o->duration_s * 1e9);
	run->last_progress = run->t0;
	run->next_progress =
		isatty(STDERR_FILENO) ? run->t0 + PROGRESS_NS : NEVER;
	if (o->rate > 0)
		run->period_ns = 1e9 * (double)o->pairs / o->rate;
	run->phase = PEER_PHASE_WARMUP;
}

struct totals {
	uint64_t sent, acked, delivered, errors;
	bool senders_done;
};

static void totals(struct peer_run *run, struct totals *t)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->senders_done = true;
	for (i = 0; i < run->opts->pairs; i++) {
		struct peer_sender *s = &run->senders[i];

		t->sent += s->next_seq - 1;
		t->acked += s->base - 1;
		if (!sender_finished(s) || s->base != s->next_seq)
			t->senders_done = false;
		t->delivered += run->receivers[i].delivered;
	}
	for (i = 0; i < PEER_ERR_COUNT; i++)
		t->errors += __atomic_load_n(&run->errors[i], __ATOMIC_RELAXED);
}

static bool drained(struct peer_run *run)
{
	struct totals t;

	totals(run, &t);
	return t.senders_done && t.delivered >= t.sent;
}

static void sample_cpu(struct peer_run *run, unsigned int i)
{
	run->cpu_self[i] = kc_self_cpu_seconds();
	if (run->opts->broker_pid > 0)
		run->cpu_broker[i] = kc_proc_cpu_seconds(run->opts->broker_pid);
}

/* On a terminal, one line a second: rates since the last line. */
static void progress(struct peer_run *run, uint64_t now)
{
	struct totals t;

	if (now < run->next_progress)
		return;
	totals(run, &t);
	kc_report_progress(stderr, (double)(now - run->t0) / 1e9,
			   (double)(now - run->last_progress) / 1e9,
			   t.sent - run->last_counts[0],
			   t.acked - run->last_counts[1],
			   t.delivered - run->last_counts[2], t.errors);
	run->last_counts[0] = t.sent;
	run->last_counts[1] = t.acked;
	run->last_counts[2] = t.delivered;
	run->last_progress = now;
	run->next_progress = now + PROGRESS_NS;
}

/* The phase edges: CPU is read exactly where the interval begins and ends. */
static void advance_phase(struct peer_run *run, uint64_t now)
{
	if (run->phase == PEER_PHASE_WARMUP && now >= run->m_start) {
		sample_cpu(run, 0);
		run->phase = PEER_PHASE_MEASURE;
	}
	if (run->phase == PEER_PHASE_MEASURE && now >= run->m_end) {
		sample_cpu(run, 1);
		run->phase = PEER_PHASE_DRAIN;
		run->drain_end = now + DRAIN_NS;
	}
	if (run->phase == PEER_PHASE_DRAIN &&
	    (now >= run->drain_end || drained(run))) {
		run->phase = PEER_PHASE_DONE;
		if (run->next_progress != NEVER)
			fprintf(stderr, "%-79s\r", "");
	}
}

/* Sends what is due; returns when the next open-loop send is due. */
static uint64_t pump_all(struct peer_run *run)
{
	uint64_t next = NEVER, due;
	unsigned int i;

	for (i = 0; i < run->opts->pairs; i++) {
		struct peer_sender *s = &run->senders[i];

		peer_sender_pump(s);
		/* A full window is refilled by the ack that frees it. */
		if (!open_loop(run) || s->failed || window_full(s))
			continue;
		due = intended_ns(s, s->next_seq);
		if (due < next)
			next = due;
	}
	return next;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t peer_run_step(struct peer_run *run)
{
	uint64_t now = kc_mono_ns(), next = NEVER;

	if (run->phase == PEER_PHASE_SETUP || run->phase == PEER_PHASE_DONE)
		return now + PROGRESS_NS;
	advance_phase(run, now);
	progress(run, now);
	if (sending(run))
		next = pump_all(run);
	switch (run->phase) {
	case PEER_PHASE_WARMUP:
		next = earliest(next, run->m_start);
		break;
	case PEER_PHASE_MEASURE:
		next = earliest(next, run->m_end);
		break;
	case PEER_PHASE_DRAIN:
		next = earliest(run->drain_end, now + DRAIN_POLL_NS);
		break;
	default:
		next = now;
		break;
	}
	return earliest(next, run->next_progress);
}
