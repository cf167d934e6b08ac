/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The result of one load run, shared by kcourier-load and the peer drivers
 * (bench/peers/) so `make bench` can put them side by side: one struct,
 * printed for people (kc_report_print) or as one JSON object for scripts
 * (kc_report_json; the schema is in docs/BENCHMARKS.md).
 *
 * Latencies are nanoseconds in the histograms and microseconds in the
 * output. Errors are named counters ("connect", "tls", "timeout",
 * "nack:REPLAY", "lost", "duplicate", ...), printed in the order added.
 */
#ifndef KC_REPORT_H
#define KC_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hist.h"
#include "base/clock.h"

#define KC_REPORT_MAX_ERRORS 32
#define KC_REPORT_ERROR_NAME 32

struct kc_report_shape {
	unsigned int pairs, fanin, threads, window;
	uint64_t size;	    /* payload bytes per message */
	double rate;	    /* total msgs/s, open loop; 0: closed loop */
	double duration_s, warmup_s;
	bool connect_storm;
};

struct kc_report_error {
	char name[KC_REPORT_ERROR_NAME];
	uint64_t count;
};

struct kc_report {
	const char *tool;	/* "kcourier-load", "mosq-load", ... */
	const char *target;	/* "kcourier", "mosquitto-qos1", ... */
	const char *durability; /* one line: what an ack promises */
	struct kc_report_shape shape;
	double elapsed_s;	/* the measured interval, after warm-up */
	/* Messages counted in the measured interval. */
	uint64_t sent, acked, delivered;
	struct kc_hist *ack_latency;	 /* send to ack; NULL if none */
	struct kc_hist *deliver_latency; /* send to delivery; NULL if none */
	/* --connect-storm: completed handshakes and their latency. */
	uint64_t connections;
	struct kc_hist *connect_latency;
	struct kc_report_error errors[KC_REPORT_MAX_ERRORS];
	unsigned int n_errors;
	/* CPU seconds in the measured interval; < 0 when unknown. */
	double tool_cpu_s, agent_cpu_s;
};

void kc_report_init(struct kc_report *r, const char *tool,
		    const char *target);
/* Adds n to the counter called name (created at 0 on first use). */
void kc_report_error_add(struct kc_report *r, const char *name, uint64_t n);
uint64_t kc_report_error_total(const struct kc_report *r);

/*
 * {"tool","target","durability","shape":{...},"elapsed_s","sent","acked",
 *  "delivered","msgs_per_s","delivered_per_s","payload_mb_per_s",
 *  "latency_us":{"ack":{"count","p50","p90","p99","p999","p9999","max",
 *  "mean"},"deliver":{...}},"connections","connections_per_s",
 *  "connect_latency_us":{...},"errors":{name:count,...},"errors_total",
 *  "cpu":{"tool_s","agent_s","tool_us_per_msg","agent_us_per_msg"}}
 * Keys whose data is absent are left out. NULL on allocation failure.
 */
json_t *kc_report_json(const struct kc_report *r);
/* The same for people: a few aligned lines. */
void kc_report_print(FILE *f, const struct kc_report *r);

/*
 * One progress line (TTY only, the caller checks): "  3s  sent 12,345/s
 * acked 12,300/s delivered 12,290/s errors 0", rates over the last
 * interval, ending in \r so the next overwrites it.
 */
void kc_report_progress(FILE *f, double t_s, double interval_s,
			uint64_t d_sent, uint64_t d_acked,
			uint64_t d_delivered, uint64_t errors);

/* utime + stime of a process from /proc/PID/stat, seconds; < 0 on error. */
double kc_proc_cpu_seconds(int pid);
/* This process (getrusage). */
double kc_self_cpu_seconds(void);

#endif
