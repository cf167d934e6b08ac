/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a crypto tier is to its callers (docs/DESIGN.md "Crypto backends"):
 * struct kc_crypto_ops, the work the agent and the client hand to a tier,
 * and the requests of that work. Two tiers implement it:
 *   afalg  AF_ALG (crypto_afalg.c), keyed from the kernel keyring
 *   user   OpenSSL in this process (crypto_user.c)
 * both on one session table and batch runner (tier_core.h). Callers open a
 * tier by name through crypto_ops.h.
 *
 * Keys are referred to by handle, never passed around as bytes after they
 * are installed: the afalg tier holds them in the keyring, and user space
 * never sees them again; the user tier holds them in locked memory. Bulk
 * work comes in batches, so a tier takes its lock once per batch (the
 * afalg tier still makes its system calls per message; the agent opens
 * each SEND as a batch of one).
 *
 * A session holds K (AES-256 key) and Km (its MAC key, derived on install).
 * Opening is encrypt-then-MAC: MAC over aad || ct checked in constant time
 * first, then CBC decrypt and padding; both failures are -KC_BAD_MAC.
 */
#ifndef KC_CRYPTO_TIER_H
#define KC_CRYPTO_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

typedef int32_t kc_handle_t;
#define KC_HANDLE_NONE ((kc_handle_t)-1)

struct kc_open_req {
	kc_handle_t session;	/* in */
	const uint8_t *aad;	/* in: bytes MACed before ct */
	size_t aad_len;		/* in */
	/*
	 * in: KC_IV_LEN. Not MACed on its own: aad must contain these same
	 * bytes (every MAC input of PROTOCOL.md has the iv before ct), so
	 * build aad from this iv, e.g. with kc_seq_aad().
	 */
	const uint8_t *iv;
	const uint8_t *ct;	/* in */
	size_t ct_len;		/* in */
	const uint8_t *mac;	/* in: KC_MAC_LEN */
	uint8_t *pt;		/* out: room for ct_len bytes */
	size_t pt_len;		/* out */
	int status;		/* out: 0, -KC_BAD_MAC, -KC_UNKNOWN_SESSION */
	/*
	 * out: the MAC verified. Callers must answer bad MAC and bad padding
	 * alike; the agent needs the difference only for PROTOCOL.md's rule
	 * that a seq which passed the MAC is used up whatever happens next.
	 */
	bool mac_ok;
};

struct kc_seal_req {
	kc_handle_t session;	/* in */
	const uint8_t *aad;	/* in: bytes MACed before ct (ct_len known ahead) */
	size_t aad_len;		/* in */
	const uint8_t *iv;	/* in: KC_IV_LEN fresh random bytes */
	const uint8_t *pt;	/* in */
	size_t pt_len;		/* in */
	uint8_t *ct;		/* out: room for kc_cbc_ct_len(pt_len) */
	size_t ct_len;		/* out */
	uint8_t mac[KC_MAC_LEN]; /* out */
	int status;		/* out: 0, -KC_UNKNOWN_SESSION or -errno */
};

struct kc_crypto;
struct kc_keyring;

struct kc_crypto_ops {
	const char *name;
	int (*create)(struct kc_crypto **out);
	void (*destroy)(struct kc_crypto *c);
	/*
	 * An RSA-2048 private key (PKCS#8 DER) used for unwrapping; -EINVAL
	 * if it does not parse or is not RSA-2048 with e = 65537. A tier
	 * with a keyring hands the key to the kernel (rsa_keyring.h) when the
	 * kernel takes it, and keeps no copy: user only with one set
	 * (set_keyring) beforehand, afalg always (its own "kcourier" keyring
	 * until set_keyring). The caller's DER is never kept either way, so
	 * wipe it once every tier has it.
	 */
	int (*load_unwrap_key)(struct kc_crypto *c, const uint8_t *pkcs8_der,
			       size_t len, kc_handle_t *out);
	/*
	 * Where unwraps under `key` run: the serial (> 0) of the kernel's
	 * asymmetric key when the kernel does the RSA and this process holds
	 * no private key, else -errno for why not: -ENOKEY no keyring (user
	 * tier: none set before load_unwrap_key), otherwise
	 * kc_rsa_keyring_load's error (-EBADMSG: no pkcs8_key_parser).
	 * -ENOENT for an unknown handle.
	 */
	int (*unwrap_key_serial)(struct kc_crypto *c, kc_handle_t key);
	void (*unload_key)(struct kc_crypto *c, kc_handle_t key);
	/*
	 * New session from raw K (client side, where K was just generated).
	 * sid names it where the tier keeps keys in the keyring; may be NULL.
	 */
	int (*session_install)(struct kc_crypto *c, const uint8_t *sid,
			       const uint8_t k[KC_KEY_LEN], kc_handle_t *out);
	/*
	 * New session from OAEP(pub, K) under an unwrap key. Always creates the
	 * session when it returns 0 or -EBADMSG: on -EBADMSG (no 32-byte K in
	 * there) the session holds a random K, so openers that do not look at
	 * the result end at a MAC failure (PROTOCOL.md section 1). An
	 * unknown key handle gives -ENOENT and no session.
	 */
	int (*session_unwrap)(struct kc_crypto *c, kc_handle_t key,
			      const uint8_t *sid,
			      const uint8_t wrapped[KC_RSA_LEN],
			      kc_handle_t *out);
	/*
	 * session_unwrap under whichever of two keys K was wrapped for
	 * (after a seal-key rotation: the new key and the one it replaced).
	 * Both private operations always run and the K is chosen without a
	 * branch, so neither the answer nor its time says which key, if any,
	 * unwrapped. An `old` already unloaded is as if absent.
	 */
	int (*session_unwrap_either)(struct kc_crypto *c, kc_handle_t key,
				     kc_handle_t old, const uint8_t *sid,
				     const uint8_t wrapped[KC_RSA_LEN],
				     kc_handle_t *out);
	/* Wipes K and Km; the handle then gives -KC_UNKNOWN_SESSION. */
	void (*session_drop)(struct kc_crypto *c, kc_handle_t session);
	/*
	 * Publishes every later session that has a sid in the kernel keyring
	 * as kcourier:<sid-hex>:enc / :mac with timeout ttl_s (keyring.h),
	 * withdrawn again on session_drop. The afalg tier keys its sockets
	 * from these keys (and gives a session without a sid a random one);
	 * the user tier mirrors them so operators can see them.
	 */
	int (*set_keyring)(struct kc_crypto *c, struct kc_keyring *kr,
			   unsigned int ttl_s);
	/* Batches: per-request results in .status; returns 0 or -errno. */
	int (*open_batch)(struct kc_crypto *c, struct kc_open_req *r, size_t n);
	int (*seal_batch)(struct kc_crypto *c, struct kc_seal_req *r, size_t n);
};

struct kc_crypto {
	const struct kc_crypto_ops *ops;
};

/* Thin wrappers so callers read as verbs. */
static inline int kc_session_install(struct kc_crypto *c, const uint8_t *sid,
				     const uint8_t k[KC_KEY_LEN], kc_handle_t *out)
{
	return c->ops->session_install(c, sid, k, out);
}
static inline int kc_session_unwrap(struct kc_crypto *c, kc_handle_t key,
				    const uint8_t *sid,
				    const uint8_t wrapped[KC_RSA_LEN],
				    kc_handle_t *out)
{
	return c->ops->session_unwrap(c, key, sid, wrapped, out);
}
static inline int kc_session_unwrap_either(struct kc_crypto *c,
					   kc_handle_t key, kc_handle_t old,
					   const uint8_t *sid,
					   const uint8_t wrapped[KC_RSA_LEN],
					   kc_handle_t *out)
{
	return c->ops->session_unwrap_either(c, key, old, sid, wrapped, out);
}
static inline void kc_session_drop(struct kc_crypto *c, kc_handle_t s)
{
	c->ops->session_drop(c, s);
}
static inline int kc_open_batch(struct kc_crypto *c, struct kc_open_req *r,
				size_t n)
{
	return c->ops->open_batch(c, r, n);
}
static inline int kc_seal_batch(struct kc_crypto *c, struct kc_seal_req *r,
				size_t n)
{
	return c->ops->seal_batch(c, r, n);
}

#endif
