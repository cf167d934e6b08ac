/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Delivery to an authenticated connection (PROTOCOL.md section 4,
 * Delivery), on the connection's worker.
 *
 * On authentication the connection joins the router, then asks the
 * committer for its stored queue (committer.h, kc_committer_load). What
 * reaches it are notes in its worker's inbox, all from the committer and
 * so in one order:
 *   KC_NOTE_LIVE      a DELIVER routed when its message became durable;
 *   KC_NOTE_LOADED    a DELIVER read back from the queue for a load;
 *   KC_NOTE_LOAD_END  the end of a load; seq 1 when more is queued;
 *   KC_NOTE_FRAME     a frame to write as it is (RECEIPT);
 *   KC_NOTE_REVOKED   the client was revoked (`kcourierd revoke` through
 *                     the control socket, from the main thread): ERROR
 *                     UNAUTHORIZED, then the connection and its sessions
 *                     end.
 * While a connection is catching up (from authentication until a load
 * ends with nothing more), live DELIVERs are dropped: every one of them
 * was committed before the load that ends the catching up, so that load
 * brings it. DELIVERs at or below the highest position the connection
 * sent are dropped too. A slow reader (backlog above
 * KC_CONN_BACKLOG_HIGH) goes back to catching up, and asks for the next
 * load once its backlog is low again (on_writable).
 */
#ifndef KC_DELIVERY_H
#define KC_DELIVERY_H

#include <stdint.h>

struct kc_conn;
struct kc_payload;

enum kc_note_tag {
	KC_NOTE_FRAME = 0,
	KC_NOTE_LIVE,
	KC_NOTE_LOADED,
	KC_NOTE_LOAD_END,
	KC_NOTE_REVOKED,
};

/*
 * Checks that id is registered and not revoked, then joins and asks for
 * the queue. Returns 0, -EACCES (unknown or revoked id) or -errno; on
 * error the connection is unchanged.
 */
int kc_delivery_start(struct kc_conn *c, const char *id);
/* on_writable: the next load, while catching up. */
void kc_delivery_more(struct kc_conn *c);
/* on_note: a note for this connection (see the top of this file). */
void kc_delivery_note(struct kc_conn *c, const struct kc_payload *p);

#endif
