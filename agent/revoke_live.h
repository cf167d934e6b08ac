/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Revocation of a live client: every connection it has now gets ERROR
 * UNAUTHORIZED and is closed, with its sessions (delivery.h,
 * KC_NOTE_REVOKED). The store already says revoked (`kcourierd revoke`
 * writes it before it tells the agent), so its next connection is refused
 * at authentication as before.
 */
#ifndef KC_AGENT_REVOKE_LIVE_H
#define KC_AGENT_REVOKE_LIVE_H

struct kc_proto;
struct kc_ring;

/*
 * Posts the revocation to each of id's connections, waking their workers
 * through `from`, the caller's own ring. Returns how many connections.
 */
unsigned int kcd_revoke_live(struct kc_proto *p, struct kc_ring *from,
			     const char *id);

#endif
