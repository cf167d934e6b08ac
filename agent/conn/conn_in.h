/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection input: multishot recv into provided buffers, the TLS
 * handshake and record layer, frame assembly (PROTOCOL.md sections 3-4).
 * Whole frames go up through kc_conn_events.on_frame.
 */
#ifndef KC_CONN_IN_H
#define KC_CONN_IN_H

#include <stdint.h>

struct kc_conn;

/* A recv completion for c (the ring's RECV handler: conns.c). */
void kc_conn_on_recv(struct kc_conn *c, int res, uint32_t flags);
/* Loop step 2: handshake, plaintext, frames, on_frame. */
void kc_conn_process(struct kc_conn *c);

#endif
