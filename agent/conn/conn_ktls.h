/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel TLS for a connection on the ring: when to switch, what a recv
 * error means afterwards, close_notify through the kernel (the rules are
 * in tls_ktls.h).
 */
#ifndef KC_CONN_KTLS_H
#define KC_CONN_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kc_conn;

/* Where received application data goes (conn_in.c's input path). */
typedef void kc_conn_feed_fn(struct kc_conn *c, const uint8_t *p, size_t len);

/* At each flush of an OPEN connection: switches when it fits (tls_ktls.h). */
void kc_conn_try_ktls(struct kc_conn *c);
/*
 * A recv ended with res <= 0: true when this was kTLS's business (a
 * control record, an authentication failure) and is handled; application
 * data read beside the recv on the way goes to feed.
 */
bool kc_conn_ktls_recv_end(struct kc_conn *c, int res, kc_conn_feed_fn *feed);
/*
 * close_notify through the kernel when kc_tls_bye() cannot (-EOPNOTSUPP in
 * pass-through). 0, or -errno when it could not be sent now.
 */
int kc_conn_ktls_bye(struct kc_conn *c);

#endif
