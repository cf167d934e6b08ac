/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker's connections as its loop drives them: the ring's RECV and
 * SEND handlers, the turn's input (2) and flush (5) steps, ticks, stop.
 * The loop sees its connections only through here and kc_conn_accept.
 */
#ifndef KC_CONNS_H
#define KC_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn/conn.h"

/* The table, with RECV and SEND completions on setup->ring routed to it. */
void kc_conns_init(struct kc_conn_table *t, const struct kc_conn_setup *setup);
/* Step 2: every connection that got bytes (or a peer's end). */
void kc_conns_process(struct kc_conn_table *t);
/* Step 5: every connection with output to encrypt or send. */
void kc_conns_flush(struct kc_conn_table *t);
void kc_conns_tick(struct kc_conn_table *t, uint64_t now_ms);
/* Stop: handshakes are cut, open connections send what is queued. */
void kc_conns_stop(struct kc_conn_table *t);
/* Connections wait for the next turn's step 2: do not block for input. */
bool kc_conns_pending(const struct kc_conn_table *t);
/* No connection left in any slot. */
bool kc_conns_idle(const struct kc_conn_table *t);
/* Shuts every connection; then the ring goes, then kc_conns_fini. */
void kc_conns_shut(struct kc_conn_table *t);
/* With the ring gone nothing is in the kernel: frees every slot. */
void kc_conns_fini(struct kc_conn_table *t);

#endif
