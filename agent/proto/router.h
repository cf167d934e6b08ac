/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Presence and routing (docs/DESIGN.md "Router").
 *
 * Presence: client id -> every authenticated connection of that client,
 * as (worker, slot, generation), behind one mutex. A connection joins
 * when it authenticates, BEFORE it loads its stored queue, so a message
 * committed in between is either in the queue it loads or notified to it
 * afterwards (the connection drops what it already has by seq).
 *
 * Routing runs after a group commit while the committing worker still
 * holds the store lock, so every connection sees DELIVERs in seq order:
 * connections on the same worker get the frame appended directly, others
 * get a note in their worker's inbox. Before the direct appends the
 * worker drains its own inbox, which can only hold older seqs.
 */
#ifndef KC_ROUTER_H
#define KC_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

struct kc_proto_worker;
struct kc_conn;
struct kc_commit;
struct kc_payload;

struct kc_router;

int kc_router_create(struct kc_router **out);
void kc_router_destroy(struct kc_router *r);

/* Registers or unregisters an authenticated connection: 0 or -ENOMEM. */
int kc_router_join(struct kc_router *r, const char *id, struct kc_conn *c);
void kc_router_leave(struct kc_router *r, const char *id, struct kc_conn *c);

/*
 * Sends payload to every connection of id (all = true) or to one of them.
 * Returns how many connections it went to.
 */
unsigned int kc_router_send(struct kc_proto_worker *pw, const char *id,
			    struct kc_payload *p, bool all);

/*
 * After a successful kc_commit_run, with the store lock held: DELIVER for
 * every fresh message, RECEIPT for every DELIVERED whose sender is online.
 */
void kc_router_route_commit(struct kc_proto_worker *pw, struct kc_commit *b);

/*
 * A DELIVER or RECEIPT arriving at a connection of this worker, directly
 * or as another worker's note. DELIVERs at or below delivered_upto were
 * sent already (queue load and notification overlap), and while the
 * stored queue is still being loaded every DELIVER comes from there
 * instead, so order stays seq order.
 */
void kc_router_notify(struct kc_conn *c, const struct kc_payload *p);

#endif
