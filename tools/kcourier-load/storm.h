/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KC_LOAD_STORM_H
#define KC_LOAD_STORM_H

#include "identity.h"
#include "load.h"
#include "report.h"

/*
 * --connect-storm: --threads threads, each opening mutual-TLS connections
 * as client `me` one after another (TCP connect, full TLS 1.3 handshake
 * with the client certificate and the CA pin, close_notify, close) for the
 * warm-up and the measured interval. Fills r (connections, latency,
 * errors). 0, or -1 after a message.
 */
int storm_run(const struct load_opts *o, const struct load_identity *me,
	      struct kc_report *r);

#endif
