// SPDX-License-Identifier: GPL-2.0
/*
 * The transforms of a session, cached per open file: cbc(aes) keyed with
 * K and hmac(sha256) keyed with Km, allocated by name so the kernel picks
 * AES-NI or a hardware driver. A session is found by K's serial; each op
 * still looks both keys up with the caller's permissions (a key revoked,
 * expired or unlinked away misses at once), and the cache is used only
 * when they are the very keys it was made from: it holds a reference to
 * each, so their serials cannot be reused while it lives.
 *
 * Runs under the file's lock: a file's batches run one at a time, which
 * the agent's tier (one file per worker thread) never contends.
 */
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <linux/err.h>
#include <linux/key-type.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <keys/user-type.h>

#include "kc_internal.h"

/* Cached sessions per file; past it the cache starts over. */
#define KC_SESSIONS_MAX 4096u

struct kc_session {
	struct key *enc, *mac;
	struct crypto_skcipher *cbc;
	struct crypto_shash *hmac;
};

static void kc_session_free(struct kc_session *s)
{
	if (!IS_ERR_OR_NULL(s->cbc)) {
		crypto_free_skcipher(s->cbc);
		atomic_dec(&kc_counts.tfms);
	}
	if (!IS_ERR_OR_NULL(s->hmac)) {
		crypto_free_shash(s->hmac);
		atomic_dec(&kc_counts.tfms);
	}
	key_put(s->enc);
	key_put(s->mac);
	kfree(s);
}

/* Both transforms keyed from the keys' payloads, which are then wiped. */
static int kc_session_key(struct kc_session *s)
{
	u8 key[KC_KEY_LEN];
	int ret;

	s->cbc = crypto_alloc_skcipher("cbc(aes)", 0, 0);
	if (IS_ERR(s->cbc))
		return PTR_ERR(s->cbc);
	atomic_inc(&kc_counts.tfms);
	s->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(s->hmac))
		return PTR_ERR(s->hmac);
	atomic_inc(&kc_counts.tfms);
	ret = kc_key_read_logon(s->enc, key);
	if (!ret)
		ret = crypto_skcipher_setkey(s->cbc, key, KC_KEY_LEN);
	if (!ret)
		ret = kc_key_read_logon(s->mac, key);
	if (!ret)
		ret = crypto_shash_setkey(s->hmac, key, KC_KEY_LEN);
	memzero_explicit(key, sizeof(key));
	return ret;
}

static int kc_session_new(struct kc_file *f, struct key *enc, struct key *mac,
			  struct kc_session **out)
{
	struct kc_session *s, *old;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->enc = key_get(enc);
	s->mac = key_get(mac);
	ret = kc_session_key(s);
	if (ret) {
		kc_session_free(s);
		return ret;
	}
	if (f->nsessions >= KC_SESSIONS_MAX)
		kc_sessions_release(f);
	old = xa_store(&f->sessions, enc->serial, s, GFP_KERNEL);
	if (xa_is_err(old)) {
		kc_session_free(s);
		return xa_err(old);
	}
	if (old) {
		kc_session_free(old);
		atomic_dec(&kc_counts.sessions);
	} else {
		f->nsessions++;
	}
	atomic_inc(&kc_counts.sessions);
	*out = s;
	return 0;
}

/* A session whose key is gone holds nothing more (the keys' quota). */
static void kc_session_forget(struct kc_file *f, key_serial_t enc_serial)
{
	struct kc_session *s = xa_erase(&f->sessions, enc_serial);

	if (!s)
		return;
	kc_session_free(s);
	f->nsessions--;
	atomic_dec(&kc_counts.sessions);
}

/* Under f->lock: the session of these two keys, made if need be. */
int kc_session_get(struct kc_file *f, key_serial_t enc_serial,
		   key_serial_t mac_serial, struct kc_session **out)
{
	struct key *enc, *mac;
	struct kc_session *s;
	int ret = 0;

	enc = kc_key_get(enc_serial, &key_type_logon, KEY_NEED_SEARCH);
	if (IS_ERR(enc)) {
		kc_session_forget(f, enc_serial);
		return PTR_ERR(enc);
	}
	mac = kc_key_get(mac_serial, &key_type_logon, KEY_NEED_SEARCH);
	if (IS_ERR(mac)) {
		key_put(enc);
		return PTR_ERR(mac);
	}
	s = xa_load(&f->sessions, enc_serial);
	if (s && s->enc == enc && s->mac == mac)
		*out = s;
	else
		ret = kc_session_new(f, enc, mac, out);
	key_put(enc);
	key_put(mac);
	return ret;
}

int kc_session_mac(struct kc_session *s, const u8 *aad, u32 aad_len,
		   const u8 *ct, u32 ct_len, u8 tag[KCOURIER_TAG_LEN])
{
	SHASH_DESC_ON_STACK(desc, s->hmac);
	int ret;

	desc->tfm = s->hmac;
	ret = crypto_shash_init(desc);
	if (!ret)
		ret = crypto_shash_update(desc, aad, aad_len);
	if (!ret)
		ret = crypto_shash_finup(desc, ct, ct_len, tag);
	shash_desc_zero(desc);
	return ret;
}

/* sg over len bytes of buf, page by page (buf may be vmalloc'ed). */
static void kc_buf_to_sg(u8 *buf, u32 len, struct scatterlist *sg,
			 unsigned int nents)
{
	unsigned int i = 0, off, n;
	struct page *pg;

	sg_init_table(sg, nents);
	while (len) {
		off = offset_in_page(buf);
		n = min_t(u32, len, PAGE_SIZE - off);
		pg = is_vmalloc_addr(buf) ? vmalloc_to_page(buf) :
					    virt_to_page(buf);
		sg_set_page(&sg[i++], pg, n, off);
		buf += n;
		len -= n;
	}
}

/* CBC in place over len bytes (a multiple of 16) of a kvmalloc'ed buf. */
int kc_session_cbc(struct kc_session *s, bool encrypt, const u8 *iv,
		   u8 *buf, u32 len)
{
	struct skcipher_request *req;
	u8 ivbuf[KCOURIER_IV_LEN];
	struct scatterlist *sg;
	DECLARE_CRYPTO_WAIT(wait);
	unsigned int nents;
	int ret;

	nents = len ? DIV_ROUND_UP(offset_in_page(buf) + len, PAGE_SIZE) : 1;
	sg = kmalloc_array(nents, sizeof(*sg), GFP_KERNEL);
	req = skcipher_request_alloc(s->cbc, GFP_KERNEL);
	ret = -ENOMEM;
	if (!sg || !req)
		goto out;
	kc_buf_to_sg(buf, len, sg, nents);
	memcpy(ivbuf, iv, sizeof(ivbuf));
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP |
				      CRYPTO_TFM_REQ_MAY_BACKLOG,
				      crypto_req_done, &wait);
	skcipher_request_set_crypt(req, sg, sg, len, ivbuf);
	ret = crypto_wait_req(encrypt ? crypto_skcipher_encrypt(req) :
				  crypto_skcipher_decrypt(req), &wait);
out:
	skcipher_request_free(req);
	kfree(sg);
	return ret;
}

void kc_sessions_release(struct kc_file *f)
{
	struct kc_session *s;
	unsigned long serial;

	xa_for_each(&f->sessions, serial, s) {
		xa_erase(&f->sessions, serial);
		kc_session_free(s);
		atomic_dec(&kc_counts.sessions);
	}
	f->nsessions = 0;
}
