/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourier-load: the options of a run and the pieces that share them.
 *
 * A run has senders and receivers. Receiver r is one registered client;
 * senders r*fanin .. r*fanin+fanin-1 each send to it, so a sender's index
 * is also its stream number in the ledger (tools/loadkit/ledger.h). Every
 * sender and receiver is a client of its own, with its own mutual-TLS
 * connection, E2E state and agent session: nothing is shared that
 * `kcourier send` and `kcourier recv` would not share.
 */
#ifndef KC_LOAD_H
#define KC_LOAD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/opts.h"
#include "tls/tlsclient.h"

#define LOAD_NAME "kcourier-load"
/*
 * Unacknowledged messages per sender, at most: with the SESSION_INITs
 * among them, their counters stay far below the 4,096 the protocol allows
 * between a sender's oldest unacknowledged counter and its newest.
 */
#define LOAD_WINDOW_MAX 2048

struct load_opts {
	/* Where the agent is and how to get clients for it. */
	const char *agent;	/* --agent HOST:PORT */
	const char *pin_arg;	/* --ca-fingerprint HEX */
	const char *dir;	/* --dir: a local agent's state directory */
	const char *tokens;	/* --tokens FILE */
	const char *cache;	/* --cache DIR */
	char pin[KC_PIN_HEX_LEN + 1];
	char agent_buf[80];	/* --dir's listen address */
	/* Shape. */
	unsigned int pairs, fanin, window, threads;
	uint64_t size;
	double rate;		/* total msgs/s; 0: closed loop */
	double duration_s, warmup_s, drain_s;
	unsigned int timeout_ms; /* an ACK or connect later than this: error */
	bool connect_storm;
	unsigned int idle;	/* --idle N: hold N idle connections */
	/* Output. */
	bool json, progress;
	int agent_pid;		/* 0: agent CPU not reported */
	/*
	 * Fault injection for the tool's own tests (KC_LOAD_FAULTS="drop=N,
	 * dup=M"): the receivers ignore their N-th message after answering
	 * DELIVERED (as if lost) and count their M-th twice, so the test can
	 * prove both are caught. 0: off.
	 */
	uint64_t fault_drop, fault_dup;
};

static inline unsigned int load_senders(const struct load_opts *o)
{
	return o->pairs * o->fanin;
}

/* Sleeps until CLOCK_MONOTONIC reads t_ns (report.h's kc_mono_ns). */
static inline void load_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { (time_t)(t_ns / 1000000000),
			       (long)(t_ns % 1000000000) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* CPU seconds of this process and of the agent (when --agent-pid). */
struct load_cpu {
	double tool, agent;
};

struct kc_report;
void load_cpu_sample(const struct load_opts *o, struct load_cpu *c);
/* Sets r's tool_cpu_s and agent_cpu_s to what was used since c0. */
void load_cpu_since(const struct load_opts *o, const struct load_cpu *c0,
		    struct kc_report *r);

/* Parses argv; returns -1 to go on, else the exit code (help, error). */
int load_parse_opts(int argc, char **argv, struct load_opts *o);

/* One "kcourier-load: ..." line on standard error. */
#define load_err(...) kc_cmd_err(LOAD_NAME, __VA_ARGS__)

#endif
