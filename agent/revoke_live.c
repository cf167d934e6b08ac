// SPDX-License-Identifier: GPL-2.0-only
/*
 * Revocation of a live client: see revoke_live.h.
 */
#include "proto/context.h"
#include "proto/delivery.h"
#include "proto/router.h"
#include "revoke_live.h"
#include "ring/inbox.h"
#include "ring/ring.h"

unsigned int kcd_revoke_live(struct kc_proto *p, struct kc_ring *from,
			     const char *id)
{
	struct kc_payload *note = kc_note_payload(NULL, 0, KC_NOTE_REVOKED);
	unsigned int n;

	if (!note)
		return 0;
	n = kc_router_post(p->router, from, id, note, true);
	kc_payload_put(note);
	/* The wake-ups go now; a worker would otherwise see it at its tick. */
	io_uring_submit(&from->ring);
	return n;
}
