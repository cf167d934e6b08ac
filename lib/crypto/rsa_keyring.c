// SPDX-License-Identifier: GPL-2.0-only
/*
 * RSA-2048 unwrap keys in the kernel keyring: see rsa_keyring.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/oaep_decode.h"
#include "crypto/rsa_blind.h"
#include "crypto/rsa_keyring.h"

#define RSA_BITS 2048
/* No OAEP in mainline's keyctl pkey_*: the kernel does the bare RSA. */
#define RAW_INFO "enc=raw"
/* "kcourier:rsa:" tag ":" pid "." n */
#define DESC_MAX (sizeof(KC_KEYRING_NAME) + 5 + KC_RSA_KEY_TAG_MAX + 24)

static atomic_uint load_seq;

/*
 * The kernel parsed the DER itself: make sure it sees the RSA-2048 key
 * that the caller checked, able to decrypt with "enc=raw".
 */
static int check_rsa2048(key_serial_t key)
{
	struct keyctl_pkey_query q;

	memset(&q, 0, sizeof(q));
	if (keyctl_pkey_query(key, RAW_INFO, &q) < 0)
		return -errno;
	if (q.key_size != RSA_BITS ||
	    !(q.supported_ops & KEYCTL_SUPPORTS_DECRYPT) ||
	    q.max_enc_size != KC_RSA_LEN || q.max_dec_size != KC_RSA_LEN)
		return -EINVAL;
	return 0;
}

int kc_rsa_keyring_load(key_serial_t ring, const char *tag,
			const uint8_t *pkcs8, size_t len, key_serial_t *out)
{
	char desc[DESC_MAX];
	key_serial_t key;
	int ret;

	*out = 0;
	if (!tag || strlen(tag) > KC_RSA_KEY_TAG_MAX)
		return -EINVAL;
	snprintf(desc, sizeof(desc), "%srsa:%s:%d.%u", KC_KEYRING_NAME ":",
		 tag, (int)getpid(), atomic_fetch_add(&load_seq, 1));
	key = add_key("asymmetric", desc, pkcs8, len, ring);
	if (key < 0)
		return -errno;
	ret = check_rsa2048(key);
	if (!ret)
		ret = kc_keyring_restrict(key);
	/* A killed agent's key goes by itself; the running one refreshes. */
	if (!ret && keyctl_set_timeout(key, KC_SEAL_KEY_TIMEOUT_S) < 0)
		ret = -errno;
	if (ret) {
		kc_rsa_keyring_unload(ring, key);
		return ret;
	}
	/* Best effort: the link in ring alone also keeps the key alive. */
	keyctl_link(key, KEY_SPEC_PROCESS_KEYRING);
	*out = key;
	return 0;
}

/* Refreshes `id` if it is one of our asymmetric keys; 1 if it was. */
static int refresh_one(key_serial_t id)
{
	static const char want[] = "asymmetric;";
	char *desc = NULL;
	const char *name;
	int refreshed = 0;

	/* Description is "type;uid;gid;perm;name"; the name is last. */
	if (keyctl_describe_alloc(id, &desc) < 0)
		return 0;
	name = strrchr(desc, ';');
	if (!strncmp(desc, want, strlen(want)) && name &&
	    !strncmp(name + 1, KC_KEYRING_NAME ":rsa:",
		     sizeof(KC_KEYRING_NAME ":rsa:") - 1) &&
	    keyctl_set_timeout(id, KC_SEAL_KEY_TIMEOUT_S) == 0)
		refreshed = 1;
	free(desc);
	return refreshed;
}

int kc_rsa_keyring_refresh(key_serial_t ring)
{
	key_serial_t *ids = NULL;
	int n, count = 0;

	n = keyctl_read_alloc(ring, (void **)&ids);
	if (n < 0)
		return -errno;
	for (size_t i = 0; i < (size_t)n / sizeof(*ids); i++)
		count += refresh_one(ids[i]);
	free(ids);
	return count;
}

void kc_rsa_keyring_unload(key_serial_t ring, key_serial_t key)
{
	if (key <= 0)
		return;
	keyctl_unlink(key, ring);
	/* Also drops the process-keyring link, whichever thread made it. */
	keyctl_invalidate(key);
}

int kc_rsa_keyring_raw(key_serial_t key, const uint8_t c[KC_RSA_LEN],
		       uint8_t em[KC_RSA_LEN])
{
	long n;

	n = keyctl_pkey_decrypt(key, RAW_INFO, c, KC_RSA_LEN, em, KC_RSA_LEN);
	if (n == KC_RSA_LEN)
		return 0;
	/*
	 * The kernel's RSA writes fixed-length output (since Linux 4.8,
	 * before keyctl_pkey_* existed), so anything short is a surprise.
	 */
	n = n < 0 ? -errno : -EIO;
	explicit_bzero(em, KC_RSA_LEN);
	return (int)n;
}

static int kernel_raw(void *ctx, const uint8_t c[KC_RSA_LEN],
		      uint8_t em[KC_RSA_LEN])
{
	const key_serial_t *key = ctx;

	return kc_rsa_keyring_raw(*key, c, em);
}

int kc_rsa_keyring_raw_blinded(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			       const uint8_t c[KC_RSA_LEN],
			       uint8_t em[KC_RSA_LEN])
{
	return kc_rsa_blind_raw(n, kernel_raw, &key, c, em);
}

/*
 * The raw decryption for an OAEP decode, always blinded. A c out of range
 * (which anyone holding the public key can tell) is decoded as an
 * all-zero EM, which fails like any bad padding.
 */
static int raw_for_decode(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			  const uint8_t c[KC_RSA_LEN], uint8_t em[KC_RSA_LEN])
{
	int ret = kc_rsa_keyring_raw_blinded(key, n, c, em);

	return ret == -EINVAL ? 0 : ret;
}

int kc_rsa_keyring_unwrap(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			  const uint8_t *label,
			  size_t label_len, const uint8_t *c, size_t c_len,
			  uint8_t *m, size_t *m_len)
{
	uint8_t em[KC_RSA_LEN];
	int ret;

	*m_len = 0;
	/* RFC 8017 7.1.2 step 1: the ciphertext is exactly k bytes. */
	if (c_len != KC_RSA_LEN)
		return -EBADMSG;
	ret = raw_for_decode(key, n, c, em);
	if (!ret)
		ret = kc_oaep_decode(em, label, label_len, m, m_len);
	explicit_bzero(em, sizeof(em));
	return ret;
}

int kc_rsa_keyring_unwrap_key(key_serial_t key, const uint8_t n[KC_RSA_LEN],
			      const uint8_t c[KC_RSA_LEN],
			      uint8_t k[KC_KEY_LEN])
{
	uint8_t em[KC_RSA_LEN], fallback[KC_KEY_LEN];
	int ret;

	/* Drawn on every path, as kc_oaep_unwrap_key does. */
	kc_random(fallback, sizeof(fallback));
	ret = raw_for_decode(key, n, c, em);
	if (ret)
		memcpy(k, fallback, KC_KEY_LEN);
	else
		ret = kc_oaep_decode_key(em, fallback, k);
	explicit_bzero(em, sizeof(em));
	explicit_bzero(fallback, sizeof(fallback));
	return ret;
}

/* Tier-facing unwrap keys. */

/* Named after its SPKI hash, so operators can tell keys apart. */
static int to_kernel(struct kc_unwrap_key *k, key_serial_t ring,
		     const uint8_t *der, size_t len)
{
	char fpr[65];
	int ret = kc_key_fingerprint(k->pkey, fpr);

	if (!ret)
		ret = kc_rsa_modulus(k->pkey, k->n);
	if (ret)
		return ret;
	fpr[16] = '\0';
	ret = kc_rsa_keyring_load(ring, fpr, der, len, &k->serial);
	if (ret)
		return ret;
	k->ring = ring;
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	return 0;
}

int kc_unwrap_key_load(struct kc_unwrap_key *k, key_serial_t ring,
		       const uint8_t *der, size_t len)
{
	int ret;

	memset(k, 0, sizeof(*k));
	ret = kc_rsa_parse_pkcs8(der, len, &k->pkey);
	if (ret)
		return ret;
	k->why_not_kernel = ring ? to_kernel(k, ring, der, len) : -ENOKEY;
	return 0;
}

void kc_unwrap_key_free(struct kc_unwrap_key *k)
{
	EVP_PKEY_free(k->pkey); /* clears the private BNs */
	kc_rsa_keyring_unload(k->ring, k->serial);
	memset(k, 0, sizeof(*k));
}

int kc_unwrap_key_get(const struct kc_unwrap_key *k,
		      struct kc_unwrap_key *copy)
{
	memset(copy, 0, sizeof(*copy));
	if (!kc_unwrap_key_used(k) || (k->pkey && !EVP_PKEY_up_ref(k->pkey)))
		return -ENOENT;
	*copy = *k;
	return 0;
}

void kc_unwrap_key_put(struct kc_unwrap_key *copy)
{
	/* Only the reference: the kernel key belongs to the original. */
	EVP_PKEY_free(copy->pkey);
	memset(copy, 0, sizeof(*copy));
}

int kc_unwrap_key_unwrap(const struct kc_unwrap_key *k,
			 const uint8_t c[KC_RSA_LEN], uint8_t key[KC_KEY_LEN])
{
	if (k->pkey)
		return kc_oaep_unwrap_key(k->pkey, c, key);
	if (k->serial > 0)
		return kc_rsa_keyring_unwrap_key(k->serial, k->n, c, key);
	return -ENOENT;
}
