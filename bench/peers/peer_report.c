// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report of a driver's run (peer_report.h): the pairs summed into one
 * kc_report, the errors, and the output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "peer_report.h"

static const char *const error_names[PEER_ERR_COUNT] = {
	[PEER_ERR_PUBLISH] = "publish",
	[PEER_ERR_NACK] = "nack",
	[PEER_ERR_STRAY_ACK] = "stray_ack",
	[PEER_ERR_BAD] = "bad_payload",
	[PEER_ERR_DISCONNECT] = "disconnect",
	[PEER_ERR_ASYNC] = "async_error",
	[PEER_ERR_CONSUMER_ACK] = "consumer_ack",
};

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
