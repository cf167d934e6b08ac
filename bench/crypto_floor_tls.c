// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS 1.3 records for the crypto floor; see crypto_floor_tls.h.
 *
 * AES-256-GCM because GnuTLS's NORMAL priority, which both the agent
 * (agent/tls.h KC_TLS_PRIORITY) and the client (lib/tlsclient.c) use,
 * puts it first: tests/test_crypto_floor.c checks that the agent and a
 * default client agree on it.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>

#include "crypto/crypto.h"
#include "crypto_floor_sizes.h"
#include "crypto_floor_tls.h"

#define TLS_KEY_LEN 32 /* AES-256 */
#define TLS_APPLICATION_DATA 23
#define TLS_RECORD_BODY_MAX                                                    \
	(CF_TLS_RECORD_MAX + CF_TLS_INNER_TYPE_LEN + CF_TLS_TAG_LEN)

/* Fetched once: an implicit fetch per record would be measured too. */
static EVP_CIPHER *aes_gcm;

int cf_tls_setup(void)
{
	aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	ERR_clear_error();
	return aes_gcm ? 0 : -EIO;
}

void cf_tls_teardown(void)
{
	EVP_CIPHER_free(aes_gcm);
	aes_gcm = NULL;
}

static int dir_init(struct cf_tls_dir *d, const uint8_t key[TLS_KEY_LEN],
		    const uint8_t iv[CF_TLS_IV_LEN], int enc)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->iv, iv, CF_TLS_IV_LEN);
	d->ctx = EVP_CIPHER_CTX_new();
	if (!d->ctx ||
	    !EVP_CipherInit_ex(d->ctx, aes_gcm, NULL, key, NULL, enc))
		return -EIO;
	return 0;
}

void cf_tls_dir_free(struct cf_tls_dir *d)
{
	/* EVP cleanses the key schedule as it frees the context. */
	EVP_CIPHER_CTX_free(d->ctx);
	explicit_bzero(d, sizeof(*d));
}

int cf_tls_link(struct cf_tls_dir *sealer, struct cf_tls_dir *opener)
{
	uint8_t key[TLS_KEY_LEN], iv[CF_TLS_IV_LEN];
	int ret;

	kc_random(key, sizeof(key));
	kc_random(iv, sizeof(iv));
	ret = dir_init(sealer, key, iv, 1);
	if (!ret && opener)
		ret = dir_init(opener, key, iv, 0);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(iv, sizeof(iv));
	return ret;
}

/* RFC 8446 5.3: the iv XORed with the 64-bit sequence, right-aligned. */
static void next_nonce(struct cf_tls_dir *d, uint8_t nonce[CF_TLS_IV_LEN])
{
	uint64_t seq = d->seq++;
	int i;

	memcpy(nonce, d->iv, CF_TLS_IV_LEN);
	for (i = CF_TLS_IV_LEN - 1; i >= CF_TLS_IV_LEN - 8; i--, seq >>= 8)
		nonce[i] ^= (uint8_t)seq;
}

/* RFC 8446 5.2: the header is also the AEAD's additional data. */
static void put_header(uint8_t hdr[CF_TLS_HDR_LEN], size_t body_len)
{
	hdr[0] = TLS_APPLICATION_DATA;
	hdr[1] = 3; /* legacy_record_version 0x0303 */
	hdr[2] = 3;
	hdr[3] = (uint8_t)(body_len >> 8);
	hdr[4] = (uint8_t)body_len;
}

/* One record: content || content type, then the tag; no padding. */
static int seal_record(struct cf_tls_dir *d, const uint8_t *p, size_t len,
		       uint8_t *rec)
{
	static const uint8_t type = TLS_APPLICATION_DATA;
	uint8_t nonce[CF_TLS_IV_LEN], *body = rec + CF_TLS_HDR_LEN;
	int n;

	put_header(rec, len + CF_TLS_INNER_TYPE_LEN + CF_TLS_TAG_LEN);
	next_nonce(d, nonce);
	if (!EVP_EncryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) ||
	    !EVP_EncryptUpdate(d->ctx, NULL, &n, rec, CF_TLS_HDR_LEN) ||
	    !EVP_EncryptUpdate(d->ctx, body, &n, p, (int)len) ||
	    !EVP_EncryptUpdate(d->ctx, body + len, &n, &type, 1) ||
	    !EVP_EncryptFinal_ex(d->ctx, body + len + 1, &n) ||
	    !EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_GET_TAG, CF_TLS_TAG_LEN,
				 body + len + 1))
		return -EIO;
	return 0;
}

int cf_tls_seal(struct cf_tls_dir *d, const struct cf_buf *frame, uint8_t *out)
{
	size_t off, chunk;
	int ret;

	for (off = 0; off < frame->len; off += chunk) {
		chunk = frame->len - off;
		if (chunk > CF_TLS_RECORD_MAX)
			chunk = CF_TLS_RECORD_MAX;
		ret = seal_record(d, frame->p + off, chunk, out);
		if (ret)
			return ret;
		out += CF_TLS_HDR_LEN + chunk + CF_TLS_INNER_TYPE_LEN +
		       CF_TLS_TAG_LEN;
	}
	return 0;
}

/* Tag first (EVP checks it in Final), then RFC 8446 5.4's content type. */
static int open_record(struct cf_tls_dir *d, const uint8_t *rec,
		       size_t body_len, uint8_t *pt, size_t *pt_len)
{
	const uint8_t *body = rec + CF_TLS_HDR_LEN;
	size_t ct_len = body_len - CF_TLS_TAG_LEN;
	uint8_t nonce[CF_TLS_IV_LEN];
	int n;

	next_nonce(d, nonce);
	if (!EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, nonce) ||
	    !EVP_DecryptUpdate(d->ctx, NULL, &n, rec, CF_TLS_HDR_LEN) ||
	    !EVP_DecryptUpdate(d->ctx, pt, &n, body, (int)ct_len) ||
	    !EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, CF_TLS_TAG_LEN,
				 (void *)(body + ct_len)) ||
	    EVP_DecryptFinal_ex(d->ctx, pt + n, &n) <= 0)
		return -EBADMSG;
	/* Zero padding may precede the type; our sealer adds none. */
	while (ct_len > 0 && pt[ct_len - 1] == 0)
		ct_len--;
	if (ct_len == 0 || pt[ct_len - 1] != TLS_APPLICATION_DATA)
		return -EBADMSG;
	*pt_len = ct_len - 1;
	return 0;
}

/* The body length of the record at wire[off], checked against wire. */
static int record_body_len(const struct cf_buf *wire, size_t off,
			   size_t *body_len)
{
	if (wire->len - off < CF_TLS_HDR_LEN)
		return -EBADMSG;
	*body_len = (size_t)wire->p[off + 3] << 8 | wire->p[off + 4];
	if (*body_len <= CF_TLS_TAG_LEN || *body_len > TLS_RECORD_BODY_MAX ||
	    wire->len - off - CF_TLS_HDR_LEN < *body_len)
		return -EBADMSG;
	return 0;
}

int cf_tls_open(struct cf_tls_dir *d, const struct cf_buf *wire,
		const struct cf_buf *pt, size_t *len)
{
	size_t off = 0, body_len, got;
	int ret;

	*len = 0;
	while (off < wire->len) {
		ret = record_body_len(wire, off, &body_len);
		if (ret)
			return ret;
		if (pt->len - *len < body_len - CF_TLS_TAG_LEN)
			return -EMSGSIZE;
		ret = open_record(d, wire->p + off, body_len, pt->p + *len,
				  &got);
		if (ret)
			return ret;
		*len += got;
		off += CF_TLS_HDR_LEN + body_len;
	}
	return 0;
}
