// SPDX-License-Identifier: GPL-2.0-only
/*
 * E2E state as JSON, for the sealed state files of home.c:
 *
 *   out: {"v":1, "half":"out",
 *         "sessions":[{"peer","sid","k","seq","created_ms"}, ...]}
 *   in:  {"v":1, "half":"in", "sessions":[...same...],
 *         "floors":{"<sender>":created_ms, ...},
 *         "seen":[{"from","msg_id"}, ...]}      (oldest first)
 *
 * sid and msg_id are lowercase hex, k is base64; seq is the last used
 * (out) or the highest accepted (in). The documents hold K, so they are
 * only ever written sealed to the client's own enc key, and jansson is
 * made to wipe what it frees (kc_e2e_json_wipe_on_free).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "crypto/crypto.h"
#include "client/e2e_priv.h"

#define STATE_VERSION 1

static void wiping_free(void *p)
{
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void install_wiping_alloc(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

void kc_e2e_json_wipe_on_free(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install_wiping_alloc);
}

void kc_e2e_json_free(json_t *doc)
{
	json_decref(doc);
}

/* Export. */

static json_t *hex_string(const uint8_t *p, size_t n)
{
	char hex[2 * KC_MSGID_LEN + 1];

	kc_hex(p, n, hex);
	return json_string(hex);
}

static json_t *session_json(const struct kc_e2e *e,
			    const struct e2e_session *s)
{
	char k[kc_b64_len(KC_KEY_LEN)];
	json_t *o;

	kc_b64_encode(kc_e2e_session_key(e, s), KC_KEY_LEN, k);
	o = json_pack("{s:s, s:o, s:s, s:I, s:I}", "peer", s->peer, "sid",
		      hex_string(s->sid, KC_SID_LEN), "k", k, "seq",
		      (json_int_t)s->seq, "created_ms",
		      (json_int_t)s->created_ms);
	explicit_bzero(k, sizeof(k));
	return o;
}

static json_t *sessions_json(const struct kc_e2e *e,
			     const struct e2e_table *t)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < t->n; i++) {
		if (json_array_append_new(arr, session_json(e, &t->s[i]))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *floors_json(const struct kc_e2e *e)
{
	json_t *obj = json_object();
	size_t i;

	for (i = 0; obj && i < e->n_floors; i++) {
		if (json_object_set_new(obj, e->floors[i].peer,
					json_integer((json_int_t)e->floors[i]
							     .created_ms))) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

static json_t *seen_json(const struct kc_e2e *e)
{
	json_t *arr = json_array();
	uint32_t i;

	/* Oldest first: importing in this order keeps the eviction order. */
	for (i = 0; arr && i < e->seen.count; i++) {
		const struct e2e_seen *s = kc_seen_set_oldest(&e->seen, i);
		json_t *o;

		o = json_pack("{s:s, s:o}", "from", s->peer, "msg_id",
			      hex_string(s->msg_id, KC_MSGID_LEN));
		if (json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int kc_e2e_export_out(const struct kc_e2e *e, json_t **out)
{
	kc_e2e_json_wipe_on_free();
	*out = json_pack("{s:i, s:s, s:o}", "v", STATE_VERSION, "half", "out",
			 "sessions", sessions_json(e, &e->out));
	return *out ? 0 : -ENOMEM;
}

int kc_e2e_export_in(const struct kc_e2e *e, json_t **out)
{
	kc_e2e_json_wipe_on_free();
	*out = json_pack("{s:i, s:s, s:o, s:o, s:o}", "v", STATE_VERSION,
			 "half", "in", "sessions", sessions_json(e, &e->in),
			 "floors", floors_json(e), "seen", seen_json(e));
	return *out ? 0 : -ENOMEM;
}

/* Import. */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int hex_decode(const json_t *s, uint8_t *out, size_t n)
{
	const char *hex = json_string_value(s);
	size_t i;

	if (!hex || json_string_length(s) != 2 * n)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int key_decode(const json_t *s, uint8_t k[KC_KEY_LEN])
{
	uint8_t buf[(kc_b64_len(KC_KEY_LEN) - 1) / 4 * 3];
	size_t len = json_string_length(s), got = 0;
	int ret = -EBADMSG;

	if (json_is_string(s) && len == kc_b64_len(KC_KEY_LEN) - 1 &&
	    !kc_b64_decode(json_string_value(s), len, buf, &got) &&
	    got == KC_KEY_LEN) {
		memcpy(k, buf, KC_KEY_LEN);
		ret = 0;
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

static bool peer_valid(const char *peer)
{
	return peer && kc_client_id_valid((const uint8_t *)peer, strlen(peer));
}

static int session_import(struct kc_e2e *e, struct e2e_table *t,
			  const json_t *o)
{
	json_t *sid_s = NULL, *k_s = NULL;
	json_int_t seq = -1, created = -1;
	uint8_t sid[KC_SID_LEN], k[KC_KEY_LEN];
	const char *peer = NULL;
	int ret;

	if (json_unpack((json_t *)o, "{s:s, s:o, s:o, s:I, s:I !}", "peer",
			&peer, "sid", &sid_s, "k", &k_s, "seq", &seq,
			"created_ms", &created) ||
	    !peer_valid(peer) || seq < 0 || created < 0 ||
	    hex_decode(sid_s, sid, KC_SID_LEN))
		return -EBADMSG;
	ret = key_decode(k_s, k);
	if (!ret)
		ret = kc_e2e_add_session(e, t, peer, sid, k, (uint64_t)seq,
					 (uint64_t)created, NULL);
	explicit_bzero(k, sizeof(k));
	return ret;
}

static int sessions_import(struct kc_e2e *e, struct e2e_table *t,
			   const json_t *arr)
{
	size_t i;
	int ret;

	if (!json_is_array(arr))
		return -EBADMSG;
	for (i = 0; i < json_array_size(arr); i++) {
		ret = session_import(e, t, json_array_get(arr, i));
		if (ret)
			return ret;
	}
	return 0;
}

static int floors_import(struct kc_e2e *e, const json_t *obj)
{
	const char *peer;
	json_t *v;
	int ret;

	if (!json_is_object(obj))
		return -EBADMSG;
	json_object_foreach((json_t *)obj, peer, v) {
		if (!peer_valid(peer) || !json_is_integer(v) ||
		    json_integer_value(v) < 0)
			return -EBADMSG;
		ret = kc_e2e_set_floor(e, peer,
				       (uint64_t)json_integer_value(v));
		if (ret)
			return ret;
	}
	return 0;
}

static int seen_import(struct kc_e2e *e, const json_t *arr)
{
	uint8_t msg_id[KC_MSGID_LEN];
	const char *from;
	json_t *id_s;
	size_t i;

	if (!json_is_array(arr))
		return -EBADMSG;
	for (i = 0; i < json_array_size(arr); i++) {
		if (json_unpack(json_array_get(arr, i), "{s:s, s:o !}", "from",
				&from, "msg_id", &id_s) ||
		    !peer_valid(from) || hex_decode(id_s, msg_id, KC_MSGID_LEN))
			return -EBADMSG;
		kc_e2e_remember(e, (struct kc_bytes){ (const uint8_t *)from,
						      strlen(from) },
				msg_id);
	}
	return 0;
}

static int check_header(const json_t *doc, const char *half)
{
	json_t *v = json_object_get(doc, "v");
	const char *h = json_string_value(json_object_get(doc, "half"));

	if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION ||
	    !h || strcmp(h, half))
		return -EBADMSG;
	return 0;
}

int kc_e2e_import_out(struct kc_e2e *e, const json_t *doc)
{
	int ret = check_header(doc, "out");

	if (!ret)
		ret = sessions_import(e, &e->out,
				      json_object_get(doc, "sessions"));
	return ret;
}

int kc_e2e_import_in(struct kc_e2e *e, const json_t *doc)
{
	int ret = check_header(doc, "in");

	if (!ret)
		ret = sessions_import(e, &e->in,
				      json_object_get(doc, "sessions"));
	if (!ret)
		ret = floors_import(e, json_object_get(doc, "floors"));
	if (!ret)
		ret = seen_import(e, json_object_get(doc, "seen"));
	return ret;
}
