// SPDX-License-Identifier: GPL-2.0-only
/*
 * A worker thread: drives its senders and receivers from one poll loop.
 * Sockets are blocking (lib/client.c reads whole frames); poll only says
 * where bytes wait, and a frame that arrived in pieces is finished with a
 * short blocking read. That keeps the load on the same client code the
 * CLI uses, at the price of a thread now and then waiting a moment for
 * the rest of a frame.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "client/client.h"
#include "run.h"

/* How often a worker looks at the phase when nothing happens. */
#define IDLE_POLL_NS (20 * 1000000ull)

void worker_error(struct load_worker *w, const char *name)
{
	kc_report_error_add(&w->errors, name, 1);
	atomic_fetch_add(&w->live.errors, 1);
}

static int conn_fd(struct kc_client *c)
{
	return kc_tls_client_fd(kc_client_tls(c));
}

struct poll_set {
	struct pollfd *fds;
	void **owner; /* the sender or receiver behind fds[i] */
	bool *is_sender;
	unsigned int n;
	bool buffered; /* some connection already holds unread bytes */
};

static void poll_add(struct poll_set *p, struct kc_client *c, void *owner,
		     bool is_sender)
{
	if (!c)
		return;
	p->fds[p->n] = (struct pollfd){ .fd = conn_fd(c), .events = POLLIN };
	p->owner[p->n] = owner;
	p->is_sender[p->n] = is_sender;
	if (kc_client_event_ready(c)) {
		p->fds[p->n].revents = POLLIN;
		p->buffered = true;
	}
	p->n++;
}

static void build_poll_set(struct load_worker *w, struct poll_set *p)
{
	unsigned int i;

	p->n = 0;
	p->buffered = false;
	for (i = 0; i < w->n_senders; i++)
		poll_add(p, sender_conn(w->senders[i]), w->senders[i], true);
	for (i = 0; i < w->n_receivers; i++)
		poll_add(p, receiver_conn(w->receivers[i]), w->receivers[i],
			 false);
}

/* The earliest scheduled send, as a wait from now (open loop). */
static uint64_t wait_ns(struct load_worker *w, uint64_t now, bool sending)
{
	uint64_t wait = IDLE_POLL_NS, due;
	unsigned int i;

	for (i = 0; sending && i < w->n_senders; i++) {
		due = sender_next_due(w->senders[i]);
		if (due && w->run->interval_ns)
			wait = due <= now ? 0 : due - now < wait ? due - now :
								   wait;
	}
	return wait;
}

static void wait_for_io(struct poll_set *p, uint64_t wait)
{
	struct timespec ts = { (time_t)(wait / 1000000000),
			       (long)(wait % 1000000000) };
	unsigned int i;

	if (p->buffered)
		return;
	if (ppoll(p->fds, p->n, &ts, NULL) > 0)
		return;
	for (i = 0; i < p->n; i++)
		p->fds[i].revents = 0;
}

static void serve_ready(struct load_worker *w, struct poll_set *p)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		if (!p->fds[i].revents)
			continue;
		if (p->is_sender[i])
			sender_read(p->owner[i], w);
		else
			receiver_read(p->owner[i], w);
	}
}

static void pump_senders(struct load_worker *w, uint64_t now, bool sending)
{
	unsigned int i;

	for (i = 0; i < w->n_senders; i++) {
		if (sending)
			sender_pump(w->senders[i], w, now);
		sender_check_timeout(w->senders[i], w, now);
	}
}

void *worker_main(void *arg)
{
	struct load_worker *w = arg;
	unsigned int n = w->n_senders + w->n_receivers;
	struct poll_set p = {
		.fds = calloc(n, sizeof(*p.fds)),
		.owner = calloc(n, sizeof(*p.owner)),
		.is_sender = calloc(n, sizeof(*p.is_sender)),
	};
	int phase;
	uint64_t now;

	while (p.fds && p.owner && p.is_sender &&
	       (phase = atomic_load(&w->run->phase)) != PHASE_DONE) {
		now = kc_mono_ns();
		pump_senders(w, now, phase == PHASE_SENDING);
		build_poll_set(w, &p);
		wait_for_io(&p, wait_ns(w, now, phase == PHASE_SENDING));
		serve_ready(w, &p);
	}
	if (!p.fds || !p.owner || !p.is_sender)
		worker_error(w, "local");
	free(p.fds);
	free(p.owner);
	free(p.is_sender);
	return NULL;
}
