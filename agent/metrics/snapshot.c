// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stats snapshot: see snapshot.h. Nothing here takes a lock a worker
 * takes on its hot path: counters are per-thread blocks, the rest atomics
 * or the committer's published numbers.
 */
#include <keyutils.h>

#include "base/clock.h"
#include "conn/tls_ktls.h"
#include "metrics/snapshot.h"
#include "ring/probes.h"

/* keyctl_read of a keyring gives its key serials, 4 bytes each. */
static int64_t keyring_keys(int32_t ring)
{
	long n;

	if (!ring)
		return -1;
	n = keyctl_read(ring, NULL, 0);
	return n < 0 ? -1 : n / (long)sizeof(key_serial_t);
}

void kc_stats_take(const struct kc_stats_src *src, struct kc_stats *s)
{
	const uint64_t *v;

	*s = (struct kc_stats){ 0 };
	kc_counters_sum(&s->c);
	v = s->c.v;
	s->connections_open = src->nconns ? atomic_load(src->nconns) : 0;
	s->sessions_live = v[KC_CTR_SESSIONS_OPENED] - v[KC_CTR_SESSIONS_ENDED];
	kc_ktls_stats(&s->conn_ktls, &s->conn_gnutls);
	s->bad_keys = src->bad_keys ? atomic_load(src->bad_keys) : 0;
	if (src->committer)
		kc_committer_log_stats(src->committer, &s->log);
	s->keyring_keys = keyring_keys(src->keyring);
	s->probe_every = kc_probe_every();
	s->probe_setting = kc_probe_sample;
	s->uptime_s = (double)(kc_mono_ms() - src->start_ms) / 1e3;
	s->crypto_tier = src->crypto_tier ? src->crypto_tier : "";
	s->workers = src->workers;
}
