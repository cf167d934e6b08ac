// SPDX-License-Identifier: GPL-2.0-only
/*
 * Engine side of the kernel TLS hand-over (see ktls.h) and the counters
 * of each connection's record layer.
 */
#include <errno.h>
#include <stdatomic.h>

#include "conn/tls_ktls.h"
#include "ring/probes.h"
#include "tls/ktls.h"

static atomic_ulong nr_on, nr_off;

/*
 * The readiness check comes first: once TLS_TX is in, the kernel encrypts
 * everything written, so a byte of GnuTLS ciphertext still queued would go
 * out encrypted twice.
 */
int kc_tls_start_ktls(struct kc_tls_conn *t, int fd)
{
	int ret = kc_tls_passthrough_ready(t);

	if (ret)
		return ret;
	ret = kc_ktls_install(fd, kc_tls_session(t));
	if (ret)
		return ret;
	/* Cannot fail: nothing changed since the readiness check. */
	return kc_tls_set_passthrough(t) ? -ENOTRECOVERABLE : 0;
}

void kc_ktls_count(enum kc_ktls_mode mode)
{
	/* 1: kernel TLS, 0: GnuTLS keeps the record layer. */
	if (KC_PROBE_ON(tls_mode) && mode != KC_KTLS_UNDECIDED)
		KC_PROBE1(tls_mode, mode == KC_KTLS_ON);
	if (mode == KC_KTLS_ON)
		atomic_fetch_add(&nr_on, 1);
	else if (mode == KC_KTLS_OFF)
		atomic_fetch_add(&nr_off, 1);
}

void kc_ktls_stats(unsigned long *on, unsigned long *off)
{
	*on = atomic_load(&nr_on);
	*off = atomic_load(&nr_off);
}
