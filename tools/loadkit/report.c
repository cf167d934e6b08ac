// SPDX-License-Identifier: GPL-2.0-only
/*
 * The result of one load run (report.h): error counters, the JSON object
 * `make bench` compares across tools, the human summary and the progress
 * line.
 *
 * Throughput is counted in acknowledged messages, because an ack is what
 * the sender was promised; tools whose peer does not ack (acked == 0) fall
 * back to deliveries so their numbers stay comparable.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"

/* Long enough for UINT64_MAX with thousands separators. */
#define COUNT_LEN 32
/* Long enough for a formatted latency such as "12345.67ms". */
#define LATENCY_LEN 24

static const struct {
	const char *key, *label;
	double p;
} percentiles[] = {
	{ "p50", "p50", 50.0 },	      { "p90", "p90", 90.0 },
	{ "p99", "p99", 99.0 },	      { "p999", "p99.9", 99.9 },
	{ "p9999", "p99.99", 99.99 },
};

#define N_PERCENTILES (sizeof(percentiles) / sizeof(percentiles[0]))

void kc_report_init(struct kc_report *r, const char *tool, const char *target)
{
	memset(r, 0, sizeof(*r));
	r->tool = tool;
	r->target = target;
	r->tool_cpu_s = -1.0;
	r->agent_cpu_s = -1.0;
}

static struct kc_report_error *find_error(struct kc_report *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < r->n_errors; i++)
		if (!strcmp(r->errors[i].name, name))
			return &r->errors[i];
	return NULL;
}

static struct kc_report_error *new_error(struct kc_report *r, const char *name)
{
	struct kc_report_error *e = &r->errors[r->n_errors++];

	snprintf(e->name, sizeof(e->name), "%s", name);
	e->count = 0;
	return e;
}

/*
 * Names longer than the slot are cut, and the cut name is the key. The
 * last slot is kept for "other" so that errors past the table's size are
 * still counted rather than dropped.
 */
void kc_report_error_add(struct kc_report *r, const char *name, uint64_t n)
{
	char key[KC_REPORT_ERROR_NAME];
	struct kc_report_error *e;

	snprintf(key, sizeof(key), "%s", name);
	e = find_error(r, key);
	if (!e && r->n_errors < KC_REPORT_MAX_ERRORS - 1)
		e = new_error(r, key);
	if (!e)
		e = find_error(r, "other");
	if (!e)
		e = new_error(r, "other");
	e->count += n;
}

uint64_t kc_report_error_total(const struct kc_report *r)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < r->n_errors; i++)
		total += r->errors[i].count;
	return total;
}

/* The messages rates and CPU costs are counted in (see the top). */
static uint64_t counted_msgs(const struct kc_report *r)
{
	return r->acked ? r->acked : r->delivered;
}

/* What CPU time is divided by: messages, or handshakes in a storm. */
static uint64_t cpu_units(const struct kc_report *r, const char **unit)
{
	*unit = r->shape.connect_storm ? "conn" : "msg";
	return r->shape.connect_storm ? r->connections : counted_msgs(r);
}

static double per_second(uint64_t n, const struct kc_report *r)
{
	return r->elapsed_s > 0 ? (double)n / r->elapsed_s : 0.0;
}

/* Nanoseconds to microseconds at 0.1 us: finer is below the noise. */
static double ns_to_us(double ns)
{
	return round(ns / 100.0) / 10.0;
}

/*
 * Setters that report failure as nonzero, so one `err |=` chain per
 * object finds any allocation failure; json_object_set_new() frees
 * nothing and fails on a NULL value, which covers a failed json_real().
 * Non-finite reals have no JSON form and are left out as absent data.
 */
static int set_uint(json_t *o, const char *key, uint64_t v)
{
	return json_object_set_new(o, key, json_integer((json_int_t)v));
}

static int set_real(json_t *o, const char *key, double v)
{
	if (!isfinite(v))
		return 0;
	return json_object_set_new(o, key, json_real(v));
}

static int set_string(json_t *o, const char *key, const char *v)
{
	return v ? json_object_set_new(o, key, json_string(v)) : 0;
}

/* Takes the reference to child, also on failure. */
static int set_object(json_t *o, const char *key, json_t *child)
{
	return json_object_set_new(o, key, child);
}

/* Returns o, or NULL after dropping it if any setter failed. */
static json_t *checked(json_t *o, int err)
{
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *shape_json(const struct kc_report_shape *s)
{
	json_t *o = json_object();
	int err;

	if (!o)
		return NULL;
	err = set_uint(o, "pairs", s->pairs);
	err |= set_uint(o, "fanin", s->fanin);
	err |= set_uint(o, "threads", s->threads);
	err |= set_uint(o, "window", s->window);
	err |= set_uint(o, "size", s->size);
	err |= set_real(o, "rate", s->rate);
	err |= set_real(o, "duration_s", s->duration_s);
	err |= set_real(o, "warmup_s", s->warmup_s);
	err |= json_object_set_new(o, "connect_storm",
				   json_boolean(s->connect_storm));
	return checked(o, err);
}

/* An empty histogram says only its count: zero percentiles would lie. */
static json_t *hist_json(const struct kc_hist *h)
{
	json_t *o = json_object();
	unsigned int i;
	int err;

	if (!o)
		return NULL;
	err = set_uint(o, "count", h->total);
	for (i = 0; h->total && i < N_PERCENTILES; i++)
		err |= set_real(
			o, percentiles[i].key,
			ns_to_us(kc_hist_percentile(h, percentiles[i].p)));
	if (h->total) {
		err |= set_real(o, "max", ns_to_us(h->max));
		err |= set_real(o, "mean", ns_to_us(kc_hist_mean(h)));
	}
	return checked(o, err);
}

static json_t *latency_json(const struct kc_report *r)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	if (r->ack_latency)
		err |= set_object(o, "ack", hist_json(r->ack_latency));
	if (r->deliver_latency)
		err |= set_object(o, "deliver", hist_json(r->deliver_latency));
	return checked(o, err);
}

static int add_counts(json_t *o, const struct kc_report *r)
{
	int err;

	err = set_real(o, "elapsed_s", r->elapsed_s);
	err |= set_uint(o, "sent", r->sent);
	err |= set_uint(o, "acked", r->acked);
	err |= set_uint(o, "delivered", r->delivered);
	if (r->elapsed_s <= 0)
		return err;
	err |= set_real(o, "msgs_per_s", per_second(counted_msgs(r), r));
	err |= set_real(o, "delivered_per_s", per_second(r->delivered, r));
	err |= set_real(o, "payload_mb_per_s",
			(double)r->delivered * (double)r->shape.size /
				r->elapsed_s / 1e6);
	return err;
}

static int add_latency(json_t *o, const struct kc_report *r)
{
	if (!r->ack_latency && !r->deliver_latency)
		return 0;
	return set_object(o, "latency_us", latency_json(r));
}

static int add_connect(json_t *o, const struct kc_report *r)
{
	int err;

	if (!r->shape.connect_storm)
		return 0;
	err = set_uint(o, "connections", r->connections);
	if (r->elapsed_s > 0)
		err |= set_real(o, "connections_per_s",
				per_second(r->connections, r));
	if (r->connect_latency)
		err |= set_object(o, "connect_latency_us",
				  hist_json(r->connect_latency));
	return err;
}

static int add_errors(json_t *o, const struct kc_report *r)
{
	json_t *errors = json_object();
	unsigned int i;
	int err = 0;

	if (!errors)
		return -1;
	for (i = 0; i < r->n_errors; i++)
		err |= set_uint(errors, r->errors[i].name, r->errors[i].count);
	err |= set_object(o, "errors", checked(errors, err));
	err |= set_uint(o, "errors_total", kc_report_error_total(r));
	return err;
}

/* "tool_s" and, with units counted, "tool_us_per_msg" (or _per_conn). */
static int set_cpu(json_t *o, const char *who, double s, uint64_t units,
		   const char *unit)
{
	char key[32];
	int err;

	if (s < 0)
		return 0;
	snprintf(key, sizeof(key), "%s_s", who);
	err = set_real(o, key, s);
	snprintf(key, sizeof(key), "%s_us_per_%s", who, unit);
	if (units)
		err |= set_real(o, key, s * 1e6 / (double)units);
	return err;
}

static json_t *cpu_json(const struct kc_report *r)
{
	const char *unit;
	uint64_t units = cpu_units(r, &unit);
	json_t *o = json_object();
	int err;

	if (!o)
		return NULL;
	err = set_cpu(o, "tool", r->tool_cpu_s, units, unit);
	err |= set_cpu(o, "agent", r->agent_cpu_s, units, unit);
	return checked(o, err);
}

static int add_cpu(json_t *o, const struct kc_report *r)
{
	if (r->tool_cpu_s < 0 && r->agent_cpu_s < 0)
		return 0;
	return set_object(o, "cpu", cpu_json(r));
}

json_t *kc_report_json(const struct kc_report *r)
{
	json_t *o = json_object();
	int err;

	if (!o)
		return NULL;
	err = set_string(o, "tool", r->tool);
	err |= set_string(o, "target", r->target);
	err |= set_string(o, "durability", r->durability);
	err |= set_object(o, "shape", shape_json(&r->shape));
	err |= add_counts(o, r);
	err |= add_latency(o, r);
	err |= add_connect(o, r);
	err |= add_errors(o, r);
	err |= add_cpu(o, r);
	return checked(o, err);
}

/* 1234567 -> "1,234,567". */
static void fmt_count(char out[COUNT_LEN], uint64_t v)
{
	char digits[COUNT_LEN];
	int n, i, o = 0;

	n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static void fmt_rate(char out[COUNT_LEN], double per_s)
{
	fmt_count(out, per_s > 0 ? (uint64_t)llround(per_s) : 0);
}

/* A latency in the unit that keeps it short: us, ms or s. */
static void fmt_latency(char out[LATENCY_LEN], uint64_t ns)
{
	if (ns < 1000000)
		snprintf(out, LATENCY_LEN, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(out, LATENCY_LEN, "%.2fms", ns / 1e6);
	else
		snprintf(out, LATENCY_LEN, "%.2fs", ns / 1e9);
}

static void print_shape(FILE *f, const struct kc_report *r)
{
	const struct kc_report_shape *s = &r->shape;
	char rate[COUNT_LEN];

	fprintf(f,
		"%s -> %s: %u pairs, fan-in %u, %u threads, window %u, "
		"%" PRIu64 " B, ",
		r->tool ? r->tool : "?", r->target ? r->target : "?", s->pairs,
		s->fanin, s->threads, s->window, s->size);
	if (s->rate > 0) {
		fmt_rate(rate, s->rate);
		fprintf(f, "open loop at %s msgs/s", rate);
	} else {
		fprintf(f, "closed loop");
	}
	fprintf(f, ", %.0f s + %.0f s warm-up%s\n", s->duration_s, s->warmup_s,
		s->connect_storm ? ", connect storm" : "");
	if (r->durability)
		fprintf(f, "  durability   %s\n", r->durability);
}

static void print_throughput(FILE *f, const struct kc_report *r)
{
	char sent[COUNT_LEN], acked[COUNT_LEN], delivered[COUNT_LEN];
	char rate[COUNT_LEN];

	fmt_count(sent, r->sent);
	fmt_count(acked, r->acked);
	fmt_count(delivered, r->delivered);
	fprintf(f, "  messages     sent %s, acked %s, delivered %s in %.2f s\n",
		sent, acked, delivered, r->elapsed_s);
	fmt_rate(rate, per_second(counted_msgs(r), r));
	fprintf(f, "  throughput   %s msgs/s %s, %.2f MB/s payload\n", rate,
		r->acked ? "acked" : "delivered",
		per_second(r->delivered, r) * (double)r->shape.size / 1e6);
	if (r->shape.connect_storm) {
		fmt_count(sent, r->connections);
		fmt_rate(rate, per_second(r->connections, r));
		fprintf(f, "  connections  %s (%s/s)\n", sent, rate);
	}
}

static void print_latency_row(FILE *f, const char *name,
			      const struct kc_hist *h)
{
	char cell[LATENCY_LEN];
	unsigned int i;

	if (!h || !h->total)
		return;
	fprintf(f, "    %-10s", name);
	for (i = 0; i < N_PERCENTILES; i++) {
		fmt_latency(cell, kc_hist_percentile(h, percentiles[i].p));
		fprintf(f, " %9s", cell);
	}
	fmt_latency(cell, h->max);
	fprintf(f, " %9s\n", cell);
}

static bool has_samples(const struct kc_hist *h)
{
	return h && h->total;
}

static void print_latency(FILE *f, const struct kc_report *r)
{
	const struct kc_hist *connect =
		r->shape.connect_storm ? r->connect_latency : NULL;
	unsigned int i;

	if (!has_samples(r->ack_latency) && !has_samples(r->deliver_latency) &&
	    !has_samples(connect))
		return;
	fprintf(f, "  latency   ");
	for (i = 0; i < N_PERCENTILES; i++)
		fprintf(f, " %9s", percentiles[i].label);
	fprintf(f, " %9s\n", "max");
	print_latency_row(f, "ack", r->ack_latency);
	print_latency_row(f, "deliver", r->deliver_latency);
	print_latency_row(f, "connect", connect);
}

static void print_errors(FILE *f, const struct kc_report *r)
{
	const char *sep = " ";
	char n[COUNT_LEN];
	unsigned int i;

	if (!kc_report_error_total(r)) {
		fprintf(f, "  errors       none\n");
		return;
	}
	fprintf(f, "  errors      ");
	for (i = 0; i < r->n_errors; i++) {
		if (!r->errors[i].count)
			continue;
		fmt_count(n, r->errors[i].count);
		fprintf(f, "%s%s %s", sep, r->errors[i].name, n);
		sep = ", ";
	}
	fmt_count(n, kc_report_error_total(r));
	fprintf(f, " (total %s)\n", n);
}

static void print_cpu_part(FILE *f, const char *sep, const char *who,
			   double cpu_s, const struct kc_report *r)
{
	const char *unit;
	uint64_t units = cpu_units(r, &unit);

	if (cpu_s < 0)
		return;
	fprintf(f, "%s%s %.2f s", sep, who, cpu_s);
	if (units)
		fprintf(f, " (%.1f us/%s)", cpu_s * 1e6 / (double)units, unit);
}

static void print_cpu(FILE *f, const struct kc_report *r)
{
	if (r->tool_cpu_s < 0 && r->agent_cpu_s < 0)
		return;
	fprintf(f, "  cpu         ");
	print_cpu_part(f, " ", "tool", r->tool_cpu_s, r);
	print_cpu_part(f, r->tool_cpu_s < 0 ? " " : ", ", "agent",
		       r->agent_cpu_s, r);
	fputc('\n', f);
}

void kc_report_print(FILE *f, const struct kc_report *r)
{
	print_shape(f, r);
	print_throughput(f, r);
	print_latency(f, r);
	print_errors(f, r);
	print_cpu(f, r);
}

void kc_report_progress(FILE *f, double t_s, double interval_s, uint64_t d_sent,
			uint64_t d_acked, uint64_t d_delivered, uint64_t errors)
{
	char sent[COUNT_LEN], acked[COUNT_LEN], delivered[COUNT_LEN];
	char errs[COUNT_LEN], line[256];
	double per = interval_s > 0 ? 1.0 / interval_s : 0.0;

	fmt_rate(sent, (double)d_sent * per);
	fmt_rate(acked, (double)d_acked * per);
	fmt_rate(delivered, (double)d_delivered * per);
	fmt_count(errs, errors);
	snprintf(line, sizeof(line),
		 "%3.0fs  sent %s/s acked %s/s delivered %s/s errors %s", t_s,
		 sent, acked, delivered, errs);
	/* Padding blanks out the rest of a longer line drawn before. */
	fprintf(f, "%-79s\r", line);
	fflush(f);
}
