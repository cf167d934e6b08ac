/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Request handlers (PROTOCOL.md section 4). Each appends its answer to
 * the connection's output; SEND's ACK may be held for the group commit.
 * Statuses a peer can cause are answers, never failures of the agent.
 */
#ifndef KC_HANDLERS_H
#define KC_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

struct kc_conn;

/*
 * The longest frame len before authentication (PROTOCOL.md section 3),
 * so a peer without a certificate cannot make the agent buffer a
 * max_frame-sized frame; max_frame itself is never below it.
 */
#define KC_UNAUTH_FRAME_MAX 16384u

/* One whole frame as delimited by kc_frame_peek (conn's on_frame). */
void kc_handle_frame(struct kc_conn *c, const uint8_t *frame, size_t len);

#endif
