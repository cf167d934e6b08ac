// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hex decoding for test vectors: see hex.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int byte;

	if (n > cap)
		return (size_t)-1;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return (size_t)-1;
		out[i] = (uint8_t)byte;
	}
	return n;
}

uint8_t *test_json_hex(json_t *obj, const char *name, size_t *len)
{
	const char *hex = json_string_value(json_object_get(obj, name));
	size_t n;
	uint8_t *out;

	if (!hex || strlen(hex) % 2)
		return NULL;
	n = strlen(hex) / 2;
	out = malloc(n + 1);
	if (out && test_unhex(hex, out, n) != n) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}
