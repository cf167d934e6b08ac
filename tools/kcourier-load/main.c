// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-load: a load generator for a kcourier agent. See load.h for
 * the shape of a run, run.h for its phases, and --help for the options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/e2e.h"
#include "identity.h"
#include "report.h"
#include "run.h"
#include "idle.h"
#include "storm.h"
#include "target.h"

#define DURABILITY                                                         \
	"ACK after the message is in the message log and fdatasync'ed "   \
	"(one write and sync per round of every worker's messages); the " \
	"agent holds every ACK until its round is durable"

struct load {
	struct load_opts o;
	struct load_identity *ids;
	size_t n_ids;
	struct load_run run;
	struct load_sender **senders;
	struct load_receiver **receivers;
	struct load_worker *workers;
	struct kc_hist ack, deliver, connect;
	struct kc_report report;
};

void load_cpu_sample(const struct load_opts *o, struct load_cpu *c)
{
	c->tool = kc_self_cpu_seconds();
	c->agent = o->agent_pid ? kc_proc_cpu_seconds(o->agent_pid) : -1;
}

void load_cpu_since(const struct load_opts *o, const struct load_cpu *c0,
		    struct kc_report *r)
{
	struct load_cpu c1;

	load_cpu_sample(o, &c1);
	r->tool_cpu_s = c1.tool - c0->tool;
	r->agent_cpu_s = c0->agent < 0 || c1.agent < 0 ? -1 :
							 c1.agent - c0->agent;
}

/* Identities: receivers first, then the senders, fanin per receiver. */
static const struct load_identity *receiver_id(const struct load *l,
					       unsigned int r)
{
	return &l->ids[r];
}

static const struct load_identity *sender_id(const struct load *l,
					     unsigned int s)
{
	return &l->ids[l->o.pairs + s];
}

static int create_parties(struct load *l)
{
	const struct load_opts *o = &l->o;
	unsigned int i, n = load_senders(o);

	l->senders = calloc(n, sizeof(*l->senders));
	l->receivers = calloc(o->pairs, sizeof(*l->receivers));
	if (!l->senders || !l->receivers)
		return -1;
	for (i = 0; i < o->pairs; i++) {
		if (receiver_create(o, receiver_id(l, i), sender_id(l, 0),
				    i * o->fanin, o->fanin, &l->receivers[i]))
			return -1;
	}
	for (i = 0; i < n; i++) {
		if (sender_create(o, sender_id(l, i),
				  receiver_id(l, i / o->fanin), i,
				  &l->senders[i]))
			return -1;
	}
	return 0;
}

/* Round robin, so every thread gets senders and receivers alike. */
static int assign_workers(struct load *l)
{
	const struct load_opts *o = &l->o;
	unsigned int i, t = o->threads, n = load_senders(o);
	struct load_worker *w;

	l->workers = calloc(t, sizeof(*l->workers));
	if (!l->workers)
		return -1;
	for (i = 0; i < t; i++) {
		w = &l->workers[i];
		w->run = &l->run;
		w->senders = calloc(n / t + 1, sizeof(*w->senders));
		w->receivers = calloc(o->pairs / t + 1, sizeof(*w->receivers));
		if (!w->senders || !w->receivers)
			return -1;
		kc_hist_init(&w->ack_latency);
		kc_hist_init(&w->deliver_latency);
		kc_report_init(&w->errors, NULL, NULL);
	}
	for (i = 0; i < n; i++) {
		w = &l->workers[i % t];
		w->senders[w->n_senders++] = l->senders[i];
	}
	for (i = 0; i < o->pairs; i++) {
		w = &l->workers[(i + 1) % t];
		w->receivers[w->n_receivers++] = l->receivers[i];
	}
	return 0;
}

/* v: sent, acked, delivered, errors, answered, receipts. */
#define LIVE_COUNTERS 6

static void sum_live(const struct load *l, uint64_t v[LIVE_COUNTERS],
		     int64_t *inflight)
{
	unsigned int i;

	memset(v, 0, LIVE_COUNTERS * sizeof(*v));
	*inflight = 0;
	for (i = 0; i < l->o.threads; i++) {
		const struct load_counters *c = &l->workers[i].live;

		v[0] += atomic_load(&c->sent);
		v[1] += atomic_load(&c->acked);
		v[2] += atomic_load(&c->delivered);
		v[3] += atomic_load(&c->errors);
		v[4] += atomic_load(&c->answered);
		v[5] += atomic_load(&c->receipts);
		*inflight += atomic_load(&c->inflight);
	}
}

/* Sleeps until t_ns, printing a progress line each second on a TTY. */
static void watch_until(struct load *l, uint64_t t_ns,
			uint64_t last[LIVE_COUNTERS], uint64_t *last_ns)
{
	uint64_t now, next, v[LIVE_COUNTERS];
	int64_t inflight;

	while (kc_mono_ns() < t_ns) {
		next = *last_ns + 1000000000;
		load_sleep_until(next < t_ns ? next : t_ns);
		now = kc_mono_ns();
		if (now < next)
			continue;
		sum_live(l, v, &inflight);
		if (l->o.progress)
			kc_report_progress(stderr, (now - l->run.t_start) / 1e9,
					   (now - *last_ns) / 1e9,
					   v[0] - last[0], v[1] - last[1],
					   v[2] - last[2], v[3]);
		memcpy(last, v, sizeof(v));
		*last_ns = now;
	}
}

/*
 * Done when nothing is in flight, every ACKed message arrived, and every
 * DELIVERED came back as a RECEIPT (so the agent holds nothing of ours).
 */
static bool drained(const struct load *l)
{
	uint64_t v[LIVE_COUNTERS];
	int64_t inflight;

	sum_live(l, v, &inflight);
	return inflight <= 0 && v[2] >= v[1] && v[5] >= v[4];
}

static void drain(struct load *l)
{
	uint64_t deadline = kc_mono_ns() + (uint64_t)(l->o.drain_s * 1e9);

	atomic_store(&l->run.phase, PHASE_DRAINING);
	while (!drained(l) && kc_mono_ns() < deadline)
		load_sleep_until(kc_mono_ns() + 10000000);
	atomic_store(&l->run.phase, PHASE_DONE);
}

static int start_workers(struct load *l)
{
	unsigned int i;

	for (i = 0; i < l->o.threads; i++) {
		if (pthread_create(&l->workers[i].thread, NULL, worker_main,
				   &l->workers[i])) {
			load_err("cannot start worker threads");
			atomic_store(&l->run.phase, PHASE_DONE);
			while (i--)
				pthread_join(l->workers[i].thread, NULL);
			return -1;
		}
	}
	return 0;
}

static void set_clock(struct load *l)
{
	const struct load_opts *o = &l->o;

	l->run.o = o;
	l->run.t_start = kc_mono_ns();
	l->run.t_measure = l->run.t_start + (uint64_t)(o->warmup_s * 1e9);
	l->run.t_stop = l->run.t_measure + (uint64_t)(o->duration_s * 1e9);
	l->run.interval_ns =
		o->rate > 0 ? (uint64_t)(1e9 * load_senders(o) / o->rate) : 0;
	atomic_store(&l->run.phase, PHASE_SENDING);
}

static int run_messages(struct load *l)
{
	uint64_t last[LIVE_COUNTERS] = { 0 }, last_ns;
	struct load_cpu c0;
	unsigned int i;

	if (kc_ledger_create(load_senders(&l->o), &l->run.ledger) ||
	    create_parties(l) || assign_workers(l))
		return -1;
	set_clock(l);
	last_ns = l->run.t_start;
	if (start_workers(l))
		return -1;
	watch_until(l, l->run.t_measure, last, &last_ns);
	load_cpu_sample(&l->o, &c0);
	watch_until(l, l->run.t_stop, last, &last_ns);
	load_cpu_since(&l->o, &c0, &l->report);
	if (l->o.progress)
		fputc('\n', stderr);
	drain(l);
	for (i = 0; i < l->o.threads; i++)
		pthread_join(l->workers[i].thread, NULL);
	return 0;
}

static void merge_worker(struct kc_report *r, const struct load_worker *w)
{
	unsigned int i;

	r->sent += w->sent;
	r->acked += w->acked;
	r->delivered += w->delivered;
	kc_hist_merge(r->ack_latency, &w->ack_latency);
	kc_hist_merge(r->deliver_latency, &w->deliver_latency);
	for (i = 0; i < w->errors.n_errors; i++)
		kc_report_error_add(r, w->errors.errors[i].name,
				    w->errors.errors[i].count);
}

static void fill_report(struct load *l)
{
	struct kc_report *r = &l->report;
	struct kc_ledger_totals t;
	unsigned int i;

	r->elapsed_s = (l->run.t_stop - l->run.t_measure) / 1e9;
	r->ack_latency = &l->ack;
	r->deliver_latency = &l->deliver;
	for (i = 0; i < l->o.threads; i++)
		merge_worker(r, &l->workers[i]);
	kc_ledger_totals(l->run.ledger, &t);
	if (t.lost)
		kc_report_error_add(r, "lost", t.lost);
}

static void describe_shape(struct load *l)
{
	const struct load_opts *o = &l->o;

	l->report.shape = (struct kc_report_shape){
		.pairs = o->pairs,
		.fanin = o->fanin,
		.threads = o->threads,
		.window = o->window,
		.size = o->size,
		.rate = o->rate,
		.duration_s = o->duration_s,
		.warmup_s = o->warmup_s,
		.connect_storm = o->connect_storm,
	};
}

static int output(struct load *l)
{
	json_t *doc;
	char *text;

	if (!l->o.json) {
		kc_report_print(stdout, &l->report);
		return fflush(stdout) ? -1 : 0;
	}
	doc = kc_report_json(&l->report);
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) :
		     NULL;
	json_decref(doc);
	if (!text || printf("%s\n", text) < 0 || fflush(stdout)) {
		free(text);
		load_err("cannot write the report");
		return -1;
	}
	free(text);
	return 0;
}

static void free_all(struct load *l)
{
	unsigned int i;

	for (i = 0; l->workers && i < l->o.threads; i++) {
		free(l->workers[i].senders);
		free(l->workers[i].receivers);
	}
	free(l->workers);
	for (i = 0; l->senders && i < load_senders(&l->o); i++)
		sender_free(l->senders[i]);
	for (i = 0; l->receivers && i < l->o.pairs; i++)
		receiver_free(l->receivers[i]);
	free(l->senders);
	free(l->receivers);
	for (i = 0; l->ids && i < l->n_ids; i++)
		identity_clear(&l->ids[i]);
	free(l->ids);
	kc_ledger_free(l->run.ledger);
}

static int run(struct load *l)
{
	const struct load_opts *o = &l->o;

	/*
	 * The idle connections belong to the client after those a message
	 * run of the same shape uses: one running beside them (make bench's
	 * kc-512-idle) must not have its messages delivered to them too.
	 */
	l->n_ids = o->connect_storm ? 1 : o->pairs + load_senders(o) + !!o->idle;
	l->ids = calloc(l->n_ids, sizeof(*l->ids));
	if (!l->ids || identities_get(o, l->ids, l->n_ids))
		return -1;
	if (o->idle)
		return idle_conns_run(o, &l->ids[l->n_ids - 1]);
	kc_report_init(&l->report, LOAD_NAME, "kcourier");
	l->report.durability = DURABILITY;
	describe_shape(l);
	kc_hist_init(&l->ack);
	kc_hist_init(&l->deliver);
	kc_hist_init(&l->connect);
	if (o->connect_storm) {
		l->report.connect_latency = &l->connect;
		if (storm_run(o, &l->ids[0], &l->report))
			return -1;
	} else {
		if (run_messages(l))
			return -1;
		fill_report(l);
	}
	return output(l);
}

int main(int argc, char **argv)
{
	static struct load l; /* big (histograms): not on the stack */
	int ret;

	ret = load_parse_opts(argc, argv, &l.o);
	if (ret >= 0)
		return ret;
	if (load_resolve_dir(&l.o))
		return 1;
	kc_e2e_json_wipe_on_free();
	ret = run(&l);
	if (ret < 0)
		ret = 1;
	if (!ret && kc_report_error_total(&l.report))
		ret = 3;
	free_all(&l);
	return ret;
}
