// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier send: one message (TEXT, or all of standard input), or one per
 * input line with --lines, sealed twice (PROTOCOL.md sections 4-5).
 *
 * Order of work, so that a crash can never reuse a sequence number or a
 * message counter:
 *   1. seal every message end to end (a SESSION_INIT first when the E2E
 *      session is new or due for rotation; its keys come from a fresh
 *      LOOKUP, checked against the pinned CA and the enc_sig), and give
 *      each its counter (lib/client/counter.h: the mark on disk covers
 *      it before it is taken);
 *   2. save the E2E state (seq numbers now spent);
 *   3. open an agent session and send, up to WINDOW SENDs in flight and
 *      none KC_COUNTER_SPAN or more above the oldest unacknowledged one,
 *      each ACK matched in order.
 * The out-state lock, taken before step 1, is held to the end: it makes
 * senders of one home take turns, and so keeps their counters apart.
 * A SESSION_INIT goes with NO_RECEIPT: receipts are for messages.
 * Exit 0 only when every SEND got status OK.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "crypto/certcheck.h"
#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "io.h"
#include "keyload.h"
#include "client/counter.h"
#include "client/outer.h"

#define INPUT_MAX ((size_t)16 << 20)
#define WINDOW 64
#define NO_ACK 0xffff /* not a protocol status: no answer came */

static const char send_about[] =
	"Sends TEXT, or else all of standard input, to client ID, encrypted end\n"
	"to end. With --lines, standard input is read line by line and every\n"
	"line (without its newline) is sent as a message of its own, in order,\n"
	"over one connection. Prints the msg_id (hex) of each message once the\n"
	"agent has stored it.\n";

/* What a resend would have to repeat exactly: msg_id, counter, inner. */
struct outmsg {
	uint8_t msg_id[KC_MSGID_LEN];
	uint64_t counter;
	uint8_t *inner;
	size_t len;
	bool is_init;
	uint64_t seq;
	uint16_t status;
};

struct sender {
	struct account a;
	const char *to, *text, *pass_file;
	bool lines;
	uint8_t *input;
	size_t input_len;
	struct outmsg *m;
	size_t n, cap;
	struct kc_peer peer;
	bool have_peer;
	struct kc_counter counter;
	struct kc_outer outer;
};

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_send(int argc, char **argv, struct sender *s, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "lines", KC_OPT_FLAG(&s->lines),
		  .help = "one message per line of standard input" },
		CLI_OPT_PASSPHRASE_FILE(&s->pass_file,
					"the passphrase of the keys"),
	};
	const struct kc_arg args[] = {
		{ .name = "ID", .to = &s->to, .check = cli_check_client_id },
		{ .name = "TEXT", .to = &s->text, .optional = true },
	};
	const struct kc_opts spec = {
		CLI_HOME_OPTS("send"),
		KC_OPTS_TABLE(rows),
		KC_OPTS_ARGS(args),
		.description = send_about,
	};

	if (!kc_opts_parse(&spec, argc, argv, rc))
		return false;
	if (!s->lines || !s->text)
		return true;
	*rc = kc_opts_fail(&spec, "--lines reads standard input: drop TEXT");
	return false;
}

static int read_input(struct sender *s)
{
	int ret;

	if (s->text)
		return 0;
	ret = cli_read_all(NULL, INPUT_MAX, &s->input, &s->input_len);
	if (ret == -EFBIG)
		cli_err("send: standard input is larger than %zu bytes",
			INPUT_MAX);
	else if (ret)
		cli_err("send: cannot read standard input: %s",
			strerror(-ret));
	return ret ? -1 : 0;
}

static void counter_error(const struct sender *s, int err)
{
	cli_err("%s/%s: %s", s->a.home.dir, KC_HOME_COUNTER,
		err == -EBADMSG ? "damaged (see FILES in kcourier(1))" :
				  strerror(-err));
}

/*
 * The message counters, under the out-state lock that account_load_state
 * took (lib/client/home.h): no other sender of this home runs meanwhile.
 */
static int open_counter(struct sender *s)
{
	int ret = kc_counter_open(&s->counter, &s->a.home);

	if (ret)
		counter_error(s, ret);
	return ret ? -1 : 0;
}

/* Room for one more message; -ENOMEM when there is none. */
static int grow(struct sender *s)
{
	size_t cap = s->cap ? 2 * s->cap : 16;
	struct outmsg *m;

	if (s->n < s->cap)
		return 0;
	m = reallocarray(s->m, cap, sizeof(*m));
	if (!m)
		return -ENOMEM;
	s->m = m;
	s->cap = cap;
	return 0;
}

/*
 * A new message with its msg_id and counter, or NULL after a message. A
 * message dropped later leaves its counter unused: a gap, which is fine.
 */
static struct outmsg *push(struct sender *s)
{
	struct outmsg *m;
	uint64_t counter;
	int ret;

	ret = grow(s);
	if (ret) {
		cli_err("send: %s", strerror(-ret));
		return NULL;
	}
	ret = kc_counter_take(&s->counter, &counter);
	if (ret) {
		counter_error(s, ret);
		return NULL;
	}
	m = &s->m[s->n++];
	memset(m, 0, sizeof(*m));
	m->status = NO_ACK;
	m->counter = counter;
	kc_random(m->msg_id, sizeof(m->msg_id));
	return m;
}

/* A new E2E session: its SESSION_INIT is a SEND of its own. */
static int start_session(struct sender *s)
{
	struct outmsg *m;
	int ret;

	if (!s->have_peer && account_peer(&s->a, s->to, true, &s->peer))
		return -1;
	s->have_peer = true;
	m = push(s);
	if (!m)
		return -1;
	ret = kc_e2e_start(s->a.e2e, s->to, s->peer.enc_pub, kc_wall_ms(),
			   &m->inner, &m->len);
	if (!ret) {
		m->is_init = true;
		return 0;
	}
	s->n--;
	cli_err("send: cannot start a session with '%s': %s", s->to,
		strerror(-ret));
	return -1;
}

static int seal_one(struct sender *s, const uint8_t *pt, size_t len)
{
	struct outmsg *m;
	int ret;

	if (kc_e2e_needs_init(s->a.e2e, s->to, kc_wall_ms()) &&
	    start_session(s))
		return -1;
	m = push(s);
	if (!m)
		return -1;
	ret = kc_e2e_seal(s->a.e2e, s->to, pt, len, &m->inner, &m->len);
	if (!ret)
		return 0;
	s->n--;
	cli_err("send: cannot seal the message: %s", strerror(-ret));
	return -1;
}

static int seal_lines(struct sender *s)
{
	const uint8_t *p = s->input, *end = s->input + s->input_len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (seal_one(s, p, (size_t)(nl - p)))
			return -1;
	}
	return 0;
}

static int seal_all(struct sender *s)
{
	if (s->text)
		return seal_one(s, (const uint8_t *)s->text, strlen(s->text));
	if (s->lines)
		return seal_lines(s);
	return seal_one(s, s->input, s->input_len);
}

static int open_outer(struct sender *s)
{
	uint8_t *der = NULL;
	size_t len = 0;
	EVP_PKEY *seal_pub = NULL;
	int ret;

	ret = kc_home_load_cert(&s->a.home, KC_HOME_SEAL_CERT, &der, &len);
	if (!ret)
		ret = kc_cert_public_key((struct kc_bytes){ der, len },
					 &seal_pub);
	free(der);
	if (ret) {
		cli_err("%s/%s: %s", s->a.home.dir, KC_HOME_SEAL_CERT,
			strerror(-ret));
		return -1;
	}
	ret = kc_outer_open(s->a.conn, s->a.crypto, seal_pub, &s->outer);
	EVP_PKEY_free(seal_pub);
	if (ret)
		account_report(&s->a, ret, "cannot open an agent session");
	return ret ? -1 : 0;
}

static int send_one(struct sender *s, struct outmsg *m)
{
	const struct kc_send_plain sp = {
		.to = { (const uint8_t *)s->to, strlen(s->to) },
		.msg_id = m->msg_id,
		.counter = m->counter,
		.flags = m->is_init ? KC_SEND_NO_RECEIPT : 0,
		.inner = { m->inner, m->len },
	};

	return kc_outer_send(s->a.conn, &s->outer, &sp, &m->seq);
}

/* Another SEND may go out while ACKs acked.. are still owed. */
static bool may_send(const struct sender *s, size_t sent, size_t acked)
{
	return sent < s->n && sent - acked < WINDOW &&
	       kc_counter_in_span(s->m[acked].counter, s->m[sent].counter);
}

/*
 * Pipelined: up to WINDOW SENDs ahead of their ACKs, and never one whose
 * counter is KC_COUNTER_SPAN or more above the oldest unacknowledged.
 */
static int send_all(struct sender *s)
{
	size_t sent = 0, acked = 0;
	int ret = 0;

	while (!ret && acked < s->n) {
		while (!ret && may_send(s, sent, acked))
			ret = send_one(s, &s->m[sent++]);
		if (!ret)
			ret = kc_outer_await_ack(s->a.conn, &s->outer,
						 s->m[acked].seq,
						 KC_CLIENT_TIMEOUT_MS,
						 &s->m[acked].status);
		acked++;
	}
	if (ret)
		account_report(&s->a, ret, "send failed");
	return ret ? -1 : 0;
}

/*
 * The first refusal is reported with its reason. REPLAY is reported for
 * each message it answers: it says the message's counter is below what
 * the agent still remembers, so the agent cannot tell whether it stored
 * the message, and sending it again could only make a second copy.
 */
static void report_refusal(const struct sender *s, const struct outmsg *m,
			   int failed)
{
	char hex[2 * KC_MSGID_LEN + 1], text[128];

	if (m->status == KC_REPLAY) {
		kc_hex(m->msg_id, KC_MSGID_LEN, hex);
		cli_err("send to '%s': %s possibly delivered, not sent again",
			s->to, hex);
	} else if (m->status != NO_ACK && failed == 1) {
		cli_err("send to '%s' refused: %s", s->to,
			account_status_text(m->status, text, sizeof(text)));
	}
}

/*
 * Prints the msg_id of every message the agent stored, also after a
 * failure part way. A SESSION_INIT that was refused or never answered
 * leaves a session the recipient may never have heard of: forget it.
 */
static int report_acks(struct sender *s)
{
	char hex[2 * KC_MSGID_LEN + 1];
	bool init_lost = false;
	int failed = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct outmsg *m = &s->m[i];

		failed += m->status != 0;
		if (m->status)
			report_refusal(s, m, failed);
		init_lost |= m->is_init && m->status;
		if (m->status || m->is_init)
			continue;
		kc_hex(m->msg_id, KC_MSGID_LEN, hex);
		printf("%s\n", hex);
	}
	if (failed > 1)
		cli_err("%d of the messages were not stored", failed);
	if (init_lost) {
		kc_e2e_forget(s->a.e2e, s->to);
		account_save_state(&s->a);
	}
	if (fflush(stdout))
		cli_err("cannot write standard output");
	return failed || ferror(stdout) ? -1 : 0;
}

static int do_send(struct sender *s, const struct cli *cli)
{
	int sent;

	if (read_input(s) ||
	    account_open(&s->a, cli, s->pass_file,
			 ACCOUNT_ID_KEY | ACCOUNT_ENC_KEY) ||
	    account_load_state(&s->a, KC_HOME_STATE_OUT) || open_counter(s) ||
	    account_connect(&s->a) || seal_all(s) ||
	    account_save_state(&s->a) || open_outer(s))
		return -1;
	sent = send_all(s);
	/*
	 * Every message that counts has its ACK already: the orderly end
	 * only spares the agent a reset, so its result does not matter.
	 */
	if (!sent)
		account_hang_up(&s->a);
	return report_acks(s) || sent ? -1 : 0;
}

int cmd_send(void *ctx, int argc, char **argv)
{
	const struct cli *cli = ctx;
	struct sender s;
	int ret = 1;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.counter = KC_COUNTER_CLOSED;
	if (!parse_send(argc, argv, &s, &ret))
		return ret;
	if (!do_send(&s, cli))
		ret = 0;
	kc_outer_close(&s.outer);
	/* Closed before account_close lets go of the lock that covers it. */
	kc_counter_close(&s.counter);
	account_close(&s.a);
	for (i = 0; i < s.n; i++)
		free(s.m[i].inner);
	free(s.m);
	kc_peer_clear(&s.peer);
	if (s.input) {
		explicit_bzero(s.input, s.input_len);
		free(s.input);
	}
	return ret;
}
