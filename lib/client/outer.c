// SPDX-License-Identifier: GPL-2.0-only
/*
 * The layer sealed to the agent; see outer.h.
 *
 *   OPEN_SESSION  16 sid, 256 wrapped = OAEP(seal_pub, K)
 *   SEND          16 sid, u64 seq, 16 iv, blob ct, 32 mac
 *                 ct  = CBC(K, iv, str to || 16 msg_id || u64 counter ||
 *                                  u8 flags || blob inner)
 *                 mac = MAC(Km, "kcourier/1 send" || sid || seq || iv || blob ct)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/outer.h"
#include "tls/tcpconn.h"

static int install_key(struct kc_crypto *crypto, EVP_PKEY *seal_pub,
		       struct kc_outer *o, uint8_t wrapped[KC_RSA_LEN])
{
	uint8_t k[KC_KEY_LEN];
	int ret;

	kc_random(k, sizeof(k));
	ret = kc_oaep_wrap(seal_pub, k, sizeof(k), wrapped);
	if (!ret)
		ret = kc_session_install(crypto, o->sid, k, &o->h);
	explicit_bzero(k, sizeof(k));
	return ret;
}

int kc_outer_open(struct kc_client *c, struct kc_crypto *crypto,
		  EVP_PKEY *seal_pub, struct kc_outer *o)
{
	uint8_t wrapped[KC_RSA_LEN];
	struct kc_frame req = { .type = KC_T_OPEN_SESSION }, ans;
	int ret;

	memset(o, 0, sizeof(*o));
	o->h = KC_HANDLE_NONE;
	kc_random(o->sid, sizeof(o->sid));
	ret = install_key(crypto, seal_pub, o, wrapped);
	if (ret)
		return ret;
	o->crypto = crypto;
	req.u.open = (struct kc_open_session){ o->sid, wrapped };
	ret = kc_client_call(c, &req, KC_T_SESSION, KC_CLIENT_TIMEOUT_MS, &ans);
	if (!ret && memcmp(ans.u.session.sid, o->sid, KC_SID_LEN))
		ret = -EPROTO;
	if (ret) {
		kc_outer_close(o);
		return ret;
	}
	o->ttl_s = ans.u.session.ttl_s;
	o->opened_ms = kc_mono_ms();
	return 0;
}

void kc_outer_close(struct kc_outer *o)
{
	if (o->crypto && o->h != KC_HANDLE_NONE)
		kc_session_drop(o->crypto, o->h);
	o->h = KC_HANDLE_NONE;
	o->crypto = NULL;
}

bool kc_outer_expiring(const struct kc_outer *o)
{
	uint64_t life = (uint64_t)o->ttl_s * 1000;

	return kc_mono_ms() - o->opened_ms >= life - life / 10;
}

/* sp's encoding, malloc'ed. */
static int encode_plain(const struct kc_send_plain *sp, uint8_t **out,
			size_t *out_len)
{
	size_t len;

	if (!kc_send_plain_valid(sp))
		return -EINVAL;
	len = kc_send_plain_size(sp);
	if (!len)
		return -EMSGSIZE;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	kc_send_plain_encode(sp, *out, len);
	*out_len = len;
	return 0;
}

static int seal_send(struct kc_outer *o, const uint8_t *pt, size_t pt_len,
		     struct kc_send *s, uint8_t *ct, uint8_t *mac)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_seal_req req = {
		.session = o->h,
		.aad = aad,
		.iv = s->iv,
		.pt = pt,
		.pt_len = pt_len,
		.ct = ct,
	};
	int ret;

	if (kc_cbc_ct_len(pt_len) > UINT32_MAX)
		return -EMSGSIZE;
	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, o->sid, s->seq, s->iv,
				 (uint32_t)kc_cbc_ct_len(pt_len));
	ret = kc_seal_batch(o->crypto, &req, 1);
	if (!ret)
		ret = req.status;
	if (ret)
		return ret;
	s->ct = (struct kc_bytes){ ct, req.ct_len };
	memcpy(mac, req.mac, KC_MAC_LEN);
	return 0;
}

int kc_outer_send(struct kc_client *c, struct kc_outer *o,
		  const struct kc_send_plain *sp, uint64_t *seq)
{
	struct kc_frame f = { .type = KC_T_SEND };
	uint8_t iv[KC_IV_LEN], mac[KC_MAC_LEN];
	uint8_t *plain = NULL, *ct = NULL;
	size_t plain_len = 0;
	int ret;

	ret = encode_plain(sp, &plain, &plain_len);
	if (ret)
		return ret;
	ret = -ENOMEM;
	ct = malloc(kc_cbc_ct_len(plain_len));
	if (!ct)
		goto cleanup;
	kc_random(iv, sizeof(iv));
	f.u.send = (struct kc_send){ .sid = o->sid, .seq = o->seq + 1,
				     .iv = iv, .mac = mac };
	ret = seal_send(o, plain, plain_len, &f.u.send, ct, mac);
	if (ret)
		goto cleanup;
	/* The seq is spent once the record may have reached the agent. */
	o->seq++;
	*seq = o->seq;
	ret = kc_client_send(c, &f);
cleanup:
	explicit_bzero(plain, plain_len);
	free(plain);
	free(ct);
	return ret;
}

int kc_outer_match_ack(const struct kc_outer *o, const struct kc_frame *ack,
		       uint64_t seq, uint16_t *status)
{
	if (ack->type != KC_T_ACK ||
	    memcmp(ack->u.ack.sid, o->sid, KC_SID_LEN) || ack->u.ack.seq != seq)
		return -EPROTO;
	*status = ack->u.ack.status;
	return 0;
}

int kc_outer_await_ack(struct kc_client *c, const struct kc_outer *o,
		       uint64_t seq, unsigned int timeout_ms,
		       uint16_t *status)
{
	struct kc_frame ans;
	int ret;

	ret = kc_client_await(c, KC_T_ACK, timeout_ms, &ans);
	return ret ? ret : kc_outer_match_ack(o, &ans, seq, status);
}
