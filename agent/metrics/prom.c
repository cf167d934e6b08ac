// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text of a snapshot: see prom.h. Written by hand: the
 * format is a few printf lines (Debian has no C client library for it),
 * and a library would want its own registry besides our counter blocks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "metrics/prom.h"

#define PREFIX "kcourier_"

/* Gauges that are one number of the snapshot. */
struct gauge {
	const char *name, *help;
	size_t off; /* a uint64_t in struct kc_stats */
};

#define FIELD(f) offsetof(struct kc_stats, f)

static const struct gauge gauges[] = {
	{ "connections_open", "open connections, all workers",
	  FIELD(connections_open) },
	{ "sessions_live", "agent sessions open now", FIELD(sessions_live) },
	{ "queue_messages", "messages in the log waiting for delivery",
	  FIELD(log.queued) },
	{ "queue_bytes", "bytes of those messages' bodies",
	  FIELD(log.queued_bytes) },
	{ "log_segments", "message log segment files", FIELD(log.segments) },
	{ "log_disk_bytes", "bytes the segments take on disk",
	  FIELD(log.disk_bytes) },
};

static void head(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name,
		help, name, type);
}

static void put_counters(FILE *f, const struct kc_stats *s)
{
	for (int i = 0; i < KC_CTR_COUNT; i++) {
		head(f, kc_counter_name(i), kc_counter_help(i), "counter");
		fprintf(f, PREFIX "%s %llu\n", kc_counter_name(i),
			(unsigned long long)s->c.v[i]);
	}
}

static void put_acks(FILE *f, const struct kc_stats *s)
{
	head(f, "acks_total", "SENDs answered, by the ACK's status", "counter");
	for (unsigned int i = 0; i < KC_CTR_STATUSES; i++)
		fprintf(f, PREFIX "acks_total{status=\"%s\"} %llu\n",
			kc_status_name(i), (unsigned long long)s->c.acked[i]);
}

static void put_gauges(FILE *f, const struct kc_stats *s)
{
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		const uint64_t *v =
			(const uint64_t *)((const char *)s + gauges[i].off);

		head(f, gauges[i].name, gauges[i].help, "gauge");
		fprintf(f, PREFIX "%s %llu\n", gauges[i].name,
			(unsigned long long)*v);
	}
}

/* Bucket i of a kc_hist holds [2^(i-1), 2^i) us: its le is 2^i us. */
static void put_fsync(FILE *f, const struct kc_stats *s)
{
	unsigned long long n = 0;

	head(f, "commit_fsync_seconds",
	     "one round's write and fdatasync of the message log", "histogram");
	for (int i = 0; i < KC_HIST_BUCKETS - 1; i++) {
		n += s->c.fsync[i];
		fprintf(f,
			PREFIX "commit_fsync_seconds_bucket{le=\"%g\"} %llu\n",
			(double)(1ull << i) / 1e6, n);
	}
	n += s->c.fsync[KC_HIST_BUCKETS - 1];
	fprintf(f, PREFIX "commit_fsync_seconds_bucket{le=\"+Inf\"} %llu\n", n);
	fprintf(f, PREFIX "commit_fsync_seconds_sum %g\n",
		(double)s->c.fsync_sum_us / 1e6);
	fprintf(f, PREFIX "commit_fsync_seconds_count %llu\n", n);
}

static void put_misc(FILE *f, const struct kc_stats *s)
{
	head(f, "connections_record_layer_total",
	     "connections by the record layer they ended up on", "counter");
	fprintf(f,
		PREFIX "connections_record_layer_total{layer=\"ktls\"} %lu\n",
		s->conn_ktls);
	fprintf(f,
		PREFIX "connections_record_layer_total{layer=\"gnutls\"} %lu\n",
		s->conn_gnutls);
	head(f, "session_keys_bad_total",
	     "OPEN_SESSION keys that did not unwrap", "counter");
	fprintf(f, PREFIX "session_keys_bad_total %lu\n", s->bad_keys);
	head(f, "keyring_keys", "keys in the kcourier keyring (-1: none)",
	     "gauge");
	fprintf(f, PREFIX "keyring_keys %lld\n", (long long)s->keyring_keys);
	head(f, "crypto_tier", "the crypto tier the workers use", "gauge");
	fprintf(f, PREFIX "crypto_tier{tier=\"%s\"} 1\n", s->crypto_tier);
	head(f, "workers", "worker threads", "gauge");
	fprintf(f, PREFIX "workers %u\n", s->workers);
	head(f, "probe_sample_every",
	     "the per-message probes fire for one message in this many",
	     "gauge");
	fprintf(f, PREFIX "probe_sample_every %u\n", s->probe_every);
	head(f, "probe_sample_setting",
	     "the sampling knob kcourier-lat --sample sets (0: automatic)",
	     "gauge");
	fprintf(f, PREFIX "probe_sample_setting %u\n", s->probe_setting);
	head(f, "uptime_seconds", "since the agent started", "gauge");
	fprintf(f, PREFIX "uptime_seconds %.3f\n", s->uptime_s);
}

int kc_stats_prom(const struct kc_stats *s, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return -ENOMEM;
	put_gauges(f, s);
	put_counters(f, s);
	put_acks(f, s);
	put_fsync(f, s);
	put_misc(f, s);
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
