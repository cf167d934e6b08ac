// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load clients: cached or enrolled; see identity.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "client/client.h"
#include "tls/clientcred.h"
#include "crypto/crypto.h"
#include "client/enroll.h"
#include "client/home.h"
#include "identity.h"
#include "crypto/keyfile.h"
#include "base/status.h"
#include "tokens.h"

/* CACHE/<pin>: --cache, else $XDG_CACHE_HOME or ~/.cache, plus the tool. */
static int cache_root(const struct load_opts *o, char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (o->cache)
		n = snprintf(out, cap, "%s/%s", o->cache, o->pin);
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/kcourier-load/%s", xdg, o->pin);
	else if (home && home[0])
		n = snprintf(out, cap, "%s/.cache/kcourier-load/%s", home,
			     o->pin);
	else
		return -ENOENT;
	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static int load_key(const struct kc_home *h, const char *name, EVP_PKEY **key)
{
	char path[PATH_MAX];
	int ret = kc_home_path(h, name, path, sizeof(path));

	return ret ? ret : kc_key_load_private(path, NULL, NULL, key);
}

static int load_cached(const char *dir, struct load_identity *id)
{
	struct kc_home *h = &id->home;
	int ret;

	ret = kc_home_open(h, dir);
	if (ret)
		return ret;
	snprintf(id->id, sizeof(id->id), "%s", h->id);
	ret = load_key(h, KC_HOME_ID_KEY, &id->id_key);
	if (!ret)
		ret = load_key(h, KC_HOME_ENC_KEY, &id->enc_key);
	if (!ret)
		ret = kc_home_load_cert(h, KC_HOME_CLIENT_CERT, &id->cert,
					&id->cert_len);
	if (!ret)
		ret = kc_home_load_cert(h, KC_HOME_CA_CERT, &id->ca,
					&id->ca_len);
	if (!ret)
		ret = kc_home_load_cert(h, KC_HOME_SEAL_CERT, &id->seal,
					&id->seal_len);
	if (ret)
		identity_clear(id);
	return ret;
}

/* Plain PKCS#8 PEM, 0600 (see identity.h for why not encrypted). */
static int save_plain_key(const struct kc_home *h, const char *name,
			  EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;
	int ret = -ENOMEM;

	if (bio && PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL,
						 NULL)) {
		len = BIO_get_mem_data(bio, &pem);
		ret = kc_home_write(h, name, pem, (size_t)len, 0600);
		OPENSSL_cleanse(pem, (size_t)len);
	}
	BIO_free(bio);
	return ret;
}

static int save_enrolled(const struct load_opts *o, const char *dir,
			 const struct kc_enroll *e)
{
	struct kc_home h = { 0 };
	int ret;

	ret = kc_home_create(&h, dir);
	if (!ret)
		ret = save_plain_key(&h, KC_HOME_ID_KEY, e->id_key);
	if (!ret)
		ret = save_plain_key(&h, KC_HOME_ENC_KEY, e->enc_key);
	if (!ret)
		ret = kc_home_save_cert(&h, KC_HOME_CLIENT_CERT,
					(struct kc_bytes){ e->client_cert,
							   e->client_cert_len });
	if (!ret)
		ret = kc_home_save_cert(&h, KC_HOME_CA_CERT,
					(struct kc_bytes){ e->ca_cert,
							   e->ca_cert_len });
	if (!ret)
		ret = kc_home_save_cert(&h, KC_HOME_SEAL_CERT,
					(struct kc_bytes){ e->seal_cert,
							   e->seal_cert_len });
	if (!ret) {
		/* config.json last: its presence marks a complete client. */
		snprintf(h.id, sizeof(h.id), "%s", e->id);
		snprintf(h.agent, sizeof(h.agent), "%s", o->agent);
		snprintf(h.pin, sizeof(h.pin), "%s", o->pin);
		ret = kc_home_save_config(&h);
	}
	kc_home_release(&h);
	return ret;
}

static void random_id(char out[KC_CLIENT_ID_MAX + 1])
{
	uint8_t r[6];
	char hex[13];

	kc_random(r, sizeof(r));
	kc_hex(r, sizeof(r), hex);
	snprintf(out, KC_CLIENT_ID_MAX + 1, "load-%s", hex);
}

/* A refused token may just be spent: the next one is tried. */
static bool token_refused(const struct kc_enroll *e, int ret)
{
	return ret == -EREMOTEIO &&
	       (e->status == KC_BAD_TOKEN || e->status == KC_EXPIRED);
}

static int enroll_one(const struct load_opts *o, struct token_source *ts,
		      size_t want, struct kc_enroll *e)
{
	char id[KC_CLIENT_ID_MAX + 1], token[TOKEN_MAX];
	int ret;

	random_id(id);
	ret = kc_enroll_keys(e, id);
	while (!ret) {
		if (tokens_next(ts, want, token))
			return -1;
		ret = kc_enroll_register(e, o->agent, o->pin, token,
					 o->timeout_ms);
		explicit_bzero(token, sizeof(token));
		if (!token_refused(e, ret))
			break;
		ret = 0;
	}
	if (ret)
		load_err("enrolling a client: %s", e->why);
	return ret ? -1 : 0;
}

static int enroll_into(const struct load_opts *o, struct token_source *ts,
		       size_t want, const char *dir)
{
	struct kc_enroll e = { .status = -1 };
	int ret;

	ret = enroll_one(o, ts, want, &e);
	if (!ret && save_enrolled(o, dir, &e)) {
		load_err("%s: cannot save the new client", dir);
		ret = -1;
	}
	kc_enroll_clear(&e);
	return ret;
}

int identities_get(const struct load_opts *o, struct load_identity *ids,
		   size_t n)
{
	struct token_source ts;
	char root[PATH_MAX - 32], dir[PATH_MAX];
	size_t i, enrolled = 0;
	int ret = cache_root(o, root, sizeof(root));

	if (ret) {
		load_err("no cache directory: pass --cache DIR");
		return -1;
	}
	tokens_init(&ts, o);
	for (i = 0; !ret && i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/%u", root, (unsigned int)i);
		if (!load_cached(dir, &ids[i]))
			continue;
		ret = enroll_into(o, &ts, n - i, dir);
		if (!ret)
			ret = load_cached(dir, &ids[i]);
		enrolled++;
	}
	tokens_close(&ts);
	if (ret)
		load_err("%s: cannot prepare client %zu", root, i - 1);
	else if (enrolled)
		fprintf(stderr, LOAD_NAME ": enrolled %zu new clients into %s\n",
			enrolled, root);
	return ret ? -1 : 0;
}

void identity_clear(struct load_identity *id)
{
	kc_home_release(&id->home);
	EVP_PKEY_free(id->id_key);
	EVP_PKEY_free(id->enc_key);
	free(id->cert);
	free(id->ca);
	free(id->seal);
	memset(id, 0, sizeof(*id));
}

int identity_connect(const struct load_opts *o, const struct load_identity *id,
		     struct kc_client **out)
{
	struct kc_client_cred cc;
	int ret;

	ret = kc_client_cred_init(&cc, id->cert, id->cert_len, id->id_key);
	if (ret)
		return ret;
	ret = kc_client_connect(o->agent, o->pin, &cc.cred, o->timeout_ms,
				out);
	kc_client_cred_wipe(&cc);
	return ret;
}

int identity_prepare_tls(const struct load_identity *id,
			 struct kc_tls_client_prep **out)
{
	struct kc_bytes chain = { id->cert, id->cert_len };
	struct kc_tls_client_cred cred = { .chain = &chain, .chain_len = 1 };

	if (!kc_tls_client_prepare(&cred, id->id_key, NULL, out))
		return 0;
	load_err("client %s: %s", id->id, kc_tls_client_strerror());
	return -1;
}
