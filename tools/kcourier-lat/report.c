// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-lat's reports: see report.h. The percentiles come from the
 * log2 buckets, linear within the bucket the rank falls in, so they are
 * good to the bucket's width, as the histogram itself is.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "report.h"

static const char *const names[KL_NSTAGES] = {
	[KL_CHECK] = "check",	[KL_GROUP] = "group", [KL_COMMIT] = "commit",
	[KL_RETURN] = "return", [KL_ACK] = "ack",     [KL_ROUTE] = "route",
	[KL_CLIENT] = "client", [KL_FSYNC] = "fsync",
};

static const char *const abouts[KL_NSTAGES] = {
	[KL_CHECK] = "SEND read .. checks passed, in the group",
	[KL_GROUP] = "in the group .. handed to the committer",
	[KL_COMMIT] = "handed to the committer .. round durable",
	[KL_RETURN] = "round durable .. ACK status patched",
	[KL_ACK] = "SEND read .. ACK released (the agent's whole part)",
	[KL_ROUTE] = "round durable .. DELIVER queued to the recipient",
	[KL_CLIENT] = "DELIVER queued .. its DELIVERED read",
	[KL_FSYNC] = "one round's write and fdatasync",
};

const char *lat_stage_name(int stage)
{
	return names[stage];
}

const char *lat_stage_about(int stage)
{
	return abouts[stage];
}

int lat_stage_find(const char *name)
{
	for (int i = 0; i < KL_NSTAGES; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

void lat_delta(const struct kl_hist cur[KL_NSTAGES],
	       const struct kl_hist prev[KL_NSTAGES],
	       struct kl_hist out[KL_NSTAGES])
{
	for (int s = 0; s < KL_NSTAGES; s++) {
		for (int i = 0; i < KL_SLOTS; i++)
			out[s].slots[i] = cur[s].slots[i] - prev[s].slots[i];
		out[s].count = cur[s].count - prev[s].count;
		out[s].sum_ns = cur[s].sum_ns - prev[s].sum_ns;
	}
}

/* Slot i holds [2^i, 2^(i+1)) us, slot 0 also 0 us. */
static double slot_low(int i)
{
	return i ? (double)(1ull << i) : 0;
}

double lat_quantile(const struct kl_hist *h, double q)
{
	unsigned long long total = 0, seen = 0;
	double rank;

	for (int i = 0; i < KL_SLOTS; i++)
		total += h->slots[i];
	if (!total)
		return 0;
	rank = q * (double)total;
	for (int i = 0; i < KL_SLOTS; i++) {
		double lo = slot_low(i), hi = (double)(2ull << i);

		if (!h->slots[i] || (double)(seen + h->slots[i]) < rank) {
			seen += h->slots[i];
			continue;
		}
		return lo +
		       (hi - lo) * (rank - (double)seen) / (double)h->slots[i];
	}
	return (double)(2ull << (KL_SLOTS - 1));
}

static double mean_us(const struct kl_hist *h)
{
	return h->count ? (double)h->sum_ns / (double)h->count / 1000 : 0;
}

static void print_bars(FILE *f, const struct kl_hist *h)
{
	unsigned long long max = 0;
	int first = -1, last = -1;

	for (int i = 0; i < KL_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		first = first < 0 ? i : first;
		last = i;
		max = h->slots[i] > max ? h->slots[i] : max;
	}
	if (first < 0)
		return;
	fprintf(f, "%24s : %-10s distribution\n", "usecs", "count");
	for (int i = first; i <= last; i++) {
		int bar = (int)(h->slots[i] * 40 / max);

		fprintf(f, "%10llu -> %-10llu : %-10llu |%-40.*s|\n",
			(unsigned long long)slot_low(i), (2ull << i) - 1,
			h->slots[i], bar,
			"****************************************");
	}
}

static void print_text(const struct lat_report *r, int s,
		       const struct kl_hist *h)
{
	fprintf(r->out, "\n%s: %s\n", names[s], abouts[s]);
	fprintf(r->out,
		"  count %llu, mean %.1f us, p50 %.1f us, p99 %.1f us\n",
		h->count, mean_us(h), lat_quantile(h, 0.5),
		lat_quantile(h, 0.99));
	print_bars(r->out, h);
}

static json_t *stage_json(const struct kl_hist *h)
{
	json_t *buckets = json_array();

	for (int i = 0; i < KL_SLOTS; i++)
		json_array_append_new(buckets,
				      json_integer((json_int_t)h->slots[i]));
	return json_pack("{s:I, s:I, s:f, s:f, s:f, s:o}", "count",
			 (json_int_t)h->count, "sum_ns", (json_int_t)h->sum_ns,
			 "mean_us", mean_us(h), "p50_us", lat_quantile(h, 0.5),
			 "p99_us", lat_quantile(h, 0.99), "log2_us", buckets);
}

static void print_json(const struct lat_report *r,
		       const struct kl_hist h[KL_NSTAGES])
{
	json_t *stages = json_object(), *doc;

	for (int s = 0; s < KL_NSTAGES; s++)
		if (r->only < 0 || r->only == s)
			json_object_set_new(stages, names[s],
					    stage_json(&h[s]));
	doc = json_pack("{s:b, s:f, s:o}", "total", r->total, "seconds",
			r->seconds, "stages", stages);
	json_dumpf(doc, r->out, JSON_COMPACT);
	fputc('\n', r->out);
	json_decref(doc);
}

void lat_print(const struct lat_report *r, const struct kl_hist h[KL_NSTAGES])
{
	char stamp[16];
	time_t now = time(NULL);

	if (r->json) {
		print_json(r, h);
	} else {
		strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&now));
		fprintf(r->out, "\n%s %s, %.1f s\n", stamp,
			r->total ? "total since attach" : "interval",
			r->seconds);
		for (int s = 0; s < KL_NSTAGES; s++)
			if (r->only < 0 || r->only == s)
				print_text(r, s, &h[s]);
	}
	fflush(r->out);
}
