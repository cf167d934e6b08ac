/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 4648 base64, standard alphabet with padding, canonical only
 * (PROTOCOL.md notation): no whitespace, unused bits zero. Built on
 * OpenSSL's EVP encoder; canonical form is enforced by re-encoding.
 */
#ifndef KC_B64_H
#define KC_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length including the terminating NUL. */
static inline size_t kc_b64_len(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}
/* Writes NUL-terminated text into out (kc_b64_len(n) bytes). */
void kc_b64_encode(const uint8_t *p, size_t n, char *out);
/*
 * Decodes exactly `len` characters. out must hold len / 4 * 3 bytes.
 * Returns 0 or -EBADMSG for anything that is not canonical base64.
 */
int kc_b64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);

#endif
