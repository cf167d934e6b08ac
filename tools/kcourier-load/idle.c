// SPDX-License-Identifier: GPL-2.0-only
/*
 * Idle authenticated connections and the agent's memory; see idle.h.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "idle.h"
#include "idlekit.h"

/* Settling time before the agent's memory is read. */
#define SETTLE_S 0.5

struct idle_ctx {
	const struct load_opts *o;
	struct kc_tls_client_prep *prep;
	struct kc_client **conns;
};

/* Served: the handshake passed and the agent answers a PING. */
static int open_one(void *arg, size_t i)
{
	struct idle_ctx *x = arg;
	struct kc_tls_client_opts opts = { .prep = x->prep,
					   .timeout_ms = x->o->timeout_ms };
	struct kc_frame ping = { .type = KC_T_PING }, pong;
	int ret;

	ping.u.ping.nonce = i;
	ret = kc_client_connect_opts(x->o->agent, x->o->pin, &opts,
				     &x->conns[i]);
	if (!ret)
		ret = kc_client_call(x->conns[i], &ping, KC_T_PONG,
				     x->o->timeout_ms, &pong);
	if (!ret && pong.u.ping.nonce != i)
		ret = -EPROTO;
	return ret;
}

static void close_one(void *arg, size_t i)
{
	struct idle_ctx *x = arg;

	kc_client_close(x->conns[i]);
	x->conns[i] = NULL;
}

int idle_conns_run(const struct load_opts *o, const struct load_identity *me)
{
	struct idle_ctx x = { .o = o };
	struct idle_ops ops = { open_one, close_one, &x };
	struct idle_run r = {
		.target = o->idle,
		.threads = o->threads,
		.server_pid = o->agent_pid,
		.settle_s = SETTLE_S,
		.hold_s = o->duration_s,
	};
	size_t i;
	int ret;

	ret = idle_raise_nofile(o->idle);
	if (ret)
		load_err("cannot raise the open-file limit to %u: %s", o->idle,
			 strerror(-ret));
	x.conns = calloc(o->idle, sizeof(*x.conns));
	if (!x.conns || identity_prepare_tls(me, &x.prep)) {
		free(x.conns);
		return -1;
	}
	ret = idle_run(&r, &ops);
	for (i = 0; i < o->idle; i++) /* the failed ones may hold a client */
		kc_client_close(x.conns[i]);
	kc_tls_client_unprepare(x.prep);
	free(x.conns);
	if (idle_print_json(stdout, LOAD_NAME, "kcourier", &r))
		return -1;
	return ret ? 3 : 0;
}
