// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier recv: reads DELIVERs, opens them end to end (PROTOCOL.md
 * section 5) and prints the messages; RECEIPTs go to standard error.
 *
 * Every DELIVER is answered with DELIVERED, rejected ones too (they are
 * reported), except when the sender's keys could not be fetched at all:
 * that record stays with the agent for a later run. Work goes in batches
 * of whatever has arrived: print and flush the messages, save the E2E
 * state, and only then send the DELIVEREDs. A crash in between means a
 * redelivery, which the (sender, msg_id) filter drops, never a loss.
 *
 * A receiver that only waits would look dead to the agent, which closes
 * a connection whose first frame is late or that sends nothing for long
 * (PROTOCOL.md section 3): it sends a PING right after connecting and
 * then every PING_EVERY_MS, and waits for its PONG there and then, so no
 * answer is owed when it next asks for a sender's keys.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "base/b64.h"
#include "base/clock.h"
#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "keyload.h"

#define DEFAULT_TIMEOUT_MS 2000
#define FOLLOW_TICK_MS 1000
#define PING_EVERY_MS 50000 /* the protocol asks for at most 60 s */

static const char recv_about[] =
	"Receives messages and prints each body to standard output as it is\n"
	"(a newline is added when it does not end with one), after a line\n"
	"\"from ID msg_id HEX\" on standard error. Receipts for messages sent\n"
	"earlier are reported on standard error. Stops after N messages, or\n"
	"when nothing arrives for S seconds; --follow keeps going until\n"
	"interrupted.\n";

/* An owned copy of a DELIVER: opening it may read more frames. */
struct delivery {
	char from[KC_CLIENT_ID_MAX + 1];
	uint8_t msg_id[KC_MSGID_LEN];
	uint64_t stored_at_ms;
	uint8_t *inner;
	size_t inner_len;
};

struct receiver {
	struct account a;
	const char *pass_file;
	bool follow, json;
	unsigned long count;	/* 0: no limit */
	unsigned int timeout_ms;
	unsigned long got;
	uint8_t (*acks)[KC_MSGID_LEN]; /* DELIVEREDs waiting for the flush */
	size_t n_acks, cap_acks;
	bool dirty;		/* E2E state changed since the last save */
	uint64_t pings;		/* sent; the next nonce is one more */
	uint64_t next_ping_ms;	/* CLOCK_MONOTONIC, as the two below */
	uint64_t last_event_ms; /* the idle timeout counts from here */
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_recv(int argc, char **argv, struct receiver *r, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "follow", KC_OPT_FLAG(&r->follow),
		  .help = "wait for messages until SIGINT or SIGTERM" },
		{ .name = "count", KC_OPT_UINT(&r->count), .metavar = "N",
		  .min = 0, .max = 1e12, .def = "no limit",
		  .help = "stop after N messages" },
		{ .name = "timeout", KC_OPT_MSEC(&r->timeout_ms),
		  .metavar = "S",
		  .min = 0, .max = 86400,
		  .help = "idle seconds before stopping" },
		{ .name = "json", KC_OPT_FLAG(&r->json),
		  .help = "one JSON object per message and line:\n"
			  "{\"from\",\"msg_id\",\"stored_at_ms\","
			  "\"body_b64\"}" },
		CLI_OPT_PASSPHRASE_FILE(&r->pass_file,
					"the passphrase of the keys"),
	};
	const struct kc_opts spec = {
		CLI_HOME_OPTS("recv"),
		KC_OPTS_TABLE(rows),
		.description = recv_about,
	};

	r->timeout_ms = DEFAULT_TIMEOUT_MS;
	return kc_opts_parse(&spec, argc, argv, rc);
}

/* Output. */

static int print_json(const struct delivery *d, const uint8_t *pt,
		      size_t len)
{
	char hex[2 * KC_MSGID_LEN + 1], *b64, *line;
	json_t *o;
	int ret = -1;

	b64 = malloc(kc_b64_len(len));
	if (!b64)
		return -1;
	kc_b64_encode(pt, len, b64);
	kc_hex(d->msg_id, KC_MSGID_LEN, hex);
	o = json_pack("{s:s, s:s, s:I, s:s}", "from", d->from, "msg_id", hex,
		      "stored_at_ms", (json_int_t)d->stored_at_ms, "body_b64",
		      b64);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (line && printf("%s\n", line) >= 0)
		ret = 0;
	if (line) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	json_decref(o);
	explicit_bzero(b64, kc_b64_len(len));
	free(b64);
	return ret;
}

static int print_plain(const struct delivery *d, const uint8_t *pt,
		       size_t len)
{
	char hex[2 * KC_MSGID_LEN + 1];

	kc_hex(d->msg_id, KC_MSGID_LEN, hex);
	/* The header goes out once the body before it is on its way. */
	fflush(stdout);
	fprintf(stderr, "from %s msg_id %s\n", d->from, hex);
	if (len && fwrite(pt, 1, len, stdout) != len)
		return -1;
	if ((!len || pt[len - 1] != '\n') && putchar('\n') == EOF)
		return -1;
	return 0;
}

static void report_rejected(const struct delivery *d, int verdict)
{
	char hex[2 * KC_MSGID_LEN + 1];

	kc_hex(d->msg_id, KC_MSGID_LEN, hex);
	cli_err("rejected message %s from '%s': %s", hex, d->from,
		kc_e2e_result_text(verdict));
}

/* Handling one event. */

static int queue_ack(struct receiver *r, const uint8_t msg_id[KC_MSGID_LEN])
{
	if (r->n_acks == r->cap_acks) {
		size_t cap = r->cap_acks ? 2 * r->cap_acks : 64;
		void *p = reallocarray(r->acks, cap, KC_MSGID_LEN);

		if (!p)
			return -1;
		r->acks = p;
		r->cap_acks = cap;
	}
	memcpy(r->acks[r->n_acks++], msg_id, KC_MSGID_LEN);
	return 0;
}

static int copy_delivery(const struct kc_deliver *in, struct delivery *d)
{
	if (in->from.len > KC_CLIENT_ID_MAX)
		return -1;
	memcpy(d->from, in->from.p, in->from.len);
	d->from[in->from.len] = '\0';
	memcpy(d->msg_id, in->msg_id, KC_MSGID_LEN);
	d->stored_at_ms = in->stored_at_ms;
	d->inner_len = in->inner.len;
	d->inner = malloc(in->inner.len ? in->inner.len : 1);
	if (!d->inner)
		return -1;
	memcpy(d->inner, in->inner.p, in->inner.len);
	return 0;
}

static int show_message(struct receiver *r, const struct delivery *d,
			const uint8_t *pt, size_t len)
{
	int ret = r->json ? print_json(d, pt, len) : print_plain(d, pt, len);

	if (ret)
		cli_err("cannot write standard output");
	else
		r->got++;
	return ret;
}

static int judge(struct receiver *r, const struct delivery *d)
{
	struct kc_bytes from = { (const uint8_t *)d->from, strlen(d->from) };
	uint8_t *pt = NULL;
	size_t len = 0;
	int verdict, ret = 0;

	verdict = kc_e2e_open(r->a.e2e, from, d->inner, d->inner_len,
			      account_sender_key, &r->a, &pt, &len);
	if (verdict < 0) {
		/* Not the sender's fault: leave it queued at the agent. */
		cli_err("cannot check message from '%s' now: %s", d->from,
			strerror(-verdict));
		return 0;
	}
	if (verdict == KC_E2E_MESSAGE)
		ret = show_message(r, d, pt, len);
	else if (verdict != KC_E2E_SESSION_OPENED)
		report_rejected(d, verdict);
	if (pt) {
		explicit_bzero(pt, len);
		free(pt);
	}
	if (ret)
		return ret;
	kc_e2e_remember(r->a.e2e, from, d->msg_id);
	r->dirty = true;
	return queue_ack(r, d->msg_id);
}

static int on_deliver(struct receiver *r, const struct kc_deliver *in)
{
	struct delivery d = { .inner = NULL };
	int ret;

	if (copy_delivery(in, &d)) {
		free(d.inner);
		cli_err("out of memory");
		return -1;
	}
	if (kc_e2e_seen(r->a.e2e, (struct kc_bytes){ in->from.p, in->from.len },
			d.msg_id))
		ret = queue_ack(r, d.msg_id); /* a redelivery */
	else
		ret = judge(r, &d);
	free(d.inner);
	return ret;
}

static void on_receipt(const struct kc_receipt *rc)
{
	char hex[2 * KC_MSGID_LEN + 1];

	kc_hex(rc->msg_id, KC_MSGID_LEN, hex);
	fprintf(stderr, "receipt: msg %s delivered to %.*s\n", hex,
		(int)rc->recipient.len, (const char *)rc->recipient.p);
}

/* Output first, then state, then DELIVERED: see the top of this file. */
static int flush_batch(struct receiver *r)
{
	struct kc_frame f = { .type = KC_T_DELIVERED };
	size_t i;
	int ret;

	if (fflush(stdout)) {
		cli_err("cannot write standard output");
		return -1;
	}
	if (r->dirty && account_save_state(&r->a))
		return -1;
	r->dirty = false;
	for (i = 0; i < r->n_acks; i++) {
		f.u.delivered.msg_id = r->acks[i];
		ret = kc_client_send(r->a.conn, &f);
		if (ret) {
			account_report(&r->a, ret, "cannot acknowledge");
			return -1;
		}
	}
	r->n_acks = 0;
	return 0;
}

static bool done(const struct receiver *r)
{
	return (r->count && r->got >= r->count) || stop_requested;
}

static int ping_if_due(struct receiver *r, uint64_t now)
{
	struct kc_frame f = { .type = KC_T_PING }, pong;
	int ret;

	if (now < r->next_ping_ms)
		return 0;
	f.u.ping.nonce = ++r->pings;
	ret = kc_client_call(r->a.conn, &f, KC_T_PONG, KC_CLIENT_TIMEOUT_MS,
			     &pong);
	if (!ret && pong.u.ping.nonce != f.u.ping.nonce)
		ret = -EPROTO;
	if (ret) {
		account_report(&r->a, ret, "cannot ping the agent");
		return -1;
	}
	r->next_ping_ms = now + PING_EVERY_MS;
	return 0;
}

/* How long to wait for a frame now; 0 when the idle time is up. */
static unsigned int wait_ms(const struct receiver *r, uint64_t now)
{
	uint64_t until = r->last_event_ms + r->timeout_ms, wait;

	if (!r->follow && now >= until)
		return 0;
	wait = r->follow ? FOLLOW_TICK_MS : until - now;
	if (r->next_ping_ms - now < wait)
		wait = r->next_ping_ms - now;
	return wait ? (unsigned int)wait : 1;
}

/* 0: go on; 1: stop (idle); -1: failed. */
static int step(struct receiver *r)
{
	uint64_t now = kc_mono_ms();
	unsigned int wait;
	struct kc_frame f;
	int ret;

	if (ping_if_due(r, now))
		return -1;
	wait = wait_ms(r, now);
	if (!wait)
		return 1;
	ret = kc_client_next_event(r->a.conn, wait, &f);
	if (ret == -ETIMEDOUT)
		return 0;
	if (ret) {
		account_report(&r->a, ret, "receiving");
		return -1;
	}
	if (f.type == KC_T_RECEIPT)
		on_receipt(&f.u.receipt);
	else
		ret = on_deliver(r, &f.u.deliver);
	/* As before pings: the idle time starts when the event is done. */
	r->last_event_ms = kc_mono_ms();
	return ret;
}

/*
 * A printed message's DELIVERED has no answer: only the agent's own close,
 * which comes after it handled everything we sent, says it arrived.
 * RECEIPTs that came meanwhile are still reported; DELIVERs that came
 * are not answered and so come again next time.
 */
static int hang_up(struct receiver *r)
{
	struct kc_frame f;
	int ret = account_hang_up(&r->a);

	while (kc_client_event_ready(r->a.conn) &&
	       !kc_client_next_event(r->a.conn, 1, &f))
		if (f.type == KC_T_RECEIPT)
			on_receipt(&f.u.receipt);
	if (ret == -ETIMEDOUT)
		cli_err("the agent did not confirm the end of the connection within %u s; messages it did not get DELIVERED for come again",
			HANGUP_BOUND_MS / 1000);
	else if (ret)
		account_report(&r->a, ret, "closing");
	return ret ? -1 : 0;
}

static int receive(struct receiver *r)
{
	int ret = 0;

	r->last_event_ms = kc_mono_ms();
	while (!ret && !done(r)) {
		ret = step(r);
		if (ret >= 0 && !kc_client_event_ready(r->a.conn) &&
		    flush_batch(r))
			ret = -1;
	}
	if (ret >= 0 && flush_batch(r))
		ret = -1;
	if (ret >= 0 && hang_up(r))
		ret = -1;
	return ret < 0 ? -1 : 0;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_recv(void *ctx, int argc, char **argv)
{
	const struct cli *cli = ctx;
	struct receiver r;
	int ret = 1;

	memset(&r, 0, sizeof(r));
	if (!parse_recv(argc, argv, &r, &ret))
		return ret;
	if (r.follow)
		catch_stop_signals();
	if (!account_open(&r.a, cli, r.pass_file,
			  ACCOUNT_ID_KEY | ACCOUNT_ENC_KEY) &&
	    !account_load_state(&r.a, KC_HOME_STATE_IN) &&
	    !account_connect(&r.a) && !receive(&r))
		ret = 0;
	account_close(&r.a);
	free(r.acks);
	return ret;
}
