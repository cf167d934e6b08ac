/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the codec fuzz targets: whatever decodes must re-encode to the
 * very same bytes, and whatever fails must fail with a status the protocol
 * allows. Any other outcome abort()s so libFuzzer keeps the input.
 */
#ifndef KC_FUZZ_CODEC_CHECK_H
#define KC_FUZZ_CODEC_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static void check_status(int rc)
{
	if (rc != 0 && rc != -KC_BAD_FRAME && rc != -KC_UNKNOWN_TYPE)
		abort();
}

/* The encoder, given what the decoder made of p, must give back p. */
static void check_same(const uint8_t *p, size_t len, size_t size,
		       size_t (*encode)(const void *, uint8_t *, size_t),
		       const void *decoded)
{
	uint8_t *again;

	if (size != len)
		abort();
	again = malloc(len ? len : 1);
	if (!again)
		return;
	if (encode(decoded, again, len) != len || memcmp(p, again, len))
		abort();
	free(again);
}

static size_t encode_inner(const void *in, uint8_t *out, size_t cap)
{
	return kc_inner_encode(in, out, cap);
}

static size_t encode_send_plain(const void *sp, uint8_t *out, size_t cap)
{
	return kc_send_plain_encode(sp, out, cap);
}

static void check_inner(const uint8_t *p, size_t len)
{
	struct kc_inner in;
	int rc = kc_inner_decode(p, len, &in);

	check_status(rc);
	if (rc == 0)
		check_same(p, len, kc_inner_size(&in), encode_inner, &in);
}

static void check_send_plain(const uint8_t *p, size_t len)
{
	struct kc_send_plain sp;
	int rc = kc_send_plain_decode(p, len, &sp);

	if (rc != 0 && rc != -KC_BAD_FRAME)
		abort();
	if (rc)
		return;
	check_same(p, len, kc_send_plain_size(&sp), encode_send_plain, &sp);
	check_inner(sp.inner.p, sp.inner.len);
}

#endif
