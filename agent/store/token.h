/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enrollment tokens as text and as what a store keeps of them. The token
 * is 32 random bytes in lowercase hex; a store keeps only the hex SHA-256
 * of that text, so a copy of the store hands out no registrations. Every
 * store implementation sees hashes only (store_int.h).
 */
#ifndef KC_STORE_TOKEN_H
#define KC_STORE_TOKEN_H

#include "wire/wire.h"

#define KC_TOKEN_BYTES 32
#define KC_TOKEN_TEXT_LEN (2 * KC_TOKEN_BYTES)
#define KC_TOKEN_HASH_LEN 64 /* hex SHA-256 */

/* The hash of token's text: 0 or -EIO. */
int kc_token_hash(struct kc_bytes token, char hash[KC_TOKEN_HASH_LEN + 1]);

/* A fresh token's text and its hash: 0, or -EIO with text wiped. */
int kc_token_make(char text[KC_TOKEN_TEXT_LEN + 1],
		  char hash[KC_TOKEN_HASH_LEN + 1]);

#endif
