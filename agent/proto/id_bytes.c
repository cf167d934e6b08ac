// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client ids from the wire: see id_bytes.h.
 */
#include <string.h>

#include "proto/id_bytes.h"

bool kc_id_from_bytes(struct kc_bytes b, char out[KC_CLIENT_ID_MAX + 1])
{
	if (!kc_client_id_valid(b.p, b.len))
		return false;
	memcpy(out, b.p, b.len);
	out[b.len] = '\0';
	return true;
}
