// SPDX-License-Identifier: GPL-2.0-only
/*
 * Token text and hash: see token.h. The raw random bytes never outlive
 * the call; the text goes to the operator, the hash to the store.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "token.h"

int kc_token_hash(struct kc_bytes token, char hash[KC_TOKEN_HASH_LEN + 1])
{
	uint8_t md[KC_TOKEN_HASH_LEN / 2];
	unsigned int md_len = 0;

	if (!EVP_Digest(token.p, token.len, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != sizeof(md)) {
		ERR_clear_error();
		return -EIO;
	}
	kc_hex(md, sizeof(md), hash);
	return 0;
}

int kc_token_make(char text[KC_TOKEN_TEXT_LEN + 1],
		  char hash[KC_TOKEN_HASH_LEN + 1])
{
	uint8_t raw[KC_TOKEN_BYTES];
	int ret;

	kc_random(raw, sizeof(raw));
	kc_hex(raw, sizeof(raw), text);
	explicit_bzero(raw, sizeof(raw));
	ret = kc_token_hash(
		(struct kc_bytes){ (const uint8_t *)text, KC_TOKEN_TEXT_LEN },
		hash);
	if (ret)
		explicit_bzero(text, KC_TOKEN_TEXT_LEN + 1);
	return ret;
}
