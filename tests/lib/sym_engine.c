// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's and the kernel's symmetric primitives: see sym_engine.h.
 */
#include <errno.h>

#include "crypto/afalg_probe.h"
#include "crypto/afalg_sock.h"
#include "crypto/keyring.h"
#include "sym_engine.h"

const struct sym_engine sym_engine_openssl = {
	.name = "openssl",
	.cbc_encrypt = kc_cbc_encrypt,
	.cbc_decrypt = kc_cbc_decrypt,
	.hmac = kc_hmac_sha256,
};

static struct kc_keyring ring;
static bool ring_open;

int sym_engine_kernel_init(char *why, size_t cap)
{
	int ret = kc_afalg_probe(why, cap);

	if (!ret && !ring_open) {
		ret = kc_keyring_open(&ring);
		ring_open = !ret;
	}
	return ret;
}

/*
 * Puts key into the keyring as a logon key and keys pair from it by
 * serial; the key leaves the keyring right away (the socket has it).
 */
static int key_pair(struct kc_alg *pair, const uint8_t *key, size_t len)
{
	static const uint8_t sid[KC_SID_LEN] = { 0x77 };
	key_serial_t serial;
	int ret;

	if (!ring_open)
		return -ENOKEY;
	ret = kc_keyring_add(&ring, "logon", sid, "wycheproof", key, len, 60,
			     &serial);
	if (ret)
		return ret;
	ret = kc_alg_key_serial(pair, serial, kc_afalg_key_id());
	kc_keyring_unlink(&ring, serial);
	return ret;
}

static struct kc_alg *thread_pair(bool cbc, int *err)
{
	struct kc_afalg_thread *t = kc_afalg_thread_get(err);

	return t ? (cbc ? &t->cbc : &t->hmac) : NULL;
}

static int kernel_cbc_encrypt(const uint8_t *key, size_t key_len,
			      const uint8_t iv[KC_IV_LEN], const uint8_t *pt,
			      size_t len, uint8_t *ct, size_t *ct_len)
{
	struct kc_alg *pair;
	int ret;

	pair = thread_pair(true, &ret);
	if (pair)
		ret = key_pair(pair, key, key_len);
	return ret ? ret
		   : kc_alg_cbc_encrypt_pkcs7(pair, iv, pt, len, ct, ct_len);
}

static int kernel_cbc_decrypt(const uint8_t *key, size_t key_len,
			      const uint8_t iv[KC_IV_LEN], const uint8_t *ct,
			      size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	struct kc_alg *pair;
	int ret;

	pair = thread_pair(true, &ret);
	if (pair)
		ret = key_pair(pair, key, key_len);
	return ret ? ret
		   : kc_alg_cbc_decrypt_pkcs7(pair, iv, ct, ct_len, pt, pt_len);
}

static int kernel_hmac(const uint8_t *key, size_t key_len,
		       const struct kc_iov *iov, size_t n,
		       uint8_t out[KC_MAC_LEN])
{
	struct kc_alg *pair;
	int ret;

	pair = thread_pair(false, &ret);
	if (pair)
		ret = key_pair(pair, key, key_len);
	return ret ? ret : kc_alg_hmac(pair, iov, n, out);
}

const struct sym_engine sym_engine_kernel = {
	.name = "kernel (AF_ALG, logon keys)",
	.cbc_encrypt = kernel_cbc_encrypt,
	.cbc_decrypt = kernel_cbc_decrypt,
	.hmac = kernel_hmac,
};
