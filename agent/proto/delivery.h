/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Delivery to an authenticated connection (PROTOCOL.md section 4,
 * "Delivery and receipts"): on authentication the connection joins the
 * router FIRST, then loads its stored queue and pending receipts. The
 * queue is loaded in chunks, the next one only when the connection's
 * backlog is small (its on_writable), so a client with a long queue is
 * not cut as a slow reader.
 */
#ifndef KC_DELIVERY_H
#define KC_DELIVERY_H

struct kc_conn;

/*
 * Checks that id is registered and not revoked, then joins and loads.
 * Returns 0, -EACCES (unknown or revoked id) or -errno; on error the
 * connection is unchanged.
 */
int kc_delivery_start(struct kc_conn *c, const char *id);
/* Next chunk of the stored queue, if it is still being loaded. */
void kc_delivery_more(struct kc_conn *c);

#endif
