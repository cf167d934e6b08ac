/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of kcourier.ko share: the per-file state, the counters
 * KCOURIER_IOC_STATS reports, and each file's entry points.
 */
#ifndef KC_INTERNAL_H
#define KC_INTERNAL_H

#include <linux/atomic.h>
#include <linux/key.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/kcourier.h>

#define KC_KEY_LEN 32

/* Module-wide counts of what is held, so tests can see it all given back. */
struct kc_counts {
	atomic_t files;
	atomic_t sessions;
	atomic_t tfms;
	atomic_t keys;
};

extern struct kc_counts kc_counts;

/*
 * One open /dev/kcourier. sessions: kc_session by K's serial, the
 * transforms cached for it. made: the keys UNWRAP made through this file,
 * by serial, each holding a reference: closing the file invalidates them,
 * so a dead agent leaves no session key behind.
 */
struct kc_file {
	struct mutex lock;	/* sessions and made */
	struct xarray sessions;
	struct xarray made;
	unsigned int nsessions;
	unsigned int nmade;
	unsigned int sweep_at;	/* nmade at which made is swept next */
};

/*
 * The lookup keyctl(2) and AF_ALG's ALG_SET_KEY_BY_KEY_SERIAL use: the
 * serial as the calling task sees it, permissions checked. It is exported
 * but declared only in security/keys/internal.h.
 */
key_ref_t lookup_user_key(key_serial_t id, unsigned long flags,
			  enum key_need_perm need_perm);

/* kc_keys.c */
struct key *kc_key_get(key_serial_t serial, const struct key_type *type,
		       enum key_need_perm need);
int kc_key_read_logon(struct key *key, u8 out[KC_KEY_LEN]);
int kc_key_add_logon(struct kc_file *f, struct key *ring, const u8 *sid,
		     const char *what, const u8 val[KC_KEY_LEN],
		     unsigned int timeout_s, struct key **made);
void kc_keys_release(struct kc_file *f);

/* kc_rsa.c */
int kc_rsa_decrypt_blinded(struct key *seal, const u8 *c, u8 *em);

/* kc_oaep.c */
void kc_oaep_key(const u8 *em, const u8 fallback[KC_KEY_LEN],
		 u8 k[KC_KEY_LEN], u32 *bad);
int kc_derive_km(const u8 k[KC_KEY_LEN], u8 km[KC_KEY_LEN]);

/* kc_unwrap.c */
int kc_unwrap(struct kc_file *f, void __user *arg);

/* kc_session.c */
struct kc_session;
int kc_session_get(struct kc_file *f, key_serial_t enc, key_serial_t mac,
		   struct kc_session **out);
int kc_session_mac(struct kc_session *s, const u8 *aad, u32 aad_len,
		   const u8 *ct, u32 ct_len, u8 tag[KCOURIER_TAG_LEN]);
int kc_session_cbc(struct kc_session *s, bool encrypt, const u8 *iv,
		   u8 *buf, u32 len);
void kc_sessions_release(struct kc_file *f);

/* kc_batch.c */
int kc_batch(struct kc_file *f, bool seal, void __user *arg);

#endif
