// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frame dispatch and the small requests: LOOKUP, OPEN_SESSION,
 * DELIVERED, PING, GET_SEAL (PROTOCOL.md sections 3-4).
 */
#include <string.h>

#include "conn/conn.h"
#include "conn/conn_out.h"
#include "proto/context.h"
#include "proto/handlers.h"
#include "proto/id_bytes.h"
#include "proto/seal_rotate.h"
#include "proto/register.h"
#include "proto/send.h"
#include "ring/counters.h"
#include "store/store.h"

static void answer_keys(struct kc_conn *c, struct kc_bytes id,
			const struct kc_stored_client *cl)
{
	struct kc_frame f = { .type = KC_T_KEYS };

	f.u.keys.client_id = id;
	f.u.keys.id_cert = (struct kc_bytes){ cl->cert, cl->cert_len };
	f.u.keys.enc_spki = (struct kc_bytes){ cl->enc_spki, cl->enc_spki_len };
	f.u.keys.enc_sig = (struct kc_bytes){ cl->enc_sig, cl->enc_sig_len };
	kc_conn_reply(c, &f);
}

/* Revoked clients are NOT_FOUND too: nobody should seal to them. */
static void handle_lookup(struct kc_conn *c, const struct kc_lookup *l)
{
	char id[KC_CLIENT_ID_MAX + 1];
	struct kc_stored_client cl;
	int ret = -ENOENT;

	if (kc_id_from_bytes(l->client_id, id)) {
		struct kc_proto *p = kc_pw(c)->p;

		pthread_mutex_lock(&p->store_lock);
		ret = kc_store_client_get(p->store, id, &cl);
		pthread_mutex_unlock(&p->store_lock);
	}
	if (ret == 0 && !cl.revoked)
		answer_keys(c, l->client_id, &cl);
	else if (ret == 0 || ret == -ENOENT)
		kc_conn_error(c, KC_NOT_FOUND, "no such client");
	else
		kc_conn_error(c, KC_TRY_LATER, "store unavailable");
	if (ret == 0)
		kc_stored_client_free(&cl);
}

static const char *open_error_text(enum kc_status status)
{
	switch (status) {
	case KC_EXISTS:
		return "session id in use";
	case KC_TRY_LATER:
		return "no room for another session";
	case KC_RATE_LIMITED:
		return "too many sessions opened lately";
	default:
		return "internal error";
	}
}

static void handle_open(struct kc_conn *c, const struct kc_open_session *o)
{
	struct kc_proto_worker *pw = kc_pw(c);
	uint32_t ttl = pw->p->cfg->session_ttl;
	struct kc_frame f = { .type = KC_T_SESSION };
	int ret;

	ret = kc_conn_session_open(&kc_peer(c)->sessions, &pw->sctx, c->id,
				   o->sid, o->wrapped, kc_conn_now_ms(c),
				   kc_conn_now_ms(c) + ttl * 1000ull);
	if (ret) {
		enum kc_status status = (enum kc_status)(-ret);

		kc_conn_error(c, status, open_error_text(status));
		return;
	}
	f.u.session.sid = o->sid;
	f.u.session.ttl_s = ttl;
	kc_conn_reply(c, &f);
}

/* No answer, ever; the delete joins this turn's group commit. */
static void handle_delivered(struct kc_conn *c, const struct kc_delivered *d)
{
	kc_count(KC_CTR_DELIVEREDS, 1);
	if (kc_commit_add_delivered(kc_pw(c)->batch, c->id, d->msg_id))
		kc_conn_fail(c, "out of memory");
}

static void handle_ping(struct kc_conn *c, const struct kc_ping *p)
{
	struct kc_frame f = { .type = KC_T_PONG };

	f.u.ping.nonce = p->nonce;
	kc_conn_reply(c, &f);
}

static void handle_get_seal(struct kc_conn *c)
{
	const gnutls_datum_t *seal = kc_seal_cert(kc_pw(c)->p);
	struct kc_frame f = { .type = KC_T_SEAL };

	f.u.seal.seal_cert = (struct kc_bytes){ seal->data, seal->size };
	kc_conn_reply(c, &f);
}

static void dispatch(struct kc_conn *c, const struct kc_frame *f)
{
	switch (f->type) {
	case KC_T_REGISTER:
		kc_conn_error(c, KC_BAD_REQUEST, "already registered");
		break;
	case KC_T_LOOKUP:
		handle_lookup(c, &f->u.lookup);
		break;
	case KC_T_OPEN_SESSION:
		handle_open(c, &f->u.open);
		break;
	case KC_T_SEND:
		kc_handle_send(c, &f->u.send);
		break;
	case KC_T_DELIVERED:
		handle_delivered(c, &f->u.delivered);
		break;
	case KC_T_PING:
		handle_ping(c, &f->u.ping);
		break;
	case KC_T_GET_SEAL:
		handle_get_seal(c);
		break;
	default:
		/* Agent-to-client types are not requests. */
		kc_conn_error(c, KC_UNKNOWN_TYPE, "not a request type");
	}
}

/*
 * Section 3: without a certificate, one REGISTER and nothing else, and
 * whatever the answer (REGISTERED, or any ERROR) the connection ends
 * after it: a peer without a certificate cannot keep one open.
 */
static void dispatch_unauthenticated(struct kc_conn *c,
				     const struct kc_frame *f, int ret)
{
	if (f->type != KC_T_REGISTER)
		kc_conn_error(c, KC_UNAUTHORIZED,
			      "only REGISTER without a certificate");
	else if (ret)
		kc_conn_error(c, KC_BAD_FRAME, "REGISTER body does not decode");
	else
		kc_handle_register(c, &f->u.reg);
	kc_conn_finish(c);
}

void kc_handle_frame(struct kc_conn *c, const uint8_t *frame, size_t len)
{
	struct kc_frame f;
	int ret = kc_frame_decode(frame, len, &f);

	if (!kc_peer(c)->authed)
		dispatch_unauthenticated(c, &f, ret);
	else if (ret == -KC_UNKNOWN_TYPE)
		kc_conn_error(c, KC_UNKNOWN_TYPE, "unknown frame type");
	else if (ret)
		kc_conn_error(c, KC_BAD_FRAME, "body does not decode");
	else
		dispatch(c, &f);
}
