// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one-shot JSON envelope of PROTOCOL.md section 2:
 *
 *   wrapped = OAEP(recipient_pub, K)
 *   ct      = CBC(K, iv, plaintext)
 *   mac     = MAC(Km, "kcourier/1 json" || wrapped || iv || ct)
 *
 * The crypto tier does CBC and the MAC over aad || ct, so the aad here is
 * the label, wrapped and iv back to back, and the decoded wrapped key and
 * iv live inside it.
 *
 * Opening has one failure for everything a sender controls (PROTOCOL.md
 * section 1): malformed JSON, a wrong member set, v, base64 or length, a
 * failed unwrap and a bad MAC or padding all end as -EBADMSG, and a failed
 * unwrap still runs the MAC check with a random K so it costs the same.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/b64.h"
#include "crypto/crypto.h"
#include "client/envelope.h"

#define AAD_LABEL "kcourier/1 json"
#define AAD_LABEL_LEN (sizeof(AAD_LABEL) - 1)
#define AAD_LEN (AAD_LABEL_LEN + KC_RSA_LEN + KC_IV_LEN)

#define M_VERSION "v"
#define M_WRAPPED "encrypted_aes_key"
#define M_IV "iv"
#define M_CT "encrypted_message"
#define M_MAC "mac"
#define N_MEMBERS 5

/* Decoded fields; wrapped and iv are views into aad. */
struct env_fields {
	uint8_t aad[AAD_LEN];
	uint8_t mac[KC_MAC_LEN];
	uint8_t *ct;
	size_t ct_len;
};

static uint8_t *fields_wrapped(struct env_fields *f)
{
	return f->aad + AAD_LABEL_LEN;
}

static uint8_t *fields_iv(struct env_fields *f)
{
	return f->aad + AAD_LABEL_LEN + KC_RSA_LEN;
}

/* ,"name":"<base64 of n bytes>" */
static size_t member_len(const char *name, size_t n)
{
	return strlen(name) + 6 + kc_b64_len(n) - 1;
}

static size_t envelope_len(size_t ct_len)
{
	return strlen("{\"" M_VERSION "\":1}") +
	       member_len(M_WRAPPED, KC_RSA_LEN) + member_len(M_IV, KC_IV_LEN) +
	       member_len(M_CT, ct_len) + member_len(M_MAC, KC_MAC_LEN);
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_member(char *p, const char *name, const uint8_t *b, size_t n)
{
	p = put_str(p, ",\"");
	p = put_str(p, name);
	p = put_str(p, "\":\"");
	kc_b64_encode(b, n, p);
	p += kc_b64_len(n) - 1;
	return put_str(p, "\"");
}

/*
 * Base64 needs no JSON escaping, so the text is written straight into one
 * buffer of the exact size: the ciphertext, by far the largest part, is
 * encoded once and never copied.
 */
static int format_envelope(struct env_fields *f, char **json, size_t *json_len)
{
	size_t len = envelope_len(f->ct_len);
	char *buf, *p;

	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	p = put_str(buf, "{\"" M_VERSION "\":1");
	p = put_member(p, M_WRAPPED, fields_wrapped(f), KC_RSA_LEN);
	p = put_member(p, M_IV, fields_iv(f), KC_IV_LEN);
	p = put_member(p, M_CT, f->ct, f->ct_len);
	p = put_member(p, M_MAC, f->mac, KC_MAC_LEN);
	p = put_str(p, "}");
	*p = '\0';
	*json = buf;
	*json_len = len;
	return 0;
}

static int seal_fields(struct kc_crypto *c, kc_handle_t session,
		       struct env_fields *f, const uint8_t *pt, size_t pt_len)
{
	struct kc_seal_req req = {
		.session = session,
		.aad = f->aad,
		.aad_len = AAD_LEN,
		.iv = fields_iv(f),
		.pt = pt,
		.pt_len = pt_len,
	};
	int ret;

	f->ct = malloc(kc_cbc_ct_len(pt_len));
	if (!f->ct)
		return -ENOMEM;
	req.ct = f->ct;
	ret = kc_seal_batch(c, &req, 1);
	if (!ret)
		ret = req.status;
	if (!ret && req.ct_len != kc_cbc_ct_len(pt_len))
		ret = -EIO;
	if (ret)
		return ret;
	f->ct_len = req.ct_len;
	memcpy(f->mac, req.mac, KC_MAC_LEN);
	return 0;
}

/* K goes to the recipient (wrapped) and to the tier, then is wiped here. */
static int new_session(struct kc_crypto *c, EVP_PKEY *pub, struct env_fields *f,
		       kc_handle_t *session)
{
	uint8_t k[KC_KEY_LEN];
	int ret;

	kc_random(k, sizeof(k));
	ret = kc_oaep_wrap(pub, k, sizeof(k), fields_wrapped(f));
	if (!ret)
		ret = kc_session_install(c, NULL, k, session);
	explicit_bzero(k, sizeof(k));
	return ret;
}

int kc_envelope_seal(struct kc_crypto *c, EVP_PKEY *recipient_pub,
		     const uint8_t *pt, size_t pt_len, char **json,
		     size_t *json_len)
{
	kc_handle_t session = KC_HANDLE_NONE;
	struct env_fields f = { .ct = NULL };
	int ret;

	/* Never write what kc_envelope_open would refuse. */
	if (pt_len > KC_ENVELOPE_MAX ||
	    envelope_len(kc_cbc_ct_len(pt_len)) > KC_ENVELOPE_MAX)
		return -EMSGSIZE;
	ret = kc_rsa_check(recipient_pub);
	if (ret)
		return ret;
	memcpy(f.aad, AAD_LABEL, AAD_LABEL_LEN);
	kc_random(fields_iv(&f), KC_IV_LEN);
	ret = new_session(c, recipient_pub, &f, &session);
	if (ret)
		goto cleanup;
	ret = seal_fields(c, session, &f, pt, pt_len);
	if (ret)
		goto cleanup;
	ret = format_envelope(&f, json, json_len);
cleanup:
	if (session != KC_HANDLE_NONE)
		kc_session_drop(c, session);
	free(f.ct);
	return ret;
}

/* A member that must be canonical base64 of exactly n bytes. */
static int decode_fixed(json_t *root, const char *name, uint8_t *out, size_t n)
{
	uint8_t tmp[(KC_RSA_LEN + 2) / 3 * 3];
	json_t *s = json_object_get(root, name);
	size_t len, got;

	if (!json_is_string(s))
		return -EBADMSG;
	len = json_string_length(s);
	/* kc_b64_decode may write up to len / 4 * 3 bytes: check before. */
	if (len != kc_b64_len(n) - 1 || len / 4 * 3 > sizeof(tmp))
		return -EBADMSG;
	if (kc_b64_decode(json_string_value(s), len, tmp, &got) || got != n)
		return -EBADMSG;
	memcpy(out, tmp, n);
	return 0;
}

/* The ciphertext: canonical base64 of a non-zero multiple of 16 bytes. */
static int decode_ct(json_t *root, struct env_fields *f)
{
	json_t *s = json_object_get(root, M_CT);
	size_t len;

	if (!json_is_string(s))
		return -EBADMSG;
	len = json_string_length(s);
	if (len == 0 || len % 4 != 0)
		return -EBADMSG;
	f->ct = malloc(len / 4 * 3);
	if (!f->ct)
		return -ENOMEM;
	if (kc_b64_decode(json_string_value(s), len, f->ct, &f->ct_len))
		return -EBADMSG;
	if (f->ct_len == 0 || f->ct_len % KC_IV_LEN != 0)
		return -EBADMSG;
	return 0;
}

/* "v" must be the JSON integer 1: not 1.0, true or "1". */
static bool version_ok(json_t *root)
{
	json_t *v = json_object_get(root, M_VERSION);

	return json_is_integer(v) && json_integer_value(v) == 1;
}

/*
 * Exactly five members (duplicates are refused while loading), so the
 * five names below being present means no member is missing or extra.
 */
static int decode_members(json_t *root, struct env_fields *f)
{
	int ret;

	if (!json_is_object(root) || json_object_size(root) != N_MEMBERS ||
	    !version_ok(root))
		return -EBADMSG;
	ret = decode_fixed(root, M_WRAPPED, fields_wrapped(f), KC_RSA_LEN);
	if (!ret)
		ret = decode_fixed(root, M_IV, fields_iv(f), KC_IV_LEN);
	if (!ret)
		ret = decode_fixed(root, M_MAC, f->mac, KC_MAC_LEN);
	if (!ret)
		ret = decode_ct(root, f);
	return ret;
}

static int parse_envelope(const char *json, size_t len, struct env_fields *f)
{
	json_error_t err;
	json_t *root;
	int ret;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return json_error_code(&err) == json_error_out_of_memory
			       ? -ENOMEM
			       : -EBADMSG;
	memcpy(f->aad, AAD_LABEL, AAD_LABEL_LEN);
	ret = decode_members(root, f);
	json_decref(root);
	return ret;
}

/*
 * Unwrap, then MAC and decrypt. A failed unwrap carries on with the random
 * K the tier put in the session, so it fails at the MAC like any other
 * forgery; it is also counted as a failure at the end, so even a tier that
 * got the random K wrong cannot let a MAC under a guessable K through.
 */
static int open_fields(struct kc_crypto *c, kc_handle_t key,
		       struct env_fields *f, uint8_t *pt, size_t *pt_len)
{
	struct kc_open_req req = {
		.aad = f->aad,
		.aad_len = AAD_LEN,
		.iv = fields_iv(f),
		.ct = f->ct,
		.ct_len = f->ct_len,
		.mac = f->mac,
		.pt = pt,
	};
	int unwrapped, ret;

	unwrapped = kc_session_unwrap(c, key, NULL, fields_wrapped(f),
				      &req.session);
	if (unwrapped && unwrapped != -EBADMSG)
		return unwrapped;
	ret = kc_open_batch(c, &req, 1);
	kc_session_drop(c, req.session);
	if (ret)
		return ret;
	if (req.status || unwrapped)
		return -EBADMSG;
	*pt_len = req.pt_len;
	return 0;
}

int kc_envelope_open(struct kc_crypto *c, kc_handle_t unwrap_key,
		     const char *json, size_t json_len, uint8_t **pt,
		     size_t *pt_len)
{
	struct env_fields f = { .ct = NULL };
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (json_len > KC_ENVELOPE_MAX)
		return -EBADMSG;
	ret = parse_envelope(json, json_len, &f);
	if (ret)
		goto cleanup;
	ret = -ENOMEM;
	buf = malloc(f.ct_len);
	if (!buf)
		goto cleanup;
	ret = open_fields(c, unwrap_key, &f, buf, &len);
	if (ret)
		goto cleanup;
	*pt = buf;
	*pt_len = len;
	buf = NULL;
cleanup:
	if (buf) {
		/* A padding failure may have left decrypted bytes behind. */
		explicit_bzero(buf, f.ct_len);
		free(buf);
	}
	free(f.ct);
	/* Only a lack of memory is told apart from a failed open. */
	return ret == 0 || ret == -ENOMEM ? ret : -EBADMSG;
}
