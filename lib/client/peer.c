// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peers' keys from LOOKUP and their checks; see peer.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/peer.h"

static uint8_t *dup_bytes(struct kc_bytes b, size_t *len)
{
	uint8_t *p = malloc(b.len ? b.len : 1);

	if (p) {
		memcpy(p, b.p, b.len);
		*len = b.len;
	}
	return p;
}

void kc_peer_clear(struct kc_peer *p)
{
	free(p->id_cert);
	free(p->enc_spki);
	free(p->enc_sig);
	EVP_PKEY_free(p->id_pub);
	EVP_PKEY_free(p->enc_pub);
	memset(p, 0, sizeof(*p));
}

int kc_peer_set(struct kc_peer *p, const char *id, struct kc_bytes id_cert,
		struct kc_bytes enc_spki, struct kc_bytes enc_sig)
{
	memset(p, 0, sizeof(*p));
	if (!kc_client_id_valid((const uint8_t *)id, strlen(id)))
		return -EINVAL;
	strcpy(p->id, id);
	p->id_cert = dup_bytes(id_cert, &p->id_cert_len);
	p->enc_spki = dup_bytes(enc_spki, &p->enc_spki_len);
	p->enc_sig = dup_bytes(enc_sig, &p->enc_sig_len);
	if (!p->id_cert || !p->enc_spki || !p->enc_sig) {
		kc_peer_clear(p);
		return -ENOMEM;
	}
	return 0;
}

int kc_peer_from_keys(const struct kc_keys *k, struct kc_peer *p)
{
	char id[KC_CLIENT_ID_MAX + 1];

	memset(p, 0, sizeof(*p));
	if (!kc_client_id_valid(k->client_id.p, k->client_id.len))
		return -EPROTO;
	memcpy(id, k->client_id.p, k->client_id.len);
	id[k->client_id.len] = '\0';
	return kc_peer_set(p, id, k->id_cert, k->enc_spki, k->enc_sig);
}

int kc_peer_lookup(struct kc_client *c, const char *id, struct kc_peer *p)
{
	struct kc_frame req = { .type = KC_T_LOOKUP }, ans;
	int ret;

	memset(p, 0, sizeof(*p));
	req.u.lookup.client_id = (struct kc_bytes){ (const uint8_t *)id,
						    strlen(id) };
	ret = kc_client_call(c, &req, KC_T_KEYS, KC_CLIENT_TIMEOUT_MS, &ans);
	if (ret)
		return ret;
	ret = kc_peer_from_keys(&ans.u.keys, p);
	if (!ret && strcmp(p->id, id)) {
		kc_peer_clear(p);
		ret = -EPROTO;
	}
	return ret;
}

static int verify_enc_sig(struct kc_peer *p)
{
	struct kc_bytes id = { (const uint8_t *)p->id, strlen(p->id) };
	struct kc_bytes spki = { p->enc_spki, p->enc_spki_len };
	size_t len = kc_enc_sig_msg(NULL, 0, id, spki);
	uint8_t *msg;
	int ret;

	if (!len)
		return -EKEYREJECTED;
	msg = malloc(len);
	if (!msg)
		return -ENOMEM;
	kc_enc_sig_msg(msg, len, id, spki);
	ret = kc_pss_verify(p->id_pub, msg, len, p->enc_sig, p->enc_sig_len);
	free(msg);
	if (ret == -EBADMSG || ret == -EINVAL)
		return -EKEYREJECTED;
	return ret;
}

static int check_cert(struct kc_peer *p, struct kc_bytes ca)
{
	struct kc_bytes cert = { p->id_cert, p->id_cert_len };
	int ret;

	ret = kc_cert_check(cert, ca, KC_CERT_CLIENT, p->id, p->why);
	if (!ret)
		ret = kc_cert_public_key(cert, &p->id_pub);
	if (!ret && kc_rsa_check(p->id_pub)) {
		strcpy(p->why, "id key is not RSA-2048 with e = 65537");
		ret = -EKEYREJECTED;
	}
	return ret == -EINVAL ? -EKEYREJECTED : ret;
}

static int check_enc(struct kc_peer *p)
{
	int ret;

	ret = kc_spki_parse(p->enc_spki, p->enc_spki_len, &p->enc_pub);
	if (!ret)
		ret = kc_rsa_check(p->enc_pub);
	if (ret) {
		strcpy(p->why, "enc key is not RSA-2048 with e = 65537");
		return -EKEYREJECTED;
	}
	ret = verify_enc_sig(p);
	if (ret == -EKEYREJECTED)
		strcpy(p->why, "enc_sig does not verify under the id key");
	return ret;
}

int kc_peer_verify(struct kc_peer *p, struct kc_bytes ca)
{
	int ret;

	EVP_PKEY_free(p->id_pub);
	EVP_PKEY_free(p->enc_pub);
	p->id_pub = p->enc_pub = NULL;
	p->cert_ok = p->enc_sig_ok = false;
	ret = check_cert(p, ca);
	if (ret)
		return ret;
	p->cert_ok = true;
	ret = check_enc(p);
	if (ret)
		return ret;
	p->enc_sig_ok = true;
	strcpy(p->why, "ok");
	return 0;
}

static bool same(const uint8_t *a, size_t a_len, const uint8_t *b,
		 size_t b_len)
{
	return a_len == b_len && !memcmp(a, b, a_len);
}

bool kc_peer_same_keys(const struct kc_peer *a, const struct kc_peer *b)
{
	return same(a->id_cert, a->id_cert_len, b->id_cert, b->id_cert_len) &&
	       same(a->enc_spki, a->enc_spki_len, b->enc_spki,
		    b->enc_spki_len);
}

int kc_peer_fingerprints(const struct kc_peer *p, char id_hex[65],
			 char enc_hex[65])
{
	struct kc_bytes cert = { p->id_cert, p->id_cert_len };
	EVP_PKEY *id_pub = NULL;
	int ret;

	ret = kc_cert_public_key(cert, &id_pub);
	if (!ret)
		ret = kc_key_fingerprint(id_pub, id_hex);
	EVP_PKEY_free(id_pub);
	if (!ret)
		kc_spki_fingerprint(p->enc_spki, p->enc_spki_len, enc_hex);
	return ret;
}
