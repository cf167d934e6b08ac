/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * EME-OAEP decoding (RFC 8017 7.1.2 step 3) with SHA-256 and MGF1-SHA-256,
 * in constant time, for RSA-2048 private operations done elsewhere: the
 * kernel's `keyctl pkey_decrypt enc=raw` gives the encoded message EM and
 * nothing more (mainline has no OAEP), so the padding is checked here.
 *
 * Manger's attack (CRYPTO 2001) needs only to tell "first byte not zero"
 * from any other failure. So every check (Y == 0, lHash' == lHash, the
 * zeros then 0x01 of PS, the message length) is folded into one mask with
 * no branch or memory access that depends on EM, the work does not depend
 * on where or whether a check fails, and every failure is -EBADMSG.
 */
#ifndef KC_OAEP_DECODE_H
#define KC_OAEP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define KC_OAEP_HASH_LEN 32 /* SHA-256 */
/* The longest message RSA-2048 OAEP-SHA-256 carries: k - 2 hLen - 2. */
#define KC_OAEP_MSG_MAX (KC_RSA_LEN - 2 * KC_OAEP_HASH_LEN - 2)

/*
 * Decodes em (I2OSP of the RSA decryption primitive's output, exactly
 * KC_RSA_LEN bytes) under label. Always writes all KC_OAEP_MSG_MAX bytes
 * of m: the message, then zeros (all zeros on failure). Returns 0 with
 * *m_len set, or -EBADMSG (and *m_len = 0) for every failure.
 */
int kc_oaep_decode(const uint8_t em[KC_RSA_LEN], const uint8_t *label,
		   size_t label_len, uint8_t m[KC_OAEP_MSG_MAX], size_t *m_len);

/*
 * The session-key form (PROTOCOL.md section 1), empty label: k gets the
 * message when it decodes to exactly KC_KEY_LEN bytes, else the caller's
 * fresh random fallback, chosen without a branch. Returns 0 or -EBADMSG;
 * either way k holds a key to go on with.
 */
int kc_oaep_decode_key(const uint8_t em[KC_RSA_LEN],
		       const uint8_t fallback[KC_KEY_LEN],
		       uint8_t k[KC_KEY_LEN]);

#endif
