/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Presence (docs/DESIGN.md "Router"): client id -> every authenticated
 * connection of that client, as (its worker's inbox, slot, generation),
 * behind one mutex. A connection joins when it authenticates, before it
 * asks for its stored queue (delivery.h).
 *
 * Posting: a frame, encoded once into a payload, goes to every connection
 * of a client (DELIVER) or to one of them (RECEIPT) as a note in the
 * inbox of the connection's worker. The committer is the one thread that
 * posts DELIVERs, in commit order (committer.h), and each inbox is FIFO,
 * so every connection gets them in queue order.
 */
#ifndef KC_ROUTER_H
#define KC_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

struct kc_conn;
struct kc_payload;
struct kc_ring;
struct kc_router;

int kc_router_create(struct kc_router **out);
void kc_router_destroy(struct kc_router *r);

/* Registers or unregisters an authenticated connection: 0 or -ENOMEM. */
int kc_router_join(struct kc_router *r, const char *id, struct kc_conn *c);
void kc_router_leave(struct kc_router *r, const char *id, struct kc_conn *c);
/* Whether id has an authenticated connection now. */
bool kc_router_online(struct kc_router *r, const char *id);

/*
 * Posts p to every connection of id (all) or to one, waking their
 * workers through `from`, the caller's ring. Returns how many it went to.
 */
unsigned int kc_router_post(struct kc_router *r, struct kc_ring *from,
			    const char *id, struct kc_payload *p, bool all);

/*
 * A payload for a note: f encoded (NULL: none), with its queue position
 * and a tag of delivery.h. NULL when out of memory.
 */
struct kc_payload *kc_note_payload(const struct kc_frame *f, uint64_t seq,
				   uint32_t tag);

#endif
