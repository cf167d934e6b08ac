/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel crypto API over AF_ALG sockets, for the afalg crypto tier
 * (crypto_afalg.c) and its probe (afalg_probe.c); private to the library.
 *
 * An algorithm is a pair of sockets: the "tfm" socket names the algorithm
 * (bind) and holds the key; an "op" socket accepted from it runs
 * operations. The tier keys tfm sockets only with ALG_SET_KEY_BY_KEY_SERIAL
 * (Linux 6.2), naming a logon key in the kernel keyring, so K and Km go
 * from the keyring to the cipher without passing through this process.
 *
 * libkcapi hides its handles' file descriptors and can only set a key from
 * bytes, which is exactly what the tier must not do, so the keyed sockets
 * are opened here; libkcapi checks them (afalg_probe.c).
 *
 * The kernel refuses to re-key a tfm socket while an op socket accepted
 * after keying is open (EBUSY), so re-keying closes the op socket, sets the
 * key and accepts a new one. Each thread keeps its own pair per algorithm
 * (afalg_thread_get) and re-keys only when the session changes.
 */
#ifndef KC_AFALG_SOCK_H
#define KC_AFALG_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keyutils.h>

#include "crypto/crypto.h"

/* Linux 6.2; Debian 12's linux-libc-dev (6.1) does not have it. */
#ifndef ALG_SET_KEY_BY_KEY_SERIAL
#define ALG_SET_KEY_BY_KEY_SERIAL 7
#endif

#define KC_AES_BLOCK 16

struct kc_alg {
	int tfm;
	int op;		 /* -1 until keyed */
	uint64_t key_id; /* the tier's name for the key it holds; 0 none */
};

#define KC_ALG_INIT { .tfm = -1, .op = -1, .key_id = 0 }

/*
 * Sockets for "skcipher" "cbc(aes)" or "hash" "hmac(sha256)": 0 or -errno.
 * On failure *a is left closed, so kc_alg_close may follow either way.
 */
int kc_alg_open(struct kc_alg *a, const char *type, const char *name);
/* Closes both sockets; accepts NULL, KC_ALG_INIT and closed pairs. */
void kc_alg_close(struct kc_alg *a);

/*
 * Keys the tfm socket from the keyring key `serial` and accepts a fresh op
 * socket; key_id is remembered so callers can skip re-keying. On failure
 * the pair holds no usable key (key_id 0, no op socket).
 */
int kc_alg_key_serial(struct kc_alg *a, key_serial_t serial, uint64_t key_id);
/* The same from key bytes in this process (a key the keyring refused). */
int kc_alg_key_raw(struct kc_alg *a, const uint8_t *key, size_t len,
		   uint64_t key_id);

/*
 * Operations on a keyed pair. A failure closes the op socket (a half-done
 * operation would poison the next one), so the pair must be keyed again.
 */

/* HMAC of the concatenation of iov[0..n), n <= 4, on a "hash" pair. */
int kc_alg_hmac(struct kc_alg *a, const struct kc_iov *iov, size_t n,
		uint8_t out[KC_MAC_LEN]);

/*
 * Raw CBC (no padding) over the concatenation of in[0..n), every part a
 * multiple of KC_AES_BLOCK (else -EINVAL), into out, on an "skcipher" pair.
 */
int kc_alg_cbc(struct kc_alg *a, bool encrypt, const uint8_t iv[KC_IV_LEN],
	       const struct kc_iov *in, size_t n, uint8_t *out);

/*
 * AES-CBC with PKCS#7 padding on an "skcipher" pair, padded and unpadded
 * here since the kernel's cbc(aes) takes whole blocks only; kc_cbc_encrypt's
 * and kc_cbc_decrypt's contracts (crypto.h): ct has room for
 * kc_cbc_ct_len(pt_len), and a bad length or padding is -EBADMSG with pt
 * wiped.
 */
int kc_alg_cbc_encrypt_pkcs7(struct kc_alg *a, const uint8_t iv[KC_IV_LEN],
			     const uint8_t *pt, size_t pt_len, uint8_t *ct,
			     size_t *ct_len);
int kc_alg_cbc_decrypt_pkcs7(struct kc_alg *a, const uint8_t iv[KC_IV_LEN],
			     const uint8_t *ct, size_t ct_len, uint8_t *pt,
			     size_t *pt_len);

/* This thread's cbc(aes) and hmac(sha256) pairs, opened on first use. */
struct kc_afalg_thread {
	struct kc_alg cbc;
	struct kc_alg hmac;
};

/* NULL with *err set when the sockets cannot be opened. */
struct kc_afalg_thread *kc_afalg_thread_get(int *err);

/* A fresh name for a key a kc_alg may hold: never 0, never reused. */
uint64_t kc_afalg_key_id(void);

#endif
