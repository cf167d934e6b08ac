/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Request handlers (PROTOCOL.md section 4). Each appends its answer to
 * the connection's output; SEND's ACK may be held for the group commit.
 * Statuses a peer can cause are answers, never failures of the agent.
 */
#ifndef KC_HANDLERS_H
#define KC_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

struct kc_conn;

/* One whole frame as delimited by kc_frame_peek. */
void kc_handle_frame(struct kc_conn *c, const uint8_t *frame, size_t len);

/* register.c: the one request of a connection without a certificate. */
void kc_handle_register(struct kc_conn *c, const struct kc_register *r);
/* send.c: the seven checks of SEND, in order. */
void kc_handle_send(struct kc_conn *c, const struct kc_send *s);

/* A str from the wire as a NUL-terminated client id; false if invalid. */
bool kc_id_from_bytes(struct kc_bytes b, char out[KC_CLIENT_ID_MAX + 1]);

#endif
