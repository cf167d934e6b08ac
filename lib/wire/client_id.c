// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client id grammar, PROTOCOL.md section 3: ^[a-z0-9][a-z0-9._-]{0,63}$.
 * Spelled out byte by byte instead of with <ctype.h>, whose classes follow
 * the locale: an id must mean the same bytes on every machine.
 */
#include <stdbool.h>

#include "wire/wire.h"

static bool id_lead_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool id_char(uint8_t c)
{
	return id_lead_char(c) || c == '.' || c == '_' || c == '-';
}

int kc_client_id_valid(const uint8_t *p, size_t len)
{
	size_t i;

	if (!p || len == 0 || len > KC_CLIENT_ID_MAX || !id_lead_char(p[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!id_char(p[i]))
			return 0;
	return 1;
}
