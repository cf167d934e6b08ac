// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injector for bench/peers/check-ledger.sh, preloaded (LD_PRELOAD)
 * into mosq-load or nats-load running against a real broker. It wraps the
 * delivery callback each driver registers with its client library, so
 * the driver's own code sees a broker that loses or repeats messages:
 *
 *   KC_FAULT_DROP=N   every Nth delivery (counted over all subscribers)
 *                     is swallowed
 *   KC_FAULT_DUP=N    every Nth delivery is handed over twice
 *
 * At exit it prints "fault-shim: dropped D duplicated U" on standard
 * error, so the check can demand exactly that many lost and duplicate
 * messages in the driver's report. Built by the check script only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <mosquitto.h>
#include <nats/nats.h>

enum fault { PASS, DROP, DUP };

static unsigned long drop_every, dup_every;
static unsigned long deliveries, dropped, duplicated;

__attribute__((constructor)) static void shim_init(void)
{
	const char *v;

	v = getenv("KC_FAULT_DROP");
	drop_every = v ? strtoul(v, NULL, 10) : 0;
	v = getenv("KC_FAULT_DUP");
	dup_every = v ? strtoul(v, NULL, 10) : 0;
}

__attribute__((destructor)) static void shim_report(void)
{
	fprintf(stderr, "fault-shim: dropped %lu duplicated %lu\n",
		__atomic_load_n(&dropped, __ATOMIC_RELAXED),
		__atomic_load_n(&duplicated, __ATOMIC_RELAXED));
}

static enum fault next_fault(void)
{
	unsigned long n = __atomic_add_fetch(&deliveries, 1, __ATOMIC_RELAXED);

	if (drop_every && n % drop_every == 0) {
		__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
		return DROP;
	}
	if (dup_every && n % dup_every == 0) {
		__atomic_add_fetch(&duplicated, 1, __ATOMIC_RELAXED);
		return DUP;
	}
	return PASS;
}

static void *next_symbol(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (!sym) {
		fprintf(stderr, "fault-shim: no %s: %s\n", name, dlerror());
		abort();
	}
	return sym;
}

/* libmosquitto: the driver sets one callback for every subscriber. */
typedef void (*mosq_msg_cb)(struct mosquitto *, void *,
			    const struct mosquitto_message *);
static mosq_msg_cb mosq_cb;

static void mosq_wrapper(struct mosquitto *m, void *obj,
			 const struct mosquitto_message *msg)
{
	switch (next_fault()) {
	case DROP:
		return;
	case DUP:
		mosq_cb(m, obj, msg);
		break;
	case PASS:
		break;
	}
	mosq_cb(m, obj, msg);
}

void mosquitto_message_callback_set(struct mosquitto *m, mosq_msg_cb cb)
{
	void (*real)(struct mosquitto *, mosq_msg_cb) =
		next_symbol("mosquitto_message_callback_set");

	mosq_cb = cb;
	real(m, mosq_wrapper);
}

/* libnats: each subscription has its own closure, kept beside ours. */
struct nats_wrap {
	natsMsgHandler cb;
	void *closure;
};

/* A repeat is a copy: the callback destroys each message it is given. */
static void nats_wrapper(natsConnection *nc, natsSubscription *sub,
			 natsMsg *msg, void *closure)
{
	struct nats_wrap *w = closure;
	natsMsg *copy = NULL;

	switch (next_fault()) {
	case DROP:
		natsMsg_Destroy(msg);
		return;
	case DUP:
		if (natsMsg_Create(&copy, natsMsg_GetSubject(msg),
				   natsMsg_GetReply(msg), natsMsg_GetData(msg),
				   natsMsg_GetDataLength(msg)) == NATS_OK)
			w->cb(nc, sub, copy, w->closure);
		break;
	case PASS:
		break;
	}
	w->cb(nc, sub, msg, w->closure);
}

/* Lives as long as the subscription, i.e. until exit. */
static struct nats_wrap *wrap(natsMsgHandler cb, void *closure)
{
	struct nats_wrap *w = malloc(sizeof(*w));

	if (!w)
		abort();
	w->cb = cb;
	w->closure = closure;
	return w;
}

natsStatus natsConnection_Subscribe(natsSubscription **sub, natsConnection *nc,
				    const char *subject, natsMsgHandler cb,
				    void *closure)
{
	natsStatus (*real)(natsSubscription **, natsConnection *, const char *,
			   natsMsgHandler, void *) =
		next_symbol("natsConnection_Subscribe");

	return real(sub, nc, subject, nats_wrapper, wrap(cb, closure));
}

natsStatus js_Subscribe(natsSubscription **sub, jsCtx *js, const char *subject,
			natsMsgHandler cb, void *closure, jsOptions *opts,
			jsSubOptions *subOpts, jsErrCode *errCode)
{
	natsStatus (*real)(natsSubscription **, jsCtx *, const char *,
			   natsMsgHandler, void *, jsOptions *, jsSubOptions *,
			   jsErrCode *) = next_symbol("js_Subscribe");

	return real(sub, js, subject, nats_wrapper, wrap(cb, closure), opts,
		    subOpts, errCode);
}
