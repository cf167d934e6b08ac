// SPDX-License-Identifier: GPL-2.0-only
/*
 * Making and issuing certificates; see pki.h for the profiles.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "pki.h"
#include "gnutls_util.h"

#define SERIAL_LEN 16
/*
 * notBefore lies an hour back so a client whose clock runs a little behind
 * the agent's still accepts a certificate issued a moment ago.
 */
#define BACKDATE_S 3600
#define DAY_S 86400
#define CN_MAX 64 /* ub-common-name, RFC 5280 appendix A.1 */
#define DER_UTF8STRING 0x0c

struct profile {
	const char *cn;
	unsigned int days;
	unsigned int usage;  /* GNUTLS_KEY_* */
	const char *purpose; /* extendedKeyUsage OID, or NULL */
	bool ca;
};

static const struct profile ca_profile = {
	.cn = KC_PKI_CA_CN,
	.days = KC_PKI_AGENT_DAYS,
	.usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
	.ca = true,
};
static const struct profile tls_profile = {
	.cn = KC_PKI_TLS_CN,
	.days = KC_PKI_AGENT_DAYS,
	.usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
	.purpose = GNUTLS_KP_TLS_WWW_SERVER,
};
static const struct profile seal_profile = {
	.cn = KC_PKI_SEAL_CN,
	.days = KC_PKI_AGENT_DAYS,
	.usage = GNUTLS_KEY_KEY_ENCIPHERMENT,
};

int kc_pki_ec_generate(EVP_PKEY **out)
{
	*out = EVP_EC_gen("P-256");
	ERR_clear_error();
	return *out ? 0 : -EIO;
}

int kc_pki_x509_privkey(EVP_PKEY *key, gnutls_x509_privkey_t *out)
{
	gnutls_x509_privkey_t x = NULL;
	unsigned char *der = NULL;
	gnutls_datum_t d;
	size_t len = 0;
	int ret;

	ret = kc_key_pkcs8_der(key, &der, &len);
	if (ret)
		return ret;
	ret = kc_gnutls_err(gnutls_x509_privkey_init(&x));
	if (ret)
		goto cleanup;
	d.data = der;
	d.size = (unsigned int)len;
	ret = kc_gnutls_err(gnutls_x509_privkey_import_pkcs8(
		x, &d, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN));
	if (ret)
		goto cleanup;
	*out = x;
	x = NULL;
cleanup:
	gnutls_x509_privkey_deinit(x);
	OPENSSL_clear_free(der, len);
	return ret;
}

int kc_pki_privkey(EVP_PKEY *key, gnutls_privkey_t *out)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t pk = NULL;
	int ret;

	ret = kc_pki_x509_privkey(key, &x);
	if (ret)
		return ret;
	ret = kc_gnutls_err(gnutls_privkey_init(&pk));
	if (!ret)
		ret = kc_gnutls_err(gnutls_privkey_import_x509(
			pk, x, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE));
	if (ret) {
		gnutls_privkey_deinit(pk);
		gnutls_x509_privkey_deinit(x);
		return ret;
	}
	*out = pk;
	return 0;
}

static int pubkey_from_spki(const uint8_t *der, size_t len,
			    gnutls_pubkey_t *out)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	gnutls_pubkey_t pk;
	int ret;

	ret = kc_gnutls_err(gnutls_pubkey_init(&pk));
	if (ret)
		return ret;
	if (gnutls_pubkey_import(pk, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_pubkey_deinit(pk);
		return -EBADMSG;
	}
	*out = pk;
	return 0;
}

static int pubkey_from_evp(EVP_PKEY *key, gnutls_pubkey_t *out)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = kc_spki_der(key, &der, &len);
	if (!ret)
		ret = pubkey_from_spki(der, len, out);
	OPENSSL_free(der);
	return ret;
}

/*
 * The CN goes in already DER-encoded as a UTF8String (RFC 5280 4.1.2.6
 * asks for UTF8String), so the string type does not depend on which
 * choice a given GnuTLS version makes for plain text.
 */
static int set_cn(gnutls_x509_crt_t crt, const char *cn)
{
	uint8_t der[2 + CN_MAX];
	size_t len = strlen(cn);

	if (len == 0 || len > CN_MAX)
		return -EINVAL;
	der[0] = DER_UTF8STRING;
	der[1] = (uint8_t)len;
	memcpy(der + 2, cn, len);
	return kc_gnutls_err(
		gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					      1, der, (unsigned int)(len + 2)));
}

static int set_serial_and_validity(gnutls_x509_crt_t crt, unsigned int days)
{
	uint8_t serial[SERIAL_LEN];
	time_t now = time(NULL);
	int ret;

	kc_random(serial, sizeof(serial));
	serial[0] &= 0x7f;
	ret = kc_gnutls_err(
		gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_set_activation_time(
			crt, now - BACKDATE_S));
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_set_expiration_time(
			crt, now + (time_t)days * DAY_S));
	return ret;
}

static int set_usage(gnutls_x509_crt_t crt, const struct profile *p)
{
	int ret;

	ret = kc_gnutls_err(
		gnutls_x509_crt_set_basic_constraints(crt, p->ca ? 1 : 0, -1));
	if (!ret)
		ret = kc_gnutls_err(
			gnutls_x509_crt_set_key_usage(crt, p->usage));
	if (!ret && p->purpose)
		ret = kc_gnutls_err(gnutls_x509_crt_set_key_purpose_oid(
			crt, p->purpose, 0));
	return ret;
}

/* RFC 5280 4.2.1.1-2: SKI from the subject key, AKI = the issuer's SKI. */
static int set_key_ids(gnutls_x509_crt_t crt, gnutls_pubkey_t subject,
		       gnutls_x509_crt_t issuer)
{
	unsigned char id[64];
	size_t len = sizeof(id);
	unsigned int critical;
	int ret;

	ret = kc_gnutls_err(gnutls_pubkey_get_key_id(subject, 0, id, &len));
	if (!ret)
		ret = kc_gnutls_err(
			gnutls_x509_crt_set_subject_key_id(crt, id, len));
	if (ret || !issuer)
		return ret;
	len = sizeof(id);
	ret = kc_gnutls_err(gnutls_x509_crt_get_subject_key_id(issuer, id, &len,
							       &critical));
	if (!ret)
		ret = kc_gnutls_err(
			gnutls_x509_crt_set_authority_key_id(crt, id, len));
	return ret;
}

/*
 * GnuTLS fills some fields of a certificate object (the raw subject and
 * issuer names that chain building matches on) only when it imports one:
 * a freshly signed object does not find its own children. Handing out a
 * re-imported copy makes every certificate from here behave like one
 * read from disk.
 */
static int reimport(gnutls_x509_crt_t *crt)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t fresh = NULL;
	int ret;

	ret = kc_pki_crt_der(*crt, &der);
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_init(&fresh));
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_import(
			fresh, &der, GNUTLS_X509_FMT_DER));
	gnutls_free(der.data);
	if (ret) {
		gnutls_x509_crt_deinit(fresh);
		return ret;
	}
	gnutls_x509_crt_deinit(*crt);
	*crt = fresh;
	return 0;
}

/* A certificate for subject, signed by ca, or self-signed with self_key. */
static int build(const struct profile *p, gnutls_pubkey_t subject,
		 const struct kc_pki_ca *ca, gnutls_privkey_t self_key,
		 gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	int ret;

	ret = kc_gnutls_err(gnutls_x509_crt_init(&crt));
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_set_version(crt, 3));
	if (!ret)
		ret = set_serial_and_validity(crt, p->days);
	if (!ret)
		ret = set_cn(crt, p->cn);
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_set_pubkey(crt, subject));
	if (!ret)
		ret = set_usage(crt, p);
	if (!ret)
		ret = set_key_ids(crt, subject, ca ? ca->crt : NULL);
	if (!ret)
		ret = kc_gnutls_err(gnutls_x509_crt_privkey_sign(
			crt, ca ? ca->crt : crt, ca ? ca->key : self_key,
			GNUTLS_DIG_SHA256, 0));
	if (!ret)
		ret = reimport(&crt);
	if (ret) {
		gnutls_x509_crt_deinit(crt);
		return ret;
	}
	*out = crt;
	return 0;
}

int kc_pki_make_ca(EVP_PKEY *key, struct kc_pki_ca *ca)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t priv = NULL;
	int ret;

	memset(ca, 0, sizeof(*ca));
	ret = kc_pki_privkey(key, &priv);
	if (!ret)
		ret = pubkey_from_evp(key, &pub);
	if (!ret)
		ret = build(&ca_profile, pub, NULL, priv, &ca->crt);
	gnutls_pubkey_deinit(pub);
	if (ret) {
		gnutls_privkey_deinit(priv);
		return ret;
	}
	ca->key = priv;
	return 0;
}

int kc_pki_ca_from(gnutls_x509_crt_t crt, EVP_PKEY *key, struct kc_pki_ca *ca)
{
	gnutls_privkey_t priv = NULL;
	int ret;

	memset(ca, 0, sizeof(*ca));
	ret = kc_pki_key_matches(crt, key);
	if (!ret)
		ret = kc_pki_privkey(key, &priv);
	if (ret)
		return ret;
	ca->crt = crt;
	ca->key = priv;
	return 0;
}

void kc_pki_ca_free(struct kc_pki_ca *ca)
{
	if (!ca)
		return;
	gnutls_x509_crt_deinit(ca->crt);
	gnutls_privkey_deinit(ca->key);
	memset(ca, 0, sizeof(*ca));
}

static int make_leaf(const struct profile *p, const struct kc_pki_ca *ca,
		     EVP_PKEY *key, gnutls_x509_crt_t *out)
{
	gnutls_pubkey_t pub = NULL;
	int ret;

	ret = pubkey_from_evp(key, &pub);
	if (!ret)
		ret = build(p, pub, ca, NULL, out);
	gnutls_pubkey_deinit(pub);
	return ret;
}

int kc_pki_make_tls_cert(const struct kc_pki_ca *ca, EVP_PKEY *key,
			 gnutls_x509_crt_t *out)
{
	if (!EVP_PKEY_is_a(key, "EC"))
		return -EINVAL;
	return make_leaf(&tls_profile, ca, key, out);
}

int kc_pki_make_seal_cert(const struct kc_pki_ca *ca, EVP_PKEY *key,
			  gnutls_x509_crt_t *out)
{
	if (kc_rsa_check(key))
		return -EINVAL;
	return make_leaf(&seal_profile, ca, key, out);
}

/* PROTOCOL.md section 4: id keys are RSA-2048 with e = 65537, nothing else. */
static int check_id_spki(const uint8_t *spki, size_t len)
{
	EVP_PKEY *key = NULL;
	int ret;

	ret = kc_spki_parse(spki, len, &key);
	if (!ret)
		ret = kc_rsa_check(key);
	EVP_PKEY_free(key);
	return ret ? -EINVAL : 0;
}

int kc_pki_issue_client(const struct kc_pki_ca *ca, const char *id,
			const uint8_t *spki, size_t spki_len, unsigned int days,
			gnutls_datum_t *der)
{
	struct profile p = {
		.cn = id,
		.days = days ? days : KC_PKI_CLIENT_DAYS,
		.usage = GNUTLS_KEY_DIGITAL_SIGNATURE,
		.purpose = GNUTLS_KP_TLS_WWW_CLIENT,
	};
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int ret;

	if (!kc_client_id_valid((const uint8_t *)id, strlen(id)))
		return -EINVAL;
	ret = check_id_spki(spki, spki_len);
	if (!ret)
		ret = pubkey_from_spki(spki, spki_len, &pub);
	if (!ret)
		ret = build(&p, pub, ca, NULL, &crt);
	if (!ret)
		ret = kc_pki_crt_der(crt, der);
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return ret;
}
