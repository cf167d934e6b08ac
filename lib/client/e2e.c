// SPDX-License-Identifier: GPL-2.0-only
/*
 * End-to-end sessions (PROTOCOL.md section 5): the session tables and the
 * sending side. The receiving side is in e2e_open.c, its duplicate filter
 * in e2e_seen.c, the state file in e2e_state.c.
 *
 * Sending: a session to a recipient starts with a SESSION_INIT that
 * carries K wrapped to the recipient's enc key and signed with our id key;
 * every MESSAGE after it is CBC + HMAC under K and Km with seq counting
 * from 1, so the recipient can refuse replays without remembering every
 * message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/e2e_priv.h"

#define KEY_SLOTS_MAX (1u << 20)

int kc_e2e_create(struct kc_crypto *c, const char *self, EVP_PKEY *id_priv,
		  EVP_PKEY *enc_priv, struct kc_e2e **out)
{
	struct kc_e2e *e;
	int ret;

	*out = NULL;
	if (!kc_client_id_valid((const uint8_t *)self, strlen(self)))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = kc_seen_set_init(&e->seen);
	if (!ret)
		ret = kc_secmem_create(KC_KEY_LEN, KEY_SLOTS_MAX, &e->keys);
	if (ret) {
		kc_e2e_free(e);
		return ret;
	}
	e->crypto = c;
	strcpy(e->self, self);
	e->id_priv = id_priv;
	e->enc_priv = enc_priv;
	*out = e;
	return 0;
}

static void session_release(struct kc_e2e *e, struct e2e_session *s)
{
	if (s->h != KC_HANDLE_NONE)
		kc_session_drop(e->crypto, s->h);
	kc_secmem_free(e->keys, s->key_slot);
	s->h = KC_HANDLE_NONE;
}

static void table_clear(struct kc_e2e *e, struct e2e_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		session_release(e, &t->s[i]);
	free(t->s);
	memset(t, 0, sizeof(*t));
}

void kc_e2e_free(struct kc_e2e *e)
{
	if (!e)
		return;
	table_clear(e, &e->out);
	table_clear(e, &e->in);
	/* The secmem pool wipes every slot it still has. */
	kc_secmem_destroy(e->keys);
	free(e->floors);
	kc_seen_set_destroy(&e->seen);
	free(e);
}

/* Tables. */

void kc_e2e_table_remove(struct kc_e2e *e, struct e2e_table *t, size_t i)
{
	session_release(e, &t->s[i]);
	memmove(&t->s[i], &t->s[i + 1], (t->n - i - 1) * sizeof(t->s[0]));
	t->n--;
}

static int table_grow(struct e2e_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 8;
	struct e2e_session *s;

	if (t->n < t->cap)
		return 0;
	s = reallocarray(t->s, cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	t->s = s;
	t->cap = cap;
	return 0;
}

static int session_keys_in(struct kc_e2e *e, struct e2e_session *s,
			   const uint8_t k[KC_KEY_LEN])
{
	int ret;

	ret = kc_secmem_alloc(e->keys, &s->key_slot);
	if (ret)
		return ret;
	memcpy(kc_secmem_slot(e->keys, s->key_slot), k, KC_KEY_LEN);
	ret = kc_session_install(e->crypto, s->sid, k, &s->h);
	if (ret)
		kc_secmem_free(e->keys, s->key_slot);
	return ret;
}

int kc_e2e_add_session(struct kc_e2e *e, struct e2e_table *t,
		       const char *peer, const uint8_t sid[KC_SID_LEN],
		       const uint8_t k[KC_KEY_LEN], uint64_t seq,
		       uint64_t created_ms, struct e2e_session **out)
{
	struct e2e_session *s;
	int ret;

	if (strlen(peer) > KC_CLIENT_ID_MAX)
		return -EINVAL;
	ret = table_grow(t);
	if (ret)
		return ret;
	s = &t->s[t->n];
	memset(s, 0, sizeof(*s));
	strcpy(s->peer, peer);
	memcpy(s->sid, sid, KC_SID_LEN);
	s->seq = seq;
	s->created_ms = created_ms;
	s->h = KC_HANDLE_NONE;
	ret = session_keys_in(e, s, k);
	if (ret)
		return ret;
	t->n++;
	if (out)
		*out = s;
	return 0;
}

const uint8_t *kc_e2e_session_key(const struct kc_e2e *e,
				  const struct e2e_session *s)
{
	return kc_secmem_slot(e->keys, s->key_slot);
}

static struct e2e_session *out_find(const struct kc_e2e *e, const char *to,
				    size_t *idx)
{
	size_t i;

	for (i = 0; i < e->out.n; i++) {
		if (!strcmp(e->out.s[i].peer, to)) {
			if (idx)
				*idx = i;
			return &e->out.s[i];
		}
	}
	return NULL;
}

/* Floors. */

static struct e2e_floor *floor_find(const struct kc_e2e *e, const char *peer)
{
	size_t i;

	for (i = 0; i < e->n_floors; i++) {
		if (!strcmp(e->floors[i].peer, peer))
			return &e->floors[i];
	}
	return NULL;
}

int kc_e2e_set_floor(struct kc_e2e *e, const char *peer, uint64_t created_ms)
{
	struct e2e_floor *f = floor_find(e, peer);

	if (strlen(peer) > KC_CLIENT_ID_MAX)
		return -EINVAL;
	if (!f) {
		f = reallocarray(e->floors, e->n_floors + 1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		e->floors = f;
		f = &e->floors[e->n_floors++];
		strcpy(f->peer, peer);
		f->created_ms = 0;
	}
	if (created_ms > f->created_ms)
		f->created_ms = created_ms;
	return 0;
}

uint64_t kc_e2e_floor(const struct kc_e2e *e, const char *peer)
{
	const struct e2e_floor *f = floor_find(e, peer);

	return f ? f->created_ms : 0;
}

/* Sending. */

bool kc_e2e_needs_init(const struct kc_e2e *e, const char *to,
		       uint64_t now_ms)
{
	const struct e2e_session *s = out_find(e, to, NULL);

	if (!s)
		return true;
	/* A clock that went back also ends the session: its age is unknown. */
	return s->seq >= KC_E2E_ROTATE_MSGS || now_ms < s->created_ms ||
	       now_ms - s->created_ms >= KC_E2E_ROTATE_MS;
}

void kc_e2e_forget(struct kc_e2e *e, const char *to)
{
	size_t i;

	if (out_find(e, to, &i))
		kc_e2e_table_remove(e, &e->out, i);
}

/* sig = PSS(id_priv, "kcourier/1 e2e-init" || sid || ... || wrapped) */
static int sign_init(struct kc_e2e *e, struct kc_session_init *init,
		     uint8_t sig[KC_RSA_LEN])
{
	size_t len = kc_e2e_init_sig_msg(NULL, 0, init);
	uint8_t *msg;
	int ret;

	if (!len)
		return -EINVAL;
	msg = malloc(len);
	if (!msg)
		return -ENOMEM;
	kc_e2e_init_sig_msg(msg, len, init);
	ret = kc_pss_sign(e->id_priv, msg, len, sig);
	free(msg);
	return ret;
}

static int encode_inner(const struct kc_inner *in, uint8_t **out,
			size_t *out_len)
{
	size_t len = kc_inner_size(in);
	uint8_t *buf;

	if (!len)
		return -EMSGSIZE;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if (kc_inner_encode(in, buf, len) != len) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static int build_init(struct kc_e2e *e, const char *to, EVP_PKEY *to_enc_pub,
		      const uint8_t sid[KC_SID_LEN],
		      const uint8_t k[KC_KEY_LEN], uint64_t now_ms,
		      uint8_t **init, size_t *init_len)
{
	uint8_t wrapped[KC_RSA_LEN], sig[KC_RSA_LEN];
	struct kc_inner in = { .kind = KC_INNER_SESSION_INIT };
	int ret;

	ret = kc_oaep_wrap(to_enc_pub, k, KC_KEY_LEN, wrapped);
	if (ret)
		return ret;
	in.u.init = (struct kc_session_init){
		.sid = sid,
		.sender = { (const uint8_t *)e->self, strlen(e->self) },
		.recipient = { (const uint8_t *)to, strlen(to) },
		.created_ms = now_ms,
		.wrapped = wrapped,
		.sig = sig,
	};
	ret = sign_init(e, &in.u.init, sig);
	if (ret)
		return ret;
	return encode_inner(&in, init, init_len);
}

int kc_e2e_start(struct kc_e2e *e, const char *to, EVP_PKEY *to_enc_pub,
		 uint64_t now_ms, uint8_t **init, size_t *init_len)
{
	uint8_t sid[KC_SID_LEN], k[KC_KEY_LEN];
	int ret;

	*init = NULL;
	if (!kc_client_id_valid((const uint8_t *)to, strlen(to)))
		return -EINVAL;
	ret = kc_rsa_check(to_enc_pub);
	if (ret)
		return ret;
	kc_random(sid, sizeof(sid));
	kc_random(k, sizeof(k));
	ret = build_init(e, to, to_enc_pub, sid, k, now_ms, init, init_len);
	if (ret)
		goto cleanup;
	kc_e2e_forget(e, to);
	ret = kc_e2e_add_session(e, &e->out, to, sid, k, 0, now_ms, NULL);
	if (ret) {
		free(*init);
		*init = NULL;
	}
cleanup:
	explicit_bzero(k, sizeof(k));
	return ret;
}

static int seal_message(struct kc_e2e *e, struct e2e_session *s,
			const uint8_t *pt, size_t pt_len, struct kc_inner *in,
			uint8_t *ct)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_seal_req req = {
		.session = s->h,
		.iv = in->u.msg.iv,
		.pt = pt,
		.pt_len = pt_len,
		.ct = ct,
	};
	int ret;

	if (kc_cbc_ct_len(pt_len) > UINT32_MAX)
		return -EMSGSIZE;
	req.aad = aad;
	req.aad_len = kc_seq_aad(aad, KC_LABEL_E2E, s->sid, in->u.msg.seq,
				 in->u.msg.iv, kc_cbc_ct_len(pt_len));
	ret = kc_seal_batch(e->crypto, &req, 1);
	if (!ret)
		ret = req.status;
	if (ret)
		return ret;
	in->u.msg.ct = (struct kc_bytes){ ct, req.ct_len };
	memcpy((uint8_t *)in->u.msg.mac, req.mac, KC_MAC_LEN);
	return 0;
}

int kc_e2e_seal(struct kc_e2e *e, const char *to, const uint8_t *pt,
		size_t pt_len, uint8_t **inner, size_t *inner_len)
{
	struct e2e_session *s = out_find(e, to, NULL);
	uint8_t iv[KC_IV_LEN], mac[KC_MAC_LEN];
	struct kc_inner in = { .kind = KC_INNER_MESSAGE };
	uint8_t *ct;
	int ret;

	*inner = NULL;
	if (!s)
		return -ENOENT;
	ct = malloc(kc_cbc_ct_len(pt_len));
	if (!ct)
		return -ENOMEM;
	kc_random(iv, sizeof(iv));
	in.u.msg = (struct kc_e2e_message){
		.sid = s->sid, .seq = s->seq + 1, .iv = iv, .mac = mac,
	};
	ret = seal_message(e, s, pt, pt_len, &in, ct);
	if (!ret)
		ret = encode_inner(&in, inner, inner_len);
	/* A seq is used up once a record may have left with it. */
	if (!ret)
		s->seq++;
	free(ct);
	return ret;
}
