// SPDX-License-Identifier: GPL-2.0-only
/*
 * REGISTER (PROTOCOL.md section 4): checks the request on its own first
 * (id grammar, RSA-2048/65537 keys, enc_sig), then, under the store lock,
 * the token and the id, signs the client certificate and stores the
 * client, consuming the token in the same transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "conn/conn.h"
#include "conn/conn_out.h"
#include "crypto/crypto.h"
#include "proto/context.h"
#include "proto/id_bytes.h"
#include "proto/register.h"
#include "ring/ratelog.h"
#include "store/store.h"

static int rsa_key(struct kc_bytes spki, EVP_PKEY **out)
{
	int ret = kc_spki_parse(spki.p, spki.len, out);

	if (!ret && kc_rsa_check(*out)) {
		EVP_PKEY_free(*out);
		*out = NULL;
		ret = -EINVAL;
	}
	return ret;
}

/* enc_sig = PSS(id_priv, "kcourier/1 enc-key" || str id || str enc_spki) */
static int check_enc_sig(EVP_PKEY *id_key, const struct kc_register *r)
{
	size_t len = kc_enc_sig_msg(NULL, 0, r->client_id, r->enc_spki);
	uint8_t *msg = len ? malloc(len) : NULL;
	int ret = -EINVAL;

	if (msg && kc_enc_sig_msg(msg, len, r->client_id, r->enc_spki) == len)
		ret = kc_pss_verify(id_key, msg, len, r->enc_sig.p,
				    r->enc_sig.len);
	free(msg);
	return ret;
}

/* Everything BAD_REQUEST covers; needs no lock. */
static int check_request(const struct kc_register *r, char *id)
{
	EVP_PKEY *id_key = NULL, *enc_key = NULL;
	int ret = -EINVAL;

	if (!kc_id_from_bytes(r->client_id, id))
		goto cleanup;
	if (rsa_key(r->id_spki, &id_key) || rsa_key(r->enc_spki, &enc_key))
		goto cleanup;
	ret = check_enc_sig(id_key, r);
cleanup:
	EVP_PKEY_free(id_key);
	EVP_PKEY_free(enc_key);
	return ret;
}

/*
 * The store's verdicts on the request pass through; anything else is the
 * store failing (-errno values overlap the status numbers, hence the list).
 */
static int judged(int ret)
{
	if (!ret || ret == -KC_BAD_TOKEN || ret == -KC_EXPIRED ||
	    ret == -KC_EXISTS)
		return ret;
	return -KC_TRY_LATER;
}

/* Under the store lock. Returns 0 or a negated protocol status. */
static int enroll(struct kc_conn *c, const struct kc_register *r,
		  const char *id, gnutls_datum_t *cert)
{
	struct kc_proto *p = kc_pw(c)->p;
	int64_t now_ms = kc_worker_wall_ms(kc_pw(c)->w);
	struct kc_client_reg reg;
	struct kc_stored_client old;
	int ret;

	ret = kc_store_token_check(p->store, r->token, now_ms);
	if (ret)
		return judged(ret);
	if (!kc_store_client_get(p->store, id, &old)) {
		kc_stored_client_free(&old);
		return -KC_EXISTS;
	}
	ret = p->issue_client(p->issuer, id, r->id_spki.p, r->id_spki.len,
			      cert);
	if (ret)
		return -KC_INTERNAL;
	reg = (struct kc_client_reg){
		id, { cert->data, cert->size }, r->enc_spki, r->enc_sig
	};
	return judged(kc_store_register(p->store, r->token, now_ms, &reg));
}

static void answer_registered(struct kc_conn *c, const gnutls_datum_t *cert)
{
	const struct kc_proto *p = kc_pw(c)->p;
	struct kc_frame f = { .type = KC_T_REGISTERED };

	f.u.registered.client_cert =
		(struct kc_bytes){ cert->data, cert->size };
	f.u.registered.ca_cert =
		(struct kc_bytes){ p->ca_der.data, p->ca_der.size };
	f.u.registered.seal_cert =
		(struct kc_bytes){ p->seal_der.data, p->seal_der.size };
	kc_conn_reply(c, &f);
}

static const char *register_error_text(enum kc_status status)
{
	switch (status) {
	case KC_BAD_TOKEN:
		return "unknown or used token";
	case KC_EXPIRED:
		return "token expired";
	case KC_EXISTS:
		return "client id taken";
	case KC_BAD_REQUEST:
		return "bad client id, key or enc_sig";
	default:
		return "try again later";
	}
}

void kc_handle_register(struct kc_conn *c, const struct kc_register *r)
{
	char id[KC_CLIENT_ID_MAX + 1];
	gnutls_datum_t cert = { NULL, 0 };
	int ret;

	ret = check_request(r, id) ? -KC_BAD_REQUEST : 0;
	if (!ret) {
		pthread_mutex_t *lock = &kc_pw(c)->p->store_lock;

		pthread_mutex_lock(lock);
		ret = enroll(c, r, id, &cert);
		pthread_mutex_unlock(lock);
	}
	if (ret) {
		enum kc_status status = (enum kc_status)(-ret);

		kc_conn_error(c, status, register_error_text(status));
	} else {
		kc_log("registered client %s", id);
		answer_registered(c, &cert);
	}
	gnutls_free(cert.data);
}
