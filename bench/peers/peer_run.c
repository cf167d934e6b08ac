// SPDX-License-Identifier: GPL-2.0-only
/*
 * One load run against a broker (peer_run.h): windows, pacing, the
 * measured interval, the drain and the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "peer_run.h"

#define NSEC_PER_SEC 1000000000ull
/* "KCB1" read as a little-endian u32: marks our payloads. */
#define PEER_MAGIC 0x3142434bu
/* How long in-flight messages get to arrive after the last send. */
#define DRAIN_NS (5 * NSEC_PER_SEC)
/*
 * The pacer's longest sleep while a window is full: the ack that frees it
 * sends what is due, but a later message of that pair is only noticed by
 * the pacer, so it looks again soon.
 */
#define PACER_FULL_SLEEP_NS 200000ull
#define DRAIN_POLL_NS (10 * 1000000ull)
#define PROGRESS_NS NSEC_PER_SEC

static const char *const error_names[PEER_ERR_COUNT] = {
	[PEER_ERR_PUBLISH] = "publish",
	[PEER_ERR_NACK] = "nack",
	[PEER_ERR_STRAY_ACK] = "stray_ack",
	[PEER_ERR_BAD] = "bad_payload",
	[PEER_ERR_DISCONNECT] = "disconnect",
	[PEER_ERR_ASYNC] = "async_error",
	[PEER_ERR_CONSUMER_ACK] = "consumer_ack",
};

struct header {
	uint32_t pair;
	uint64_t seq, t_ns;
};

static void put_le(unsigned char *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void header_put(unsigned char *buf, const struct header *h)
{
	put_le(buf, PEER_MAGIC, 4);
	put_le(buf + 4, h->pair, 4);
	put_le(buf + 8, h->seq, 8);
	put_le(buf + 16, h->t_ns, 8);
}

static int header_get(const void *data, size_t len, struct header *h)
{
	const unsigned char *p = data;

	if (!p || len < PEER_HDR_LEN || get_le(p, 4) != PEER_MAGIC)
		return -EINVAL;
	h->pair = (uint32_t)get_le(p + 4, 4);
	h->seq = get_le(p + 8, 8);
	h->t_ns = get_le(p + 16, 8);
	return 0;
}

uint64_t peer_payload_seq(const void *data, size_t len)
{
	struct header h;

	return header_get(data, len, &h) ? 0 : h.seq;
}

void peer_error(struct peer_run *run, enum peer_error e)
{
	__atomic_fetch_add(&run->errors[e], 1, __ATOMIC_RELAXED);
}

static bool open_loop(const struct peer_run *run)
{
	return run->opts->rate > 0;
}

static bool in_interval(const struct peer_run *run, uint64_t t)
{
	return t >= run->m_start && t < run->m_end;
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

uint64_t peer_sender_next_due(const struct peer_sender *s)
{
	return open_loop(s->run) ? intended_ns(s, s->next_seq) : 0;
}

bool peer_sender_finished(const struct peer_sender *s)
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

/* The slot is written before the send: its ack may race the return. */
static int send_one(struct peer_sender *s, uint64_t t)
{
	struct peer_run *run = s->run;
	struct peer_slot *slot = &s->ring[s->next_seq % run->opts->window];
	struct header h = { .pair = s->pair, .seq = s->next_seq, .t_ns = t };
	uint32_t key = 0;

	header_put(s->buf, &h);
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

	if (!__atomic_load_n(&run->started, __ATOMIC_ACQUIRE))
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
	if (!s->run->self_paced)
		peer_sender_pump(s);
}

void peer_sender_acked_key(struct peer_sender *s, uint32_t key)
{
	unsigned int w = s->run->opts->window;
	uint64_t now = kc_mono_ns(), seq;

	pthread_mutex_lock(&s->lock);
	/* Acks nearly always come in order: the first look usually hits. */
	for (seq = s->base; seq < s->next_seq; seq++)
		if (!s->ring[seq % w].acked && s->ring[seq % w].key == key)
			break;
	if (seq < s->next_seq)
		mark_acked(s, seq, now);
	else
		peer_error(s->run, PEER_ERR_STRAY_ACK);
	pthread_mutex_unlock(&s->lock);
}

void peer_sender_acked_seq(struct peer_sender *s, uint64_t seq)
{
	unsigned int w = s->run->opts->window;
	uint64_t now = kc_mono_ns();

	pthread_mutex_lock(&s->lock);
	if (seq >= s->base && seq < s->next_seq && !s->ring[seq % w].acked)
		mark_acked(s, seq, now);
	else
		peer_error(s->run, PEER_ERR_STRAY_ACK);
	pthread_mutex_unlock(&s->lock);
}

void peer_sender_fail(struct peer_sender *s, enum peer_error e)
{
	pthread_mutex_lock(&s->lock);
	peer_error(s->run, e);
	s->failed = true;
	pthread_mutex_unlock(&s->lock);
}

void peer_sender_confirmed(struct peer_sender *s, uint64_t seq)
{
	unsigned int w = s->run->opts->window;
	uint64_t q;

	pthread_mutex_lock(&s->lock);
	if (seq >= s->next_seq)
		seq = s->next_seq - 1;
	for (q = s->base; q <= seq; q++)
		s->ring[q % w].acked = true;
	advance(s);
	pthread_mutex_unlock(&s->lock);
}

void peer_deliver(struct peer_receiver *r, const void *data, size_t len)
{
	struct peer_run *run = r->run;
	uint64_t now = kc_mono_ns();
	enum kc_ledger_verdict v;
	struct header h;

	if (len != run->opts->size || header_get(data, len, &h) ||
	    h.pair != r->pair) {
		peer_error(run, PEER_ERR_BAD);
		return;
	}
	v = kc_ledger_delivered(run->ledger, r->pair, h.seq);
	if (v == KC_LEDGER_DUPLICATE || v == KC_LEDGER_BAD_STREAM)
		return;
	__atomic_store_n(&r->delivered, r->delivered + 1, __ATOMIC_RELAXED);
	if (!in_interval(run, h.t_ns))
		return;
	r->delivered_measured++;
	kc_hist_record(&r->deliver_hist, now > h.t_ns ? now - h.t_ns : 0);
}

/* Filler after the header: a pattern, so a payload is never all zeros. */
static void fill_payload(unsigned char *buf, uint64_t size, unsigned int pair)
{
	uint64_t i;

	for (i = PEER_HDR_LEN; i < size; i++)
		buf[i] = (unsigned char)(pair + i);
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
	fill_payload(s->buf, o->size, pair);
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
	run->cpu_self[0] = run->cpu_self[1] = -1.0;
	run->cpu_broker[0] = run->cpu_broker[1] = -1.0;
	run->senders = calloc(o->pairs, sizeof(*run->senders));
	run->receivers = calloc(o->pairs, sizeof(*run->receivers));
	if (!run->senders || !run->receivers)
		return -ENOMEM;
	for (i = 0; i < o->pairs; i++)
		pthread_mutex_init(&run->senders[i].lock, NULL);
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

	if (!run->senders)
		goto receivers;
	for (i = 0; i < run->opts->pairs; i++) {
		free(run->senders[i].ring);
		free(run->senders[i].buf);
		pthread_mutex_destroy(&run->senders[i].lock);
	}
	free(run->senders);
	run->senders = NULL;
receivers:
	free(run->receivers);
	run->receivers = NULL;
	kc_ledger_free(run->ledger);
	run->ledger = NULL;
}

void peer_sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / NSEC_PER_SEC),
		.tv_nsec = (long)(t % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* One pass over the pairs: sends what is due; returns when to look again. */
static uint64_t pace_pass(struct peer_run *run)
{
	uint64_t next = UINT64_MAX, t;
	unsigned int i;

	for (i = 0; i < run->opts->pairs; i++) {
		struct peer_sender *s = &run->senders[i];

		pthread_mutex_lock(&s->lock);
		peer_sender_pump(s);
		if (s->failed)
			t = UINT64_MAX;
		else if (window_full(s))
			t = kc_mono_ns() + PACER_FULL_SLEEP_NS;
		else
			t = intended_ns(s, s->next_seq);
		pthread_mutex_unlock(&s->lock);
		if (t < next)
			next = t;
	}
	return next;
}

static void *pacer_main(void *arg)
{
	struct peer_run *run = arg;
	uint64_t next;

	while (kc_mono_ns() < run->m_end) {
		next = pace_pass(run);
		peer_sleep_until(next < run->m_end ? next : run->m_end);
	}
	return NULL;
}

int peer_run_start(struct peer_run *run)
{
	const struct peer_opts *o = run->opts;
	unsigned int i;
	int err;

	run->t0 = kc_mono_ns();
	run->m_start = run->t0 + (uint64_t)(o->warmup_s * 1e9);
	run->m_end = run->m_start + (uint64_t)(o->duration_s * 1e9);
	if (o->rate > 0)
		run->period_ns = 1e9 * (double)o->pairs / o->rate;
	__atomic_store_n(&run->started, true, __ATOMIC_RELEASE);
	if (run->self_paced)
		return 0;
	if (open_loop(run)) {
		err = pthread_create(&run->pacer, NULL, pacer_main, run);
		if (err)
			return -err;
		run->pacer_running = true;
		return 0;
	}
	for (i = 0; i < o->pairs; i++) {
		pthread_mutex_lock(&run->senders[i].lock);
		peer_sender_pump(&run->senders[i]);
		pthread_mutex_unlock(&run->senders[i].lock);
	}
	return 0;
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

		pthread_mutex_lock(&s->lock);
		t->sent += s->next_seq - 1;
		t->acked += s->base - 1;
		if (!peer_sender_finished(s) || s->base != s->next_seq)
			t->senders_done = false;
		pthread_mutex_unlock(&s->lock);
		t->delivered += __atomic_load_n(&run->receivers[i].delivered,
						__ATOMIC_RELAXED);
	}
	for (i = 0; i < PEER_ERR_COUNT; i++)
		t->errors += __atomic_load_n(&run->errors[i], __ATOMIC_RELAXED);
}

/* Sleeps until deadline; on a terminal, one progress line a second. */
static void wait_until(struct peer_run *run, uint64_t deadline,
		       struct totals *last, uint64_t *last_ns)
{
	struct totals now;
	uint64_t t;

	if (!isatty(STDERR_FILENO)) {
		peer_sleep_until(deadline);
		return;
	}
	while (kc_mono_ns() < deadline) {
		uint64_t next = *last_ns + PROGRESS_NS;

		peer_sleep_until(next < deadline ? next : deadline);
		t = kc_mono_ns();
		if (t < next)
			continue;
		totals(run, &now);
		kc_report_progress(stderr, (double)(t - run->t0) / 1e9,
				   (double)(t - *last_ns) / 1e9,
				   now.sent - last->sent,
				   now.acked - last->acked,
				   now.delivered - last->delivered, now.errors);
		*last = now;
		*last_ns = t;
	}
}

static void sample_cpu(struct peer_run *run, unsigned int i)
{
	run->cpu_self[i] = kc_self_cpu_seconds();
	if (run->opts->broker_pid > 0)
		run->cpu_broker[i] = kc_proc_cpu_seconds(run->opts->broker_pid);
}

/* In-flight messages get DRAIN_NS to be acked and delivered. */
static void drain(struct peer_run *run)
{
	uint64_t deadline = kc_mono_ns() + DRAIN_NS;
	struct totals t;

	for (;;) {
		totals(run, &t);
		if (t.senders_done && t.delivered >= t.sent)
			return;
		if (kc_mono_ns() >= deadline)
			return;
		peer_sleep_until(kc_mono_ns() + DRAIN_POLL_NS);
	}
}

void peer_run_wait(struct peer_run *run)
{
	struct totals last;
	uint64_t last_ns = run->t0;

	memset(&last, 0, sizeof(last));
	wait_until(run, run->m_start, &last, &last_ns);
	sample_cpu(run, 0);
	wait_until(run, run->m_end, &last, &last_ns);
	sample_cpu(run, 1);
	if (run->pacer_running) {
		pthread_join(run->pacer, NULL);
		run->pacer_running = false;
	}
	drain(run);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%-79s\r", "");
}

static double cpu_delta(const double v[2])
{
	return v[0] >= 0 && v[1] >= 0 ? v[1] - v[0] : -1.0;
}

static void fill_shape(struct kc_report *r, const struct peer_run *run)
{
	const struct peer_opts *o = run->opts;

	r->shape.pairs = o->pairs;
	r->shape.fanin = 1;
	r->shape.threads = run->threads;
	r->shape.window = o->window;
	r->shape.size = o->size;
	r->shape.rate = o->rate;
	r->shape.duration_s = o->duration_s;
	r->shape.warmup_s = o->warmup_s;
	r->elapsed_s = (double)(run->m_end - run->m_start) / 1e9;
	r->tool_cpu_s = cpu_delta(run->cpu_self);
	r->agent_cpu_s = cpu_delta(run->cpu_broker);
}

/* Sums the pairs into r; the histograms go to ack and deliver. */
static void fill_counts(struct kc_report *r, const struct peer_run *run,
			struct kc_hist *ack, struct kc_hist *deliver,
			uint64_t *unacked)
{
	unsigned int i;

	*unacked = 0;
	for (i = 0; i < run->opts->pairs; i++) {
		const struct peer_sender *s = &run->senders[i];
		const struct peer_receiver *rc = &run->receivers[i];

		r->sent += s->sent_measured;
		r->acked += s->acked_measured;
		r->delivered += rc->delivered_measured;
		*unacked += s->next_seq - s->base;
		kc_hist_merge(ack, &s->ack_hist);
		kc_hist_merge(deliver, &rc->deliver_hist);
	}
}

/* Driver errors, then the ledger's verdicts, always listed (0 included). */
static void fill_errors(struct kc_report *r, const struct peer_run *run,
			uint64_t unacked)
{
	struct kc_ledger_totals lt;
	unsigned int i;

	for (i = 0; i < PEER_ERR_COUNT; i++)
		if (run->errors[i])
			kc_report_error_add(r, error_names[i], run->errors[i]);
	if (unacked)
		kc_report_error_add(r, "unacked", unacked);
	kc_ledger_totals(run->ledger, &lt);
	kc_report_error_add(r, "lost", lt.lost);
	kc_report_error_add(r, "duplicate", lt.duplicate);
	kc_report_error_add(r, "out_of_order", lt.out_of_order);
	if (lt.bad)
		kc_report_error_add(r, "bad_sequence", lt.bad);
}

static int emit(const struct kc_report *r, bool json)
{
	json_t *j;

	if (!json) {
		kc_report_print(stdout, r);
		return 0;
	}
	j = kc_report_json(r);
	if (!j)
		return -ENOMEM;
	json_dumpf(j, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(j);
	return 0;
}

int peer_run_report(struct peer_run *run, const char *tool, const char *target,
		    const char *durability, bool has_ack)
{
	struct kc_hist *ack = malloc(sizeof(*ack));
	struct kc_hist *deliver = malloc(sizeof(*deliver));
	struct kc_report r;
	uint64_t unacked;
	int status = 1;

	if (!ack || !deliver)
		goto out;
	kc_hist_init(ack);
	kc_hist_init(deliver);
	kc_report_init(&r, tool, target);
	r.durability = durability;
	fill_shape(&r, run);
	fill_counts(&r, run, ack, deliver, &unacked);
	if (has_ack) {
		r.ack_latency = ack;
	} else {
		/* A flush is not an ack: no ack count, no ack latency. */
		r.acked = 0;
		unacked = 0;
	}
	r.deliver_latency = deliver;
	fill_errors(&r, run, unacked);
	if (emit(&r, run->opts->json))
		goto out;
	status = kc_report_error_total(&r) ? 3 : 0;
out:
	free(ack);
	free(deliver);
	return status;
}
