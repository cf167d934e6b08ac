/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RSA-2048 test keys made once and reused. Key generation costs 50-200 ms
 * here and seconds in the VM lab's TCG guest, and the agent suites make
 * four keys for every test, each against a fresh agent, so reusing a key
 * across tests changes nothing they check. Key generation itself is tested
 * in test_envelope and test_keyfile, which do not use this.
 *
 * Keys live as unencrypted PKCS#8 files under /tmp/kc-test-keys-<uid>/
 * (mode 0700), written to a temporary name and renamed, so test binaries
 * running side by side never read half a key.
 */
#ifndef KC_TEST_KEYCACHE_H
#define KC_TEST_KEYCACHE_H

#include <openssl/evp.h>

/*
 * The key called name ([a-z0-9._-], at most 64 bytes): read from the cache,
 * or generated and stored. 0 with *out set, or -errno.
 */
int test_cached_rsa_key(const char *name, EVP_PKEY **out);

#endif
