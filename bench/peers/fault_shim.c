// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injector for bench/peers/check-ledger.sh, preloaded (LD_PRELOAD)
 * into mosq-load or nats-load running against a real broker. It wraps
 * where each driver takes deliveries from its client library (the
 * message callback of libmosquitto, natsSubscription_NextMsg of libnats),
 * so the driver's own code sees a broker that loses or repeats messages:
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <nats/nats.h>

#include "peer_payload.h"

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

/*
 * libnats: the driver empties synchronous subscriptions with
 * natsSubscription_NextMsg, one subscription at a time until it says
 * NATS_TIMEOUT, all on one thread. Only our payloads count as deliveries
 * (PubAcks and the like pass untouched). A repeat hands over the original
 * first and keeps a copy for the next call on the same subscription.
 */
static struct {
	natsSubscription *sub;
	natsMsg *msg;
} held;

static bool is_ours(natsMsg *msg)
{
	const char *data = natsMsg_GetData(msg);

	return natsMsg_GetDataLength(msg) >= PEER_HDR_LEN &&
	       !memcmp(data, PEER_MAGIC_BYTES, 4);
}

/* The copy has no subscription: acking it fails, as a stray repeat would. */
static natsMsg *copy_of(natsMsg *msg)
{
	natsMsg *copy = NULL;

	if (natsMsg_Create(&copy, natsMsg_GetSubject(msg),
			   natsMsg_GetReply(msg), natsMsg_GetData(msg),
			   natsMsg_GetDataLength(msg)) != NATS_OK)
		return NULL;
	return copy;
}

natsStatus natsSubscription_NextMsg(natsMsg **out, natsSubscription *sub,
				    int64_t timeout)
{
	natsStatus (*real)(natsMsg **, natsSubscription *, int64_t) =
		next_symbol("natsSubscription_NextMsg");
	natsStatus s;

	if (held.msg && held.sub == sub) {
		*out = held.msg;
		held.msg = NULL;
		return NATS_OK;
	}
	for (;;) {
		s = real(out, sub, timeout);
		if (s != NATS_OK || !is_ours(*out))
			return s;
		switch (next_fault()) {
		case DROP:
			natsMsg_Destroy(*out);
			continue;
		case DUP:
			held.sub = sub;
			held.msg = copy_of(*out);
			return s;
		case PASS:
			return s;
		}
	}
}
