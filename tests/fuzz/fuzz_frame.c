// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the frame codec: the input is a byte stream as it
 * would arrive on a connection. Every frame kc_frame_peek delimits is
 * decoded and must re-encode to the same bytes; records nested in SEND and
 * DELIVER go through the inner decoders too.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_check.h"
#include "wire/wire.h"

#define MAX_FRAME KC_MAX_FRAME_DEFAULT

static size_t encode_frame(const void *f, uint8_t *out, size_t cap)
{
	return kc_frame_encode(f, out, cap);
}

static void check_frame(const uint8_t *p, size_t len)
{
	struct kc_frame f;
	int rc = kc_frame_decode(p, len, &f);

	check_status(rc);
	if (rc)
		return;
	check_same(p, len, kc_frame_size(&f), encode_frame, &f);
	if (f.type == KC_T_SEND) {
		/* Really ciphertext, but the fuzzer may as well aim here. */
		check_send_plain(f.u.send.ct.p, f.u.send.ct.len);
		check_inner(f.u.send.ct.p, f.u.send.ct.len);
	} else if (f.type == KC_T_DELIVER) {
		check_inner(f.u.deliver.inner.p, f.u.deliver.inner.len);
	}
}

/* kc_frame_peek's answer must follow from the 4 len bytes alone. */
static void check_peek(const uint8_t *p, size_t avail, long n)
{
	uint32_t len;

	if (avail < 4) {
		if (n != 0)
			abort();
		return;
	}
	len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	if (len == 0 && n != -KC_BAD_FRAME)
		abort();
	if (len > MAX_FRAME && n != -KC_TOO_LARGE)
		abort();
	if (len && len <= MAX_FRAME && n != (avail - 4 >= len ? 4 + len : 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;
	long n;

	/* The whole input as one frame exercises the len-mismatch path. */
	check_frame(data, size);
	for (;;) {
		n = kc_frame_peek(data + at, size - at, MAX_FRAME);
		check_peek(data + at, size - at, n);
		if (n <= 0)
			break;
		check_frame(data + at, (size_t)n);
		at += (size_t)n;
	}
	return 0;
}
