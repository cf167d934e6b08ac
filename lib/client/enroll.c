// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment: keys, REGISTER and the checks on REGISTERED; see enroll.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/certcheck.h"
#include "client/client.h"
#include "client/enroll.h"
#include "base/status.h"

static int fail(struct kc_enroll *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kc_enroll *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return err;
}

static struct kc_bytes str_bytes(const char *s)
{
	return (struct kc_bytes){ (const uint8_t *)s, strlen(s) };
}

/* enc_sig = PSS(id_priv, "kcourier/1 enc-key" || str id || str enc_spki) */
static int sign_enc_key(struct kc_enroll *e)
{
	uint8_t msg[2048];
	size_t len;

	len = kc_enc_sig_msg(msg, sizeof(msg), str_bytes(e->id),
			     (struct kc_bytes){ e->enc_spki,
						e->enc_spki_len });
	return len ? kc_pss_sign(e->id_key, msg, len, e->enc_sig) : -EINVAL;
}

int kc_enroll_keys(struct kc_enroll *e, const char *id)
{
	int ret;

	e->status = -1;
	if (strlen(id) >= sizeof(e->id) ||
	    !kc_client_id_valid((const uint8_t *)id, strlen(id)))
		return fail(e, -EINVAL, "'%s' is not a valid client id", id);
	strcpy(e->id, id);
	ret = kc_rsa_generate(&e->id_key);
	if (!ret)
		ret = kc_rsa_generate(&e->enc_key);
	if (!ret)
		ret = kc_spki_der(e->id_key, &e->id_spki, &e->id_spki_len);
	if (!ret)
		ret = kc_spki_der(e->enc_key, &e->enc_spki, &e->enc_spki_len);
	if (!ret)
		ret = sign_enc_key(e);
	if (ret)
		return fail(e, ret, "cannot make the keys: %s", strerror(-ret));
	return 0;
}

static int call_register(struct kc_enroll *e, struct kc_client *conn,
			 const char *token, unsigned int timeout_ms,
			 struct kc_frame *ans)
{
	struct kc_frame req = { .type = KC_T_REGISTER };
	int ret;

	req.u.reg = (struct kc_register){
		.token = str_bytes(token),
		.client_id = str_bytes(e->id),
		.id_spki = { e->id_spki, e->id_spki_len },
		.enc_spki = { e->enc_spki, e->enc_spki_len },
		.enc_sig = { e->enc_sig, sizeof(e->enc_sig) },
	};
	ret = kc_client_call(conn, &req, KC_T_REGISTERED, timeout_ms, ans);
	if (ret == -EREMOTEIO) {
		e->status = kc_client_status(conn);
		return fail(e, ret, "registration refused: %s",
			    kc_status_name((unsigned int)e->status));
	}
	if (ret)
		return fail(e, ret, "registration failed: %s",
			    kc_client_error(conn));
	return 0;
}

/* The certificate must carry exactly the id key we made. */
static int check_client_cert(struct kc_enroll *e, struct kc_bytes cert,
			     struct kc_bytes ca)
{
	char why[KC_CERT_WHY_MAX] = "", hex_cert[65], hex_key[65];
	EVP_PKEY *pub = NULL;
	int ret;

	ret = kc_cert_check(cert, ca, KC_CERT_CLIENT, e->id, why);
	if (!ret)
		ret = kc_cert_public_key(cert, &pub);
	if (!ret && (kc_key_fingerprint(pub, hex_cert) ||
		     kc_key_fingerprint(e->id_key, hex_key) ||
		     strcmp(hex_cert, hex_key))) {
		snprintf(why, sizeof(why), "it is not for our id key");
		ret = -EKEYREJECTED;
	}
	EVP_PKEY_free(pub);
	if (ret)
		return fail(e, -EKEYREJECTED,
			    "the agent's client certificate is unusable: %s",
			    why);
	return 0;
}

static int check_seal_cert(struct kc_enroll *e, struct kc_bytes cert,
			   struct kc_bytes ca)
{
	char why[KC_CERT_WHY_MAX] = "";
	EVP_PKEY *pub = NULL;
	int ret;

	ret = kc_cert_check(cert, ca, KC_CERT_SEAL, NULL, why);
	if (!ret && (kc_cert_public_key(cert, &pub) || kc_rsa_check(pub))) {
		snprintf(why, sizeof(why), "not an RSA-2048 key");
		ret = -EKEYREJECTED;
	}
	EVP_PKEY_free(pub);
	if (ret)
		return fail(e, -EKEYREJECTED,
			    "the agent's seal certificate is unusable: %s",
			    why);
	return 0;
}

static int check_registered(struct kc_enroll *e, const char *pin,
			    const struct kc_registered *ok)
{
	char got[KC_PIN_HEX_LEN + 1];

	if (kc_cert_pin(ok->ca_cert.p, ok->ca_cert.len, got) ||
	    strcmp(got, pin))
		return fail(e, -EKEYREJECTED,
			    "the agent's CA certificate does not match --ca-fingerprint %s",
			    pin);
	if (check_seal_cert(e, ok->seal_cert, ok->ca_cert))
		return -EKEYREJECTED;
	return check_client_cert(e, ok->client_cert, ok->ca_cert);
}

static int copy_der(struct kc_bytes src, uint8_t **dst, size_t *len)
{
	*dst = malloc(src.len ? src.len : 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src.p, src.len);
	*len = src.len;
	return 0;
}

static int keep_certs(struct kc_enroll *e, const struct kc_registered *ok)
{
	int ret;

	ret = copy_der(ok->client_cert, &e->client_cert, &e->client_cert_len);
	if (!ret)
		ret = copy_der(ok->ca_cert, &e->ca_cert, &e->ca_cert_len);
	if (!ret)
		ret = copy_der(ok->seal_cert, &e->seal_cert,
			       &e->seal_cert_len);
	return ret ? fail(e, ret, "out of memory") : 0;
}

int kc_enroll_register(struct kc_enroll *e, const char *agent,
		       const char *pin, const char *token,
		       unsigned int timeout_ms)
{
	struct kc_client *conn = NULL;
	struct kc_frame ans;
	int ret;

	e->status = -1;
	ret = kc_client_connect(agent, pin, NULL, timeout_ms, &conn);
	if (ret)
		return fail(e, ret, "cannot connect to the agent at %s: %s",
			    agent, kc_tls_client_strerror());
	ret = call_register(e, conn, token, timeout_ms, &ans);
	if (!ret)
		ret = check_registered(e, pin, &ans.u.registered);
	if (!ret)
		ret = keep_certs(e, &ans.u.registered);
	kc_client_close(conn);
	return ret;
}

void kc_enroll_clear(struct kc_enroll *e)
{
	EVP_PKEY_free(e->id_key);
	EVP_PKEY_free(e->enc_key);
	OPENSSL_free(e->id_spki);
	OPENSSL_free(e->enc_spki);
	free(e->client_cert);
	free(e->ca_cert);
	free(e->seal_cert);
	memset(e, 0, sizeof(*e));
	e->status = -1;
}
