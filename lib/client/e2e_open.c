// SPDX-License-Identifier: GPL-2.0-only
/*
 * The receiving side of the end-to-end layer (PROTOCOL.md section 5).
 *
 * A SESSION_INIT is accepted only if it names us as recipient, its sender
 * is the DELIVER's from (the agent authenticated that connection), it is
 * signed by the sender's id key as certified by the pinned CA, and
 * (sender, sid) is new. A MESSAGE only inside such a session, from the
 * same sender, with a seq above the highest accepted so far.
 *
 * Cheap checks run first; the RSA work (PSS verify, OAEP unwrap) only for
 * a record that could be accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "client/e2e_priv.h"

static const char *const result_text[] = {
	[KC_E2E_MESSAGE] = "message",
	[KC_E2E_SESSION_OPENED] = "session opened",
	[KC_E2E_MALFORMED] = "not an end-to-end record",
	[KC_E2E_NOT_FOR_ME] = "session is addressed to someone else",
	[KC_E2E_WRONG_SENDER] = "sender does not match the session",
	[KC_E2E_NO_KEY] = "no verified id certificate for the sender",
	[KC_E2E_BAD_SIGNATURE] = "bad session signature",
	[KC_E2E_SESSION_REUSED] = "session id already used",
	[KC_E2E_UNKNOWN_SESSION] = "unknown session",
	[KC_E2E_REPLAY] = "replayed sequence number",
	[KC_E2E_BAD_MAC] = "bad MAC",
};

const char *kc_e2e_result_text(int result)
{
	if (result < 0 ||
	    (size_t)result >= sizeof(result_text) / sizeof(result_text[0]))
		return "local failure";
	return result_text[result];
}

static bool bytes_is(struct kc_bytes b, const char *s)
{
	return b.len == strlen(s) && !memcmp(b.p, s, b.len);
}

static struct e2e_session *in_find(const struct kc_e2e *e, const char *peer,
				   const uint8_t sid[KC_SID_LEN])
{
	size_t i;

	for (i = 0; i < e->in.n; i++) {
		struct e2e_session *s = &e->in.s[i];

		if ((!peer || !strcmp(s->peer, peer)) &&
		    !memcmp(s->sid, sid, KC_SID_LEN))
			return s;
	}
	return NULL;
}

/* One attempt: 0, KC_E2E_NO_KEY, KC_E2E_BAD_SIGNATURE or -errno. */
static int verify_with(const char *sender, const uint8_t *msg, size_t len,
		       const uint8_t *sig, kc_e2e_key_fn key_fn, void *arg,
		       bool fresh)
{
	EVP_PKEY *pub = NULL;
	int ret;

	if (!key_fn)
		return KC_E2E_NO_KEY;
	ret = key_fn(arg, sender, fresh, &pub);
	if (ret == -ENOKEY || ret == -ENOENT || ret == -EKEYREJECTED)
		return KC_E2E_NO_KEY;
	if (ret)
		return ret;
	ret = kc_pss_verify(pub, msg, len, sig, KC_RSA_LEN);
	EVP_PKEY_free(pub);
	if (ret == -EBADMSG || ret == -EINVAL)
		return KC_E2E_BAD_SIGNATURE;
	return ret;
}

/* A cached certificate may be out of date: one retry with a fresh one. */
static int verify_init(const char *sender, const struct kc_session_init *init,
		       kc_e2e_key_fn key_fn, void *arg)
{
	size_t len = kc_e2e_init_sig_msg(NULL, 0, init);
	uint8_t *msg;
	int ret;

	if (!len)
		return KC_E2E_MALFORMED;
	msg = malloc(len);
	if (!msg)
		return -ENOMEM;
	kc_e2e_init_sig_msg(msg, len, init);
	ret = verify_with(sender, msg, len, init->sig, key_fn, arg, false);
	if (ret == KC_E2E_BAD_SIGNATURE &&
	    verify_with(sender, msg, len, init->sig, key_fn, arg, true) == 0)
		ret = 0;
	free(msg);
	return ret;
}

static size_t oldest_of(const struct kc_e2e *e, const char *peer, size_t *count)
{
	size_t i, oldest = 0;

	*count = 0;
	for (i = 0; i < e->in.n; i++) {
		const struct e2e_session *s = &e->in.s[i];

		if (strcmp(s->peer, peer))
			continue;
		if (!(*count)++ || s->created_ms < e->in.s[oldest].created_ms)
			oldest = i;
	}
	return oldest;
}

/* Keeps KC_E2E_IN_PER_SENDER sessions of a sender; see e2e.h. */
static int prune_sender(struct kc_e2e *e, const char *peer)
{
	size_t count, i;
	int ret;

	for (;;) {
		i = oldest_of(e, peer, &count);
		if (count <= KC_E2E_IN_PER_SENDER)
			return 0;
		ret = kc_e2e_set_floor(e, peer, e->in.s[i].created_ms);
		if (ret)
			return ret;
		kc_e2e_table_remove(e, &e->in, i);
	}
}

/*
 * A failed unwrap is not told apart (section 1): the session gets the
 * random K the unwrap left behind and its messages fail at the MAC.
 */
static int accept_init(struct kc_e2e *e, const char *sender,
		       const struct kc_session_init *init)
{
	uint8_t k[KC_KEY_LEN];
	int ret;

	ret = kc_oaep_unwrap_key(e->enc_priv, init->wrapped, k);
	if (ret && ret != -EBADMSG)
		goto cleanup;
	ret = kc_e2e_add_session(e, &e->in, sender, init->sid, k, 0,
				 init->created_ms, NULL);
	if (!ret)
		ret = prune_sender(e, sender);
cleanup:
	explicit_bzero(k, sizeof(k));
	return ret ? ret : KC_E2E_SESSION_OPENED;
}

static int open_init(struct kc_e2e *e, const char *sender,
		     const struct kc_session_init *init, kc_e2e_key_fn key_fn,
		     void *arg)
{
	int ret;

	if (!bytes_is(init->recipient, e->self))
		return KC_E2E_NOT_FOR_ME;
	if (!bytes_is(init->sender, sender))
		return KC_E2E_WRONG_SENDER;
	if (in_find(e, sender, init->sid) ||
	    init->created_ms <= kc_e2e_floor(e, sender))
		return KC_E2E_SESSION_REUSED;
	ret = verify_init(sender, init, key_fn, arg);
	if (ret)
		return ret;
	return accept_init(e, sender, init);
}

static int open_ct(struct kc_e2e *e, const struct e2e_session *s,
		   const struct kc_e2e_message *msg, uint8_t *pt,
		   size_t *pt_len)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_open_req req = {
		.session = s->h,
		.aad = aad,
		.iv = msg->iv,
		.ct = msg->ct.p,
		.ct_len = msg->ct.len,
		.mac = msg->mac,
		.pt = pt,
	};
	int ret;

	req.aad_len = kc_seq_aad(aad, KC_LABEL_E2E, msg->sid, msg->seq,
				 msg->iv, (uint32_t)msg->ct.len);
	ret = kc_open_batch(e->crypto, &req, 1);
	if (ret)
		return ret;
	if (req.status == -KC_BAD_MAC)
		return KC_E2E_BAD_MAC;
	if (req.status)
		return -EIO;
	*pt_len = req.pt_len;
	return 0;
}

static int open_message(struct kc_e2e *e, const char *sender,
			const struct kc_e2e_message *msg, uint8_t **pt,
			size_t *pt_len)
{
	struct e2e_session *s = in_find(e, sender, msg->sid);
	uint8_t *buf;
	int ret;

	if (!s)
		return in_find(e, NULL, msg->sid) ? KC_E2E_WRONG_SENDER :
						    KC_E2E_UNKNOWN_SESSION;
	if (msg->seq <= s->seq)
		return KC_E2E_REPLAY;
	buf = malloc(msg->ct.len ? msg->ct.len : 1);
	if (!buf)
		return -ENOMEM;
	ret = open_ct(e, s, msg, buf, pt_len);
	if (ret) {
		/* Failed padding may leave decrypted bytes behind. */
		explicit_bzero(buf, msg->ct.len);
		free(buf);
		return ret;
	}
	s->seq = msg->seq;
	*pt = buf;
	return KC_E2E_MESSAGE;
}

int kc_e2e_open(struct kc_e2e *e, struct kc_bytes from, const uint8_t *inner,
		size_t inner_len, kc_e2e_key_fn key_fn, void *key_arg,
		uint8_t **pt, size_t *pt_len)
{
	char sender[KC_CLIENT_ID_MAX + 1];
	struct kc_inner in;

	*pt = NULL;
	*pt_len = 0;
	/* The agent vouches for from; anything else here is a broken agent. */
	if (!kc_client_id_valid(from.p, from.len))
		return KC_E2E_WRONG_SENDER;
	memcpy(sender, from.p, from.len);
	sender[from.len] = '\0';
	if (kc_inner_decode(inner, inner_len, &in))
		return KC_E2E_MALFORMED;
	if (in.kind == KC_INNER_SESSION_INIT)
		return open_init(e, sender, &in.u.init, key_fn, key_arg);
	return open_message(e, sender, &in.u.msg, pt, pt_len);
}
