/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RSA-2048 unwrap keys held by the kernel (docs/DESIGN.md "Keys"): the
 * PKCS#8 private key goes into the kernel keyring as an "asymmetric" key
 * (which needs the pkcs8_key_parser module), the RSA private operation is
 * `keyctl pkey_decrypt` with "enc=raw" (mainline has no OAEP encoding), and
 * the OAEP padding is checked in user space in constant time
 * (oaep_decode.h). Once loaded, the caller can wipe and free its own copy:
 * user space never holds the private key again.
 *
 * Crypto tiers use the kc_unwrap_key API at the end (through their
 * unwrap_keys.h table), which takes the kernel path when it can and stays
 * with OpenSSL when it cannot: the afalg tier with its own keyring, the
 * user tier when it was given one before load_unwrap_key (crypto_tier.h).
 *
 * Keys are named "kcourier:rsa:<tag>:<pid>.<n>" (unique per load, so
 * tier instances in one process never replace each other's key), are
 * linked into `ring` for operators to see (`keyctl show %:kcourier`) and
 * into the process keyring, which keeps the key usable by this process if
 * another agent's start-up purge unlinks it from `ring`, and drops it when
 * the process dies. A key left in `ring` by a killed agent has the
 * "kcourier:" prefix, so the next start's kc_keyring_purge removes it.
 */
#ifndef KC_RSA_KEYRING_H
#define KC_RSA_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keyutils.h>
#include <openssl/evp.h>

#include "wire/wire.h"

#define KC_RSA_KEY_TAG_MAX 32

/*
 * Seal keys in the kernel expire after this long unless refreshed
 * (kc_rsa_keyring_refresh): a killed agent's key does not outlive it by
 * more, while a running agent keeps its own alive.
 */
#define KC_SEAL_KEY_TIMEOUT_S 300

/*
 * Loads an unencrypted PKCS#8 RSA private key into ring and checks that the
 * kernel takes it as an RSA-2048 key it can raw-decrypt with; it gets
 * KC_KEY_PERM (keyring.h: only this process may use it, the uid may see
 * it) and a timeout of KC_SEAL_KEY_TIMEOUT_S. Returns 0 with
 * *out set, or -errno: what add_key said when the kernel cannot hold it
 * (-EBADMSG: no parser took the DER, pkcs8_key_parser is not loaded;
 * -ENODEV: no "asymmetric" key type; -ENOPKG: no "rsa" akcipher), -EINVAL
 * when it is not RSA-2048, -EDQUOT and others from the keyring.
 */
int kc_rsa_keyring_load(key_serial_t ring, const char *tag,
			const uint8_t *pkcs8, size_t len, key_serial_t *out);

/*
 * Sets every kcourier:rsa:* asymmetric key in ring to expire
 * KC_SEAL_KEY_TIMEOUT_S from now. Returns how many, or -errno.
 */
int kc_rsa_keyring_refresh(key_serial_t ring);

/*
 * Unlinks the key from ring and invalidates it, so no keyring anywhere
 * keeps it. 0 or a key already gone are harmless.
 */
void kc_rsa_keyring_unload(key_serial_t ring, key_serial_t key);

/*
 * The RSA decryption primitive (RFC 8017 5.1.2) by the kernel: em =
 * I2OSP(c^d mod n, 256). Returns 0, -EINVAL when the kernel refuses c
 * (it must be 1 < c < n - 1), or another -errno (-ENOKEY, -EKEYREVOKED,
 * -EACCES: the key is gone or not ours; -ENOMEM). Unblinded: for tests,
 * which compare it with the blinded path; the agent uses only that one.
 */
int kc_rsa_keyring_raw(key_serial_t key, const uint8_t c[KC_RSA_LEN],
		       uint8_t em[KC_RSA_LEN]);

/*
 * The same result, blinded (rsa_blind.h): the kernel sees c * r^e mod n
 * for a fresh r, never c. n is the key's modulus (kc_rsa_modulus).
 */
int kc_rsa_keyring_raw_blinded(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			       const uint8_t c[KC_RSA_LEN],
			       uint8_t em[KC_RSA_LEN]);

/*
 * RSAES-OAEP decryption (SHA-256, MGF1-SHA-256) under label, blinded
 * under the key's modulus n, like
 * kc_oaep_unwrap_label (crypto.h): m must hold KC_RSA_LEN bytes (at most
 * KC_OAEP_MSG_MAX are the message). Every failure the ciphertext can cause
 * (c_len other than KC_RSA_LEN, c out of range, any padding check) is
 * -EBADMSG; other errors of kc_rsa_keyring_raw come back as they are.
 */
int kc_rsa_keyring_unwrap(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			  const uint8_t *label,
			  size_t label_len, const uint8_t *c, size_t c_len,
			  uint8_t *m, size_t *m_len);

/*
 * The session-key unwrap, like kc_oaep_unwrap_key: 0 with K, or -EBADMSG
 * with a fresh random K (PROTOCOL.md section 1: a failed unwrap goes on
 * with a random K), or another -errno from kc_rsa_keyring_raw (k is then
 * random too, but the caller should make no session of it).
 */
int kc_rsa_keyring_unwrap_key(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			      const uint8_t c[KC_RSA_LEN],
			      uint8_t k[KC_KEY_LEN]);

/*
 * For crypto tiers: the seal key of a tier's load_unwrap_key, in the kernel
 * when a keyring is given and the kernel takes it, else an EVP_PKEY here.
 * Tiers keep these by value in an unwrap_keys.h table; all zero is free.
 * Exactly one of pkey and serial is set in a loaded key.
 */
struct kc_unwrap_key {
	EVP_PKEY *pkey;	    /* the private key in this process, or NULL */
	key_serial_t serial; /* the kernel's asymmetric key, or 0 */
	key_serial_t ring;   /* where serial is linked */
	uint8_t n[KC_RSA_LEN]; /* with serial: the modulus, for blinding */
	int why_not_kernel;  /* with pkey: -ENOKEY (no ring) or the error */
};

/*
 * Parses PKCS#8 DER as an RSA-2048, e = 65537 key (else -EINVAL, and k
 * stays free). With ring != 0 the kernel gets the key and this process
 * drops its own; if the kernel cannot take it, the key stays with OpenSSL
 * and why_not_kernel says why. The caller still wipes der.
 */
int kc_unwrap_key_load(struct kc_unwrap_key *k, key_serial_t ring,
		       const uint8_t *der, size_t len);
/* Frees or unloads the key and zeroes k; a free k is fine. */
void kc_unwrap_key_free(struct kc_unwrap_key *k);

static inline bool kc_unwrap_key_used(const struct kc_unwrap_key *k)
{
	return k->pkey || k->serial > 0;
}

/* The serial (> 0) when the kernel holds it, else why not (-errno). */
static inline int kc_unwrap_key_where(const struct kc_unwrap_key *k)
{
	return k->serial > 0 ? k->serial : k->why_not_kernel;
}

/*
 * A copy to unwrap with outside the tier's lock: takes a reference on the
 * EVP_PKEY, so freeing the original meanwhile is harmless (a kernel key
 * unloaded meanwhile makes the unwrap fail with no session). Returns 0 or
 * -ENOENT for a free k; give the copy back with kc_unwrap_key_put.
 */
int kc_unwrap_key_get(const struct kc_unwrap_key *k,
		      struct kc_unwrap_key *copy);
void kc_unwrap_key_put(struct kc_unwrap_key *copy);

/* kc_oaep_unwrap_key's contract (crypto.h), by OpenSSL or the kernel. */
int kc_unwrap_key_unwrap(const struct kc_unwrap_key *k,
			 const uint8_t c[KC_RSA_LEN], uint8_t key[KC_KEY_LEN]);

#endif
