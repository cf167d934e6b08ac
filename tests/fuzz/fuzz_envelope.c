// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: kc_envelope_open() on arbitrary bytes.
 *
 * The recipient key is generated at start-up, so no input can be an
 * authentic envelope for it (that would take forging HMAC-SHA256 under a
 * K wrapped to a key nobody has seen). Every input must therefore give
 * -EBADMSG (or -ENOMEM) and leave *pt untouched; anything else, or any
 * sanitizer report, is a bug. The seed corpus holds real envelopes sealed
 * to other keys and near misses, so the fuzzer starts deep in the parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "client/envelope.h"
#include "crypto/keyfile.h"

static struct kc_crypto *crypto;
static kc_handle_t unwrap_key = KC_HANDLE_NONE;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	size_t len = 0;
	int ret;

	ret = kc_crypto_open("user", &crypto);
	if (!ret)
		ret = kc_rsa_generate(&key);
	if (!ret)
		ret = kc_key_pkcs8_der(key, &der, &len);
	if (!ret)
		ret = crypto->ops->load_unwrap_key(crypto, der, len,
						   &unwrap_key);
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(key);
	if (ret) {
		fprintf(stderr, "fuzz_envelope: no recipient key: %d\n", ret);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int ret;

	ret = kc_envelope_open(crypto, unwrap_key, (const char *)data, size,
			       &pt, &pt_len);
	if ((ret != -EBADMSG && ret != -ENOMEM) || pt || pt_len) {
		fprintf(stderr, "fuzz_envelope: open returned %d, pt %p\n", ret,
			(void *)pt);
		abort();
	}
	return 0;
}
