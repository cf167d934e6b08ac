/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * REGISTER (PROTOCOL.md section 4): the one request of a connection
 * without a certificate (register.c).
 */
#ifndef KC_PROTO_REGISTER_H
#define KC_PROTO_REGISTER_H

#include "wire/wire.h"

struct kc_conn;

void kc_handle_register(struct kc_conn *c, const struct kc_register *r);

#endif
