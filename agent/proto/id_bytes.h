/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client ids as requests carry them (a str, PROTOCOL.md section 4) and as
 * the agent keeps them (NUL-terminated).
 */
#ifndef KC_PROTO_ID_BYTES_H
#define KC_PROTO_ID_BYTES_H

#include <stdbool.h>

#include "wire/wire.h"

/* A str from the wire as a NUL-terminated client id; false if invalid. */
bool kc_id_from_bytes(struct kc_bytes b, char out[KC_CLIENT_ID_MAX + 1]);

#endif
