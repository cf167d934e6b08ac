// SPDX-License-Identifier: GPL-2.0-only
/*
 * crypto-floor: the least CPU one message can cost the agent, for issue 4's
 * "agent CPU per message within 3x of the crypto floor". The load tool
 * measures what the agent really spends; this measures, on the same
 * machine, only the cryptography the agent cannot avoid for one message:
 *
 *   tls_in_send      open the TLS record(s) carrying the SEND
 *   outer_open       HMAC-SHA256 check and AES-256-CBC decrypt of the SEND
 *                    (PROTOCOL.md section 4), through lib/'s user crypto
 *                    tier exactly as agent/send.c calls it
 *   tls_out_deliver  seal the DELIVER (carrying inner) to the recipient
 *   tls_small        seal the ACK, open the DELIVERED, seal the RECEIPT
 *
 * The TLS work is AES-256-GCM records as GnuTLS and kTLS make them
 * (crypto_floor_tls.c), one frame at a time: the agent coalesces frames
 * written together into shared records, so under load its record cost
 * per message can be below this. The message itself is real, sealed and
 * encoded by lib/ (crypto_floor_msg.c), its sizes those of
 * crypto_floor_sizes.h, which tests/test_crypto_floor.c holds against lib/
 * and the agent's TLS engine.
 *
 * Everything is timed as process CPU time, like the load tool's reading
 * of the agent: kernel time counts too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/opts.h"
#include "crypto_floor_msg.h"
#include "crypto_floor_sizes.h"
#include "crypto_floor_tls.h"

#define PROG "crypto-floor"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SECOND 1000000000ull
#define NSEC_PER_MSEC 1000000ull

#define MAX_SIZES 32
#define SECONDS_MAX 3600.0

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SECOND + (uint64_t)ts.tv_nsec;
}

/* The agent's steps. */

/*
 * Inbound records are sealed once and opened again every round, so their
 * opener starts each round at the sequence number they were sealed at.
 */
static int open_inbound(struct cf_tls_dir *d, const struct cf_buf *wire,
			const struct cf_buf *frame, const struct cf_buf *pt)
{
	size_t len;
	int ret;

	d->seq = 0;
	ret = cf_tls_open(d, wire, pt, &len);
	if (!ret && len != frame->len)
		ret = -EPROTO;
	return ret;
}

static int step_tls_in_send(struct cf_msg *m)
{
	return open_inbound(&m->from_sender, &m->send_wire, &m->send, &m->pt);
}

/* agent/send.c open_send(): one request per batch, as the agent sends it. */
static int step_outer_open(struct cf_msg *m)
{
	const struct kc_send *s = &m->send_dec.u.send;
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_open_req req = {
		.session = m->outer,
		.aad = aad,
		.iv = s->iv,
		.ct = s->ct.p,
		.ct_len = s->ct.len,
		.mac = s->mac,
		.pt = m->pt.p,
	};

	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, s->sid, s->seq, s->iv,
				 (uint32_t)s->ct.len);
	if (kc_open_batch(m->crypto, &req, 1))
		return -EIO;
	if (req.status || req.pt_len != m->plain_len)
		return -EBADMSG;
	return 0;
}

static int step_tls_out_deliver(struct cf_msg *m)
{
	return cf_tls_seal(&m->to_recipient, &m->deliver, m->out.p);
}

static int step_tls_small(struct cf_msg *m)
{
	int ret;

	ret = cf_tls_seal(&m->to_sender, &m->ack, m->out.p);
	if (!ret)
		ret = open_inbound(&m->from_recipient, &m->delivered_wire,
				   &m->delivered, &m->pt);
	if (!ret)
		ret = cf_tls_seal(&m->to_sender, &m->receipt, m->out.p);
	return ret;
}

static const struct step {
	const char *name; /* the JSON key and table column */
	int (*run)(struct cf_msg *m);
} steps[] = {
	{ "tls_in_send", step_tls_in_send },
	{ "outer_open", step_outer_open },
	{ "tls_out_deliver", step_tls_out_deliver },
	{ "tls_small", step_tls_small },
};

#define N_STEPS ARRAY_SIZE(steps)

/* Timing. */

/*
 * Runs st until it used budget_ns of CPU. Reading the CPU clock is a
 * system call, so rounds go in batches grown until one takes a
 * millisecond: the clock then costs well under a percent of the reading.
 */
static int run_for(const struct step *st, struct cf_msg *m, uint64_t budget_ns,
		   uint64_t *rounds, uint64_t *used_ns)
{
	uint64_t batch = 1, i, t0, dt;
	int ret;

	*rounds = *used_ns = 0;
	while (*used_ns < budget_ns) {
		t0 = cpu_ns();
		for (i = 0; i < batch; i++) {
			ret = st->run(m);
			if (ret)
				return ret;
		}
		dt = cpu_ns() - t0;
		*used_ns += dt;
		*rounds += batch;
		if (dt < NSEC_PER_MSEC)
			batch *= 2;
	}
	return 0;
}

/* Mean microseconds per round after an untimed tenth for warm caches. */
static int measure(const struct step *st, struct cf_msg *m, double seconds,
		   double *us)
{
	uint64_t budget = (uint64_t)(seconds * (double)NSEC_PER_SECOND), rounds,
		 used;
	int ret;

	ret = run_for(st, m, budget / 10, &rounds, &used);
	if (!ret)
		ret = run_for(st, m, budget, &rounds, &used);
	if (!ret)
		*us = (double)used / 1000.0 / (double)rounds;
	return ret;
}

struct floor_result {
	size_t size, send_len, deliver_len;
	double us[N_STEPS];
	double floor_us;
};

/* The size's time is shared out evenly between the steps. */
static int measure_size(struct kc_crypto *c, size_t size, double seconds,
			struct floor_result *r)
{
	struct cf_msg m;
	size_t i;
	int ret;

	ret = cf_msg_init(&m, c, size);
	if (ret)
		return ret;
	r->size = size;
	r->send_len = m.send.len;
	r->deliver_len = m.deliver.len;
	r->floor_us = 0;
	for (i = 0; i < N_STEPS && !ret; i++) {
		ret = measure(&steps[i], &m, seconds / N_STEPS, &r->us[i]);
		if (!ret)
			r->floor_us += r->us[i];
	}
	cf_msg_free(&m);
	return ret;
}

/* Output. */

static void print_table(const struct floor_result *r, size_t n, double seconds)
{
	size_t i, j;

	printf("crypto floor per message, us of CPU (TLS 1.3 AES-256-GCM "
	       "records, outer open on the user tier, %.2f s per size)\n",
	       seconds);
	printf("%8s %8s %8s", "size", "send_B", "deliv_B");
	for (j = 0; j < N_STEPS; j++)
		printf(" %15s", steps[j].name);
	printf(" %9s\n", "floor_us");
	for (i = 0; i < n; i++) {
		printf("%8zu %8zu %8zu", r[i].size, r[i].send_len,
		       r[i].deliver_len);
		for (j = 0; j < N_STEPS; j++)
			printf(" %15.3f", r[i].us[j]);
		printf(" %9.3f\n", r[i].floor_us);
	}
}

static json_t *result_json(const struct floor_result *r)
{
	json_t *steps_obj = json_object();
	size_t j;

	for (j = 0; j < N_STEPS; j++)
		json_object_set_new(steps_obj, steps[j].name,
				    json_real(r->us[j]));
	return json_pack("{s:I, s:o, s:f, s:{s:I, s:I}}", "size",
			 (json_int_t)r->size, "steps", steps_obj, "floor_us",
			 r->floor_us, "frames", "send", (json_int_t)r->send_len,
			 "deliver", (json_int_t)r->deliver_len);
}

static int print_json(const struct floor_result *r, size_t n)
{
	json_t *root, *sizes = json_array();
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		json_array_append_new(sizes, result_json(&r[i]));
	root = json_pack("{s:o, s:s}", "sizes", sizes, "tls_cipher",
			 "AES-256-GCM");
	if (!root)
		return -ENOMEM;
	ret = json_dumpf(root, stdout, JSON_REAL_PRECISION(6)) ? -EIO : 0;
	putchar('\n');
	json_decref(root);
	return ret;
}

/* Command line. */

struct opts {
	size_t sizes[MAX_SIZES];
	size_t n_sizes;
	double seconds;
	bool json;
};

/* The SEND of an s-byte payload fits PROTOCOL.md's default max_frame. */
static bool size_fits(unsigned long long s)
{
	return s <= KC_MAX_FRAME_DEFAULT &&
	       cf_send_frame_len(s, strlen(CF_RECIPIENT_ID)) - 4 <=
		       KC_MAX_FRAME_DEFAULT;
}

/* The largest payload size_fits() takes (it only grows with s). */
static unsigned long long max_payload(void)
{
	unsigned long long lo = 0, hi = KC_MAX_FRAME_DEFAULT, mid;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (size_fits(mid))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static const char about[] =
	"The CPU the agent must spend on cryptography for one\n"
	"message of BYTES application payload: open the SEND's TLS\n"
	"record(s), check and decrypt the SEND (HMAC-SHA256,\n"
	"AES-256-CBC), seal the DELIVER, and the TLS work on ACK,\n"
	"DELIVERED and RECEIPT.\n";

/* True to run; false when done (help, or exit 2 after a message). */
static bool parse_opts(int argc, char **argv, struct opts *o, int *rc)
{
	unsigned int n_sizes = 0;
	const struct kc_opt rows[] = {
		{ .name = "size", KC_OPT_UINT(&o->sizes[0]), .metavar = "BYTES",
		  .required = true, .repeat = MAX_SIZES, .count = &n_sizes,
		  .min = 0, .max = (double)max_payload(), .unit = "bytes",
		  .help = "application payload (a SEND within the default "
			  "max_frame)" },
		{ .name = "seconds", KC_OPT_REAL(&o->seconds), .metavar = "T",
		  .min = 0, .above_min = true, .max = SECONDS_MAX,
		  .help = "CPU seconds per size, shared by the steps" },
		{ .name = "json", KC_OPT_FLAG(&o->json),
		  .help = "one JSON object instead of the table" },
	};
	const struct kc_opts spec = {
		.prog = PROG,
		.description = about,
		KC_OPTS_TABLE(rows),
		.error_exit = 2,
	};

	memset(o, 0, sizeof(*o));
	o->seconds = 1.0;
	if (!kc_opts_parse(&spec, argc, argv, rc))
		return false;
	o->n_sizes = n_sizes;
	return true;
}

static int run(const struct opts *o, struct floor_result *r)
{
	struct kc_crypto *c = NULL;
	size_t i;
	int ret;

	if (cf_tls_setup()) {
		fprintf(stderr, PROG ": OpenSSL has no AES-256-GCM\n");
		return -EIO;
	}
	ret = kc_crypto_open("user", &c);
	if (ret)
		fprintf(stderr, PROG ": user crypto tier: %s\n",
			strerror(-ret));
	for (i = 0; !ret && i < o->n_sizes; i++) {
		ret = measure_size(c, o->sizes[i], o->seconds, &r[i]);
		if (ret)
			fprintf(stderr, PROG ": size %zu: %s\n", o->sizes[i],
				strerror(-ret));
	}
	kc_crypto_close(c);
	cf_tls_teardown();
	return ret;
}

int main(int argc, char **argv)
{
	struct floor_result r[MAX_SIZES];
	struct opts o;
	int ret;

	if (!parse_opts(argc, argv, &o, &ret))
		return ret;
	if (run(&o, r))
		return 1;
	if (o.json)
		return print_json(r, o.n_sizes) ? 1 : 0;
	print_table(r, o.n_sizes, o.seconds);
	return 0;
}
