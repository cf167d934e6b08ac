// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading the state directory for `kcourierd run`. Everything is checked
 * before the agent accepts a connection: the configuration parses, the
 * TLS and seal certificates chain to ca.crt, and each private key belongs
 * to its certificate (a mixed-up directory fails here, not mid-handshake).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "state_int.h"

static int load_config(struct state_ctx *c, struct kc_agent_config *cfg)
{
	const char *path = state_path(c, KC_STATE_CONFIG);

	kc_config_defaults(cfg);
	if (access(path, F_OK) && errno == ENOENT)
		return state_fail_plain(c, -ENOENT,
					"%s is not initialised (no %s); run "
					"`kcourierd init --dir %s` first",
					c->dir, KC_STATE_CONFIG, c->dir);
	return kc_config_load(path, cfg, c->err, c->err_len);
}

static int load_cert(struct state_ctx *c, const char *name,
		     gnutls_x509_crt_t *out)
{
	int ret = kc_pki_crt_load(state_path(c, name), out);

	if (ret == -EBADMSG)
		return state_fail_plain(c, ret, "%s: not a PEM certificate",
					c->path);
	return ret ? state_fail(c, ret, "cannot read %s", c->path) : 0;
}

static int check_issued(struct state_ctx *c, const char *name,
			gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned int status = 0;

	if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0 || status)
		return state_fail_plain(
			c, -EKEYREJECTED,
			"%s/%s does not verify against %s (status 0x%x)",
			c->dir, name, KC_STATE_CA_CRT, status);
	return 0;
}

static int load_key(struct state_ctx *c, const char *name,
		    const struct kc_passphrase *pass, gnutls_x509_crt_t crt,
		    EVP_PKEY **out)
{
	int ret;

	ret = kc_key_load_private(state_path(c, name), kc_passphrase_supply,
				  (void *)pass, out);
	if (ret == -EBADMSG)
		return state_fail_plain(
			c, ret,
			"cannot read %s: wrong passphrase or not a private key",
			c->path);
	if (ret)
		return state_fail(c, ret, "cannot read %s", c->path);
	ret = kc_pki_key_matches(crt, *out);
	if (ret)
		return state_fail_plain(c, ret,
					"%s does not belong to its certificate",
					c->path);
	return 0;
}

static int load_certs(struct state_ctx *c, struct kc_agent_state *st,
		      gnutls_x509_crt_t *ca)
{
	int ret;

	ret = load_cert(c, KC_STATE_CA_CRT, ca);
	if (!ret)
		ret = load_cert(c, KC_STATE_TLS_CRT, &st->tls_crt);
	if (!ret)
		ret = load_cert(c, KC_STATE_SEAL_CRT, &st->seal_crt);
	if (!ret)
		ret = check_issued(c, KC_STATE_TLS_CRT, st->tls_crt, *ca);
	if (!ret)
		ret = check_issued(c, KC_STATE_SEAL_CRT, st->seal_crt, *ca);
	return ret;
}

/* On success st->ca owns ca. */
static int load_ca(struct state_ctx *c, struct kc_agent_state *st,
		   gnutls_x509_crt_t ca, const struct kc_passphrase *pass)
{
	EVP_PKEY *key = NULL;
	int ret;

	ret = load_key(c, KC_STATE_CA_KEY, pass, ca, &key);
	if (!ret) {
		ret = kc_pki_ca_from(ca, key, &st->ca);
		if (ret)
			state_fail(c, ret, "cannot use %s", c->path);
	}
	EVP_PKEY_free(key);
	return ret;
}

static int load_tls(struct state_ctx *c, struct kc_agent_state *st,
		    const struct kc_passphrase *pass)
{
	EVP_PKEY *key = NULL;
	int ret;

	ret = load_key(c, KC_STATE_TLS_KEY, pass, st->tls_crt, &key);
	if (!ret && kc_key_pkcs8_der(key, &st->tls_pkcs8, &st->tls_pkcs8_len))
		ret = state_fail(c, -ENOMEM, "cannot use %s", c->path);
	EVP_PKEY_free(key);
	return ret;
}

static int load_seal(struct state_ctx *c, struct kc_agent_state *st,
		     const struct kc_passphrase *pass)
{
	int ret;

	ret = load_key(c, KC_STATE_SEAL_KEY, pass, st->seal_crt, &st->seal_key);
	if (!ret && kc_rsa_check(st->seal_key))
		ret = state_fail_plain(
			c, -EINVAL, "%s is not an RSA-2048 key with e = 65537",
			c->path);
	if (!ret && kc_key_pkcs8_der(st->seal_key, &st->seal_pkcs8,
				     &st->seal_pkcs8_len))
		ret = state_fail(c, -ENOMEM, "cannot use %s", c->path);
	return ret;
}

static int export_ders(struct state_ctx *c, struct kc_agent_state *st)
{
	int ret;

	ret = kc_pki_crt_der(st->ca.crt, &st->ca_der);
	if (!ret)
		ret = kc_pki_crt_der(st->tls_crt, &st->tls_der);
	if (!ret)
		ret = kc_pki_crt_der(st->seal_crt, &st->seal_der);
	if (!ret)
		ret = kc_pki_fingerprint(st->ca.crt, st->ca_fingerprint);
	return ret ? state_fail(c, ret, "cannot encode the certificates") : 0;
}

int kc_agent_state_load(const char *dir, const struct kc_passphrase *pass,
			struct kc_agent_state *st, char *err, size_t err_len)
{
	struct state_ctx c = { .dir = dir, .err = err, .err_len = err_len };
	gnutls_x509_crt_t ca = NULL;
	int ret;

	memset(st, 0, sizeof(*st));
	if (err_len)
		err[0] = '\0';
	if (strlen(dir) >= sizeof(st->dir))
		return state_fail(&c, -ENAMETOOLONG, "bad directory");
	strcpy(st->dir, dir);
	ret = load_config(&c, &st->cfg);
	if (!ret)
		ret = load_certs(&c, st, &ca);
	if (!ret)
		ret = load_ca(&c, st, ca, pass);
	if (!ret)
		ca = NULL; /* st->ca.crt now */
	if (!ret)
		ret = load_tls(&c, st, pass);
	if (!ret)
		ret = load_seal(&c, st, pass);
	if (!ret)
		ret = export_ders(&c, st);
	gnutls_x509_crt_deinit(ca);
	if (ret)
		kc_agent_state_free(st);
	return ret;
}

void kc_agent_state_wipe_der(struct kc_agent_state *st)
{
	OPENSSL_clear_free(st->tls_pkcs8, st->tls_pkcs8_len);
	OPENSSL_clear_free(st->seal_pkcs8, st->seal_pkcs8_len);
	st->tls_pkcs8 = st->seal_pkcs8 = NULL;
	st->tls_pkcs8_len = st->seal_pkcs8_len = 0;
	/* The tiers have the seal key (or gave it to the kernel) by now. */
	EVP_PKEY_free(st->seal_key);
	st->seal_key = NULL;
}

void kc_agent_state_free(struct kc_agent_state *st)
{
	if (!st)
		return;
	kc_agent_state_wipe_der(st);
	kc_pki_ca_free(&st->ca);
	gnutls_x509_crt_deinit(st->tls_crt);
	gnutls_x509_crt_deinit(st->seal_crt);
	gnutls_free(st->ca_der.data);
	gnutls_free(st->tls_der.data);
	gnutls_free(st->seal_der.data);
	EVP_PKEY_free(st->seal_key);
	memset(st, 0, sizeof(*st));
}
