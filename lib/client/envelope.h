/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one-shot JSON envelope of PROTOCOL.md section 2:
 *   {"v":1, "encrypted_aes_key", "iv", "encrypted_message", "mac"}
 * Sealing needs only the recipient's public key; opening goes through a
 * crypto tier with the recipient's enc key loaded as an unwrap key.
 */
#ifndef KC_ENVELOPE_H
#define KC_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/crypto_ops.h"

/* Largest envelope text accepted (about 192 MiB of plaintext). */
#define KC_ENVELOPE_MAX ((size_t)256 << 20)

/* *json is malloc'ed, NUL-terminated, without a trailing newline. */
int kc_envelope_seal(struct kc_crypto *c, EVP_PKEY *recipient_pub,
		     const uint8_t *pt, size_t pt_len, char **json,
		     size_t *json_len);

/*
 * Every failure to open (malformed JSON, extra or missing members, wrong
 * v, non-canonical base64, wrong lengths, failed unwrap, bad MAC, bad
 * padding) returns -EBADMSG and writes nothing to *pt. -ENOMEM is the only
 * other error. *pt is malloc'ed.
 */
int kc_envelope_open(struct kc_crypto *c, kc_handle_t unwrap_key,
		     const char *json, size_t json_len, uint8_t **pt,
		     size_t *pt_len);

#endif
