// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the home directory keeps between runs besides keys and
 * certificates: the LOOKUP cache and the sealed E2E state; see home.h.
 *
 * The state files hold every session key K. They are JSON envelopes
 * (PROTOCOL.md section 2) sealed to the client's own enc key: opening
 * them needs the enc key's passphrase, like the keys themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/b64.h"
#include "client/e2e.h"
#include "client/envelope.h"
#include "client/home.h"

#define PEERS_MAX (16u << 20)
#define PEERS_VERSION 1

static int new_peers_doc(json_t **doc)
{
	*doc = json_pack("{s:i, s:{}}", "v", PEERS_VERSION, "peers");
	return *doc ? 0 : -ENOMEM;
}

/* The cache document, or a new empty one if there is no file yet. */
static int peers_doc(const struct kc_home *h, json_t **doc)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = kc_home_read(h, KC_HOME_PEERS, PEERS_MAX, &buf, &len);
	if (ret == -ENOENT)
		return new_peers_doc(doc);
	if (ret)
		return ret;
	*doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!*doc || !json_is_object(json_object_get(*doc, "peers"))) {
		json_decref(*doc);
		*doc = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int b64_field(const json_t *obj, const char *name, uint8_t **out,
		     struct kc_bytes *b)
{
	json_t *s = json_object_get(obj, name);
	size_t len = json_string_length(s);

	if (!json_is_string(s) || len % 4)
		return -EBADMSG;
	*out = malloc(len / 4 * 3 + 1);
	if (!*out)
		return -ENOMEM;
	b->p = *out;
	if (kc_b64_decode(json_string_value(s), len, *out, &b->len))
		return -EBADMSG;
	return 0;
}

static int peer_from_json(const char *id, const json_t *o, struct kc_peer *p)
{
	uint8_t *cert = NULL, *spki = NULL, *sig = NULL;
	struct kc_bytes c, k, s;
	int ret;

	ret = b64_field(o, "id_cert", &cert, &c);
	if (!ret)
		ret = b64_field(o, "enc_spki", &spki, &k);
	if (!ret)
		ret = b64_field(o, "enc_sig", &sig, &s);
	if (!ret)
		ret = kc_peer_set(p, id, c, k, s);
	free(cert);
	free(spki);
	free(sig);
	return ret == -EINVAL ? -EBADMSG : ret;
}

int kc_home_peer_load(const struct kc_home *h, const char *id,
		      struct kc_peer *p)
{
	json_t *doc = NULL, *o;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = peers_doc(h, &doc);
	if (ret)
		return ret;
	o = json_object_get(json_object_get(doc, "peers"), id);
	ret = o ? peer_from_json(id, o, p) : -ENOENT;
	json_decref(doc);
	return ret;
}

static json_t *b64_json(const uint8_t *p, size_t len)
{
	char *text = malloc(kc_b64_len(len));
	json_t *s;

	if (!text)
		return NULL;
	kc_b64_encode(p, len, text);
	s = json_string(text);
	free(text);
	return s;
}

static json_t *peer_json(const struct kc_peer *p)
{
	return json_pack("{s:o, s:o, s:o, s:I}", "id_cert",
			 b64_json(p->id_cert, p->id_cert_len), "enc_spki",
			 b64_json(p->enc_spki, p->enc_spki_len), "enc_sig",
			 b64_json(p->enc_sig, p->enc_sig_len), "fetched_ms",
			 (json_int_t)kc_wall_ms());
}

static int write_json(const struct kc_home *h, const char *name,
		      const json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	int ret;

	if (!text)
		return -ENOMEM;
	ret = kc_home_write(h, name, text, strlen(text), 0600);
	free(text);
	return ret;
}

int kc_home_peer_save(const struct kc_home *h, const struct kc_peer *p)
{
	json_t *doc = NULL;
	int ret;

	ret = peers_doc(h, &doc);
	/* A damaged cache is only a cache: start it again. */
	if (ret == -EBADMSG)
		ret = new_peers_doc(&doc);
	if (ret)
		return ret;
	ret = json_object_set_new(json_object_get(doc, "peers"), p->id,
				  peer_json(p)) ?
		      -ENOMEM :
		      write_json(h, KC_HOME_PEERS, doc);
	json_decref(doc);
	return ret;
}

/* Sealed state. */

#define STATE_MAX ((size_t)64 << 20)

int kc_home_state_load(const struct kc_home *h, const char *name,
		       struct kc_crypto *c, kc_handle_t unwrap_key,
		       json_t **doc)
{
	uint8_t *env = NULL, *pt = NULL;
	size_t env_len = 0, pt_len = 0;
	int ret;

	*doc = NULL;
	kc_e2e_json_wipe_on_free();
	ret = kc_home_read(h, name, STATE_MAX, &env, &env_len);
	if (ret)
		return ret;
	ret = kc_envelope_open(c, unwrap_key, (const char *)env, env_len, &pt,
			       &pt_len);
	free(env);
	if (ret)
		return ret;
	*doc = json_loadb((const char *)pt, pt_len, JSON_REJECT_DUPLICATES,
			  NULL);
	explicit_bzero(pt, pt_len);
	free(pt);
	return *doc ? 0 : -EBADMSG;
}

int kc_home_state_save(const struct kc_home *h, const char *name,
		       struct kc_crypto *c, EVP_PKEY *enc_pub,
		       const json_t *doc)
{
	char *text, *env = NULL;
	size_t len, env_len = 0;
	int ret;

	kc_e2e_json_wipe_on_free();
	text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	ret = kc_envelope_seal(c, enc_pub, (const uint8_t *)text, len, &env,
			       &env_len);
	explicit_bzero(text, len);
	free(text);
	if (!ret)
		ret = kc_home_write(h, name, env, env_len, 0600);
	free(env);
	return ret;
}
