/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Outgoing TCP connections for the client side: "HOST:PORT",
 * "A.B.C.D:PORT" or "[IPV6]:PORT", resolved with getaddrinfo and tried
 * address by address until one answers, all within one time budget.
 */
#ifndef KC_TCPCONN_H
#define KC_TCPCONN_H

#include <stddef.h>
#include <stdint.h>
#include "base/clock.h"


/*
 * A deadline timeout_ms from now; 0 (wait forever) stays 0. kc_ms_left()
 * gives what remains of it: 0 for "no deadline", at least 1 otherwise, or
 * -1 once it has passed.
 */
uint64_t kc_deadline(unsigned int timeout_ms);
long kc_ms_left(uint64_t deadline);

/*
 * A connected, blocking, close-on-exec TCP socket with TCP_NODELAY (the
 * protocol is request/answer), or -errno with a message in why:
 * -EINVAL for a malformed address, -ENXIO when the name does not resolve,
 * -ETIMEDOUT, or connect(2)'s error for the last address tried.
 */
int kc_tcp_connect(const char *addr_port, uint64_t deadline, char *why,
		   size_t why_len);

#endif
