/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SEND (PROTOCOL.md section 4): the seven checks of send.c, in order.
 */
#ifndef KC_PROTO_SEND_H
#define KC_PROTO_SEND_H

#include "wire/wire.h"

struct kc_conn;

void kc_handle_send(struct kc_conn *c, const struct kc_send *s);

#endif
