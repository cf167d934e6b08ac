// SPDX-License-Identifier: GPL-2.0-only
/*
 * The connection storm; see storm.h. A handshake is counted once the
 * client has finished it. In TLS 1.3 that is before the agent has checked
 * the client certificate, so a storm faster than the agent fills its
 * accept backlog and then runs at the agent's pace: the rate measured over
 * seconds is the agent's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storm.h"
#include "tls/tlsclient.h"

struct storm_worker {
	const struct load_opts *o;
	const struct kc_tls_client_prep *prep;
	uint64_t t_measure, t_stop;
	uint64_t connections;
	struct kc_hist latency;
	struct kc_report errors;
	pthread_t thread;
};

static void one_connection(struct storm_worker *w)
{
	struct kc_tls_client_opts opts = { .prep = w->prep,
					   .timeout_ms = w->o->timeout_ms };
	struct kc_tls_client *c = NULL;
	uint64_t t0 = kc_mono_ns(), t1;
	int ret;

	ret = kc_tls_client_connect_opts(w->o->agent, w->o->pin, &opts, &c);
	t1 = kc_mono_ns();
	kc_tls_client_close(c);
	if (ret) {
		kc_report_error_add(&w->errors,
				    ret == -ETIMEDOUT ? "timeout" :
				    ret == -ECONNREFUSED ? "connect" :
							   "tls",
				    1);
		return;
	}
	if (t1 >= w->t_measure && t1 < w->t_stop) {
		w->connections++;
		kc_hist_record(&w->latency, t1 - t0);
	}
}

static void *storm_main(void *arg)
{
	struct storm_worker *w = arg;

	while (kc_mono_ns() < w->t_stop)
		one_connection(w);
	return NULL;
}

static void merge(struct kc_report *r, struct storm_worker *w)
{
	unsigned int i;

	r->connections += w->connections;
	kc_hist_merge(r->connect_latency, &w->latency);
	for (i = 0; i < w->errors.n_errors; i++)
		kc_report_error_add(r, w->errors.errors[i].name,
				    w->errors.errors[i].count);
}

static int run_threads(const struct load_opts *o,
		       const struct kc_tls_client_prep *prep,
		       struct kc_report *r)
{
	struct storm_worker *w = calloc(o->threads, sizeof(*w));
	uint64_t start = kc_mono_ns();
	unsigned int i, started = 0;
	struct load_cpu c0;

	if (!w)
		return -ENOMEM;
	for (i = 0; i < o->threads; i++) {
		w[i].o = o;
		w[i].prep = prep;
		w[i].t_measure = start + (uint64_t)(o->warmup_s * 1e9);
		w[i].t_stop = w[i].t_measure + (uint64_t)(o->duration_s * 1e9);
		kc_hist_init(&w[i].latency);
		kc_report_init(&w[i].errors, NULL, NULL);
		if (!pthread_create(&w[i].thread, NULL, storm_main, &w[i]))
			started++;
	}
	load_sleep_until(w[0].t_measure);
	load_cpu_sample(o, &c0);
	load_sleep_until(w[0].t_stop);
	load_cpu_since(o, &c0, r);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		merge(r, &w[i]);
	}
	r->elapsed_s = o->duration_s;
	free(w);
	return started ? 0 : -EAGAIN;
}

int storm_run(const struct load_opts *o, const struct load_identity *me,
	      struct kc_report *r)
{
	struct kc_tls_client_prep *prep = NULL;
	int ret;

	if (identity_prepare_tls(me, &prep))
		return -1;
	ret = run_threads(o, prep, r);
	kc_tls_client_unprepare(prep);
	if (ret)
		load_err("connection storm: %s", strerror(-ret));
	return ret ? -1 : 0;
}
