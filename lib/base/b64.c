// SPDX-License-Identifier: GPL-2.0-only
/*
 * Canonical base64 (RFC 4648 section 4, PROTOCOL.md notation) on OpenSSL's
 * EVP block coder.
 *
 * EVP_DecodeBlock is lenient: it skips surrounding whitespace, accepts
 * nonzero unused bits and '=' in odd places, and counts padding as zero
 * bytes. Rather than second-guess its grammar, decoding re-encodes what it
 * produced and demands the exact input back: canonical base64 is the one
 * text that survives that round trip.
 *
 * Both directions work in chunks so the int-sized OpenSSL interface never
 * sees more than a few KiB, whatever the envelope size, and the re-encoded
 * copy lives on the stack.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/b64.h"

/* Raw bytes per chunk (multiple of 3) and the text they become. */
#define RAW_CHUNK (3 * 1024)
#define TXT_CHUNK (4 * 1024)

void kc_b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t step;

	*out = '\0';
	while (n > 0) {
		step = n < RAW_CHUNK ? n : RAW_CHUNK;
		/* Writes 4 * ceil(step / 3) characters and a NUL. */
		out += EVP_EncodeBlock((unsigned char *)out, p, (int)step);
		p += step;
		n -= step;
	}
}

/* Number of '=' at the end of the last quad (0 to 2 in canonical text). */
static size_t padding_len(const char *quad)
{
	if (quad[3] != '=')
		return 0;
	return quad[2] == '=' ? 2 : 1;
}

/*
 * Decodes one chunk of whole quads; padding may only appear when `last`.
 * The re-encoding check rejects whitespace, misplaced '=', characters
 * outside the alphabet and nonzero unused bits in the final quad.
 */
static int decode_chunk(const char *s, size_t len, bool last, uint8_t *out,
			size_t *out_len)
{
	char again[TXT_CHUNK + 1];
	size_t n, pad;
	int got;

	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (got < 0 || (size_t)got != len / 4 * 3)
		return -EBADMSG;
	pad = last ? padding_len(s + len - 4) : 0;
	n = (size_t)got - pad;
	EVP_EncodeBlock((unsigned char *)again, out, (int)n);
	if (memcmp(again, s, len) != 0)
		return -EBADMSG;
	*out_len = n;
	return 0;
}

int kc_b64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	size_t total = 0, step, got;
	int ret;

	if (len % 4 != 0)
		return -EBADMSG;
	while (len > 0) {
		step = len < TXT_CHUNK ? len : TXT_CHUNK;
		ret = decode_chunk(s, step, step == len, out + total, &got);
		if (ret)
			return ret;
		s += step;
		len -= step;
		total += got;
	}
	*out_len = total;
	return 0;
}
