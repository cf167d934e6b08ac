/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hex decoding for test vectors (Wycheproof JSON fields, the hex lines the
 * Python cross-checks print). Test-only: the product never reads hex.
 */
#ifndef KC_TEST_HEX_H
#define KC_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Decodes the first strlen(hex) / 2 byte pairs of hex into out: their
 * count, or (size_t)-1 when that is over cap or a pair is not hex.
 */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

/*
 * The string field name of obj, decoded into a malloc'ed buffer (at least
 * one byte, so an empty field is not NULL): NULL when the field is
 * missing, of odd length or not hex.
 */
uint8_t *test_json_hex(json_t *obj, const char *name, size_t *len);

#endif
