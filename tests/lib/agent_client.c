// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client side of the agent protocol for tests: see agent_client.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent_client.h"
#include "keycache.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "tls/tlsclient.h"

static struct kc_bytes bytes(const void *p, size_t len)
{
	return (struct kc_bytes){ p, len };
}

static struct kc_bytes text(const char *s)
{
	return bytes(s, strlen(s));
}

static int sign_enc_key(struct test_ident *ti)
{
	uint8_t msg[4096];
	size_t len = kc_enc_sig_msg(msg, sizeof(msg), text(ti->id),
				    bytes(ti->enc_spki, ti->enc_spki_len));

	if (!len)
		return -EMSGSIZE;
	return kc_pss_sign(ti->id_key, msg, len, ti->enc_sig);
}

/* Ids may hold characters a file name may not: the key name is a hash. */
static int cached_key(const char *id, const char *role, EVP_PKEY **out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	char name[32];
	int i;

	if (!EVP_Digest(id, strlen(id), digest, NULL, EVP_sha256(), NULL))
		return -EIO;
	for (i = 0; i < 8; i++)
		snprintf(name + 2 * i, 3, "%02x", digest[i]);
	snprintf(name + 16, sizeof(name) - 16, ".%s", role);
	return test_cached_rsa_key(name, out);
}

int ti_make(struct test_ident *ti, const char *id)
{
	int ret;

	memset(ti, 0, sizeof(*ti));
	snprintf(ti->id, sizeof(ti->id), "%s", id);
	ret = cached_key(id, "id", &ti->id_key);
	if (!ret)
		ret = cached_key(id, "enc", &ti->enc_key);
	if (!ret)
		ret = kc_spki_der(ti->id_key, &ti->id_spki, &ti->id_spki_len);
	if (!ret)
		ret = kc_spki_der(ti->enc_key, &ti->enc_spki,
				  &ti->enc_spki_len);
	if (!ret)
		ret = sign_enc_key(ti);
	return ret;
}

void ti_free(struct test_ident *ti)
{
	EVP_PKEY_free(ti->id_key);
	EVP_PKEY_free(ti->enc_key);
	EVP_PKEY_free(ti->seal_pub);
	OPENSSL_free(ti->id_spki);
	OPENSSL_free(ti->enc_spki);
	free(ti->cert);
	free(ti->ca_cert);
	free(ti->seal_cert);
	memset(ti, 0, sizeof(*ti));
}

void ti_register_frame(const struct test_ident *ti, const char *token,
		       struct kc_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->type = KC_T_REGISTER;
	f->u.reg.token = text(token);
	f->u.reg.client_id = text(ti->id);
	f->u.reg.id_spki = bytes(ti->id_spki, ti->id_spki_len);
	f->u.reg.enc_spki = bytes(ti->enc_spki, ti->enc_spki_len);
	f->u.reg.enc_sig = bytes(ti->enc_sig, sizeof(ti->enc_sig));
}

static int copy_bytes(struct kc_bytes b, uint8_t **out, size_t *len)
{
	*out = malloc(b.len ? b.len : 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, b.p, b.len);
	*len = b.len;
	return 0;
}

static int seal_key_of(struct test_ident *ti)
{
	const unsigned char *p = ti->seal_cert;
	X509 *x = d2i_X509(NULL, &p, (long)ti->seal_cert_len);

	if (!x)
		return -EBADMSG;
	ti->seal_pub = X509_get_pubkey(x);
	X509_free(x);
	return ti->seal_pub ? 0 : -EBADMSG;
}

static int keep_registered(struct test_ident *ti, const struct kc_registered *r)
{
	int ret = copy_bytes(r->client_cert, &ti->cert, &ti->cert_len);

	if (!ret)
		ret = copy_bytes(r->ca_cert, &ti->ca_cert, &ti->ca_cert_len);
	if (!ret)
		ret = copy_bytes(r->seal_cert, &ti->seal_cert,
				 &ti->seal_cert_len);
	return ret ? ret : seal_key_of(ti);
}

int ti_register(const struct agent_proc *a, struct test_ident *ti,
		const char *token, int *status)
{
	struct kc_frame req, ans;
	struct kc_client *c;
	int ret;

	*status = -1;
	ret = ti_connect(a, NULL, &c);
	if (ret)
		return ret;
	ti_register_frame(ti, token, &req);
	ret = kc_client_call(c, &req, KC_T_REGISTERED, TEST_WAIT_MS, &ans);
	if (ret == -EREMOTEIO)
		*status = kc_client_status(c);
	else if (!ret)
		ret = keep_registered(ti, &ans.u.registered);
	/* Whatever the answer, the agent then closes (section 3). */
	if ((!ret || ret == -EREMOTEIO) && !tc_closed(c))
		ret = -EISCONN;
	kc_client_close(c);
	return ret;
}

int ti_enroll(struct agent_proc *a, struct test_ident *ti)
{
	char token[65];
	int status, ret;

	ret = agent_proc_token(a, token);
	return ret ? ret : ti_register(a, ti, token, &status);
}

int ti_make_enrolled(struct agent_proc *a, struct test_ident *ti,
		     const char *id)
{
	int ret = ti_make(ti, id);

	return ret ? ret : ti_enroll(a, ti);
}

int ti_connect(const struct agent_proc *a, const struct test_ident *ti,
	       struct kc_client **out)
{
	struct kc_tls_client_cred cred;
	struct kc_bytes chain;
	unsigned char *key = NULL;
	size_t key_len = 0;
	int ret;

	if (!ti)
		return kc_client_connect(a->addr, a->pin, NULL, TEST_WAIT_MS,
					 out);
	ret = kc_key_pkcs8_der(ti->id_key, &key, &key_len);
	if (ret)
		return ret;
	chain = bytes(ti->cert, ti->cert_len);
	cred = (struct kc_tls_client_cred){ &chain, 1, bytes(key, key_len) };
	ret = kc_client_connect(a->addr, a->pin, &cred, TEST_WAIT_MS, out);
	OPENSSL_clear_free(key, key_len);
	return ret;
}

int ts_open_sid(struct kc_client *c, const struct test_ident *ti,
		const uint8_t sid[KC_SID_LEN], struct test_session *s,
		int *status)
{
	struct kc_frame req = { .type = KC_T_OPEN_SESSION }, ans;
	uint8_t wrapped[KC_RSA_LEN];
	int ret;

	*status = -1;
	memcpy(s->sid, sid, KC_SID_LEN);
	kc_random(s->k, sizeof(s->k));
	ret = kc_derive_km(s->k, s->km);
	if (!ret)
		ret = kc_oaep_wrap(ti->seal_pub, s->k, sizeof(s->k), wrapped);
	if (ret)
		return ret;
	req.u.open = (struct kc_open_session){ s->sid, wrapped };
	ret = kc_client_call(c, &req, KC_T_SESSION, TEST_WAIT_MS, &ans);
	if (ret == -EREMOTEIO)
		*status = kc_client_status(c);
	if (ret)
		return ret;
	if (memcmp(ans.u.session.sid, s->sid, KC_SID_LEN))
		return -EPROTO;
	s->ttl_s = ans.u.session.ttl_s;
	return 0;
}

int ts_open(struct kc_client *c, const struct test_ident *ti,
	    struct test_session *s, int *status)
{
	uint8_t sid[KC_SID_LEN];

	kc_random(sid, sizeof(sid));
	return ts_open_sid(c, ti, sid, s, status);
}

/* CBC without PKCS#7: the last byte 0 is never valid padding. */
static int encrypt_bad_padding(const struct test_session *s,
			       const uint8_t iv[KC_IV_LEN], const uint8_t *pt,
			       size_t len, uint8_t *ct, size_t *ct_len)
{
	size_t padded = (len / 16 + 1) * 16;
	uint8_t *buf = calloc(1, padded);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok = 0;

	if (buf && ctx) {
		memcpy(buf, pt, len);
		ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, s->k,
					iv) &&
		     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
		     EVP_EncryptUpdate(ctx, ct, &n1, buf, (int)padded) &&
		     EVP_EncryptFinal_ex(ctx, ct + n1, &n2);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	*ct_len = (size_t)n1 + (size_t)n2;
	return ok ? 0 : -EIO;
}

/*
 * Every ts_send is a new message, with a counter above all before it.
 * One count for the whole test process serves every sender: a counter
 * need only exceed those its own sender used, and gaps are allowed.
 */
static uint64_t last_counter;

static int plaintext_of(const char *to, const uint8_t *msg_id,
			const uint8_t *inner, size_t inner_len,
			unsigned int tamper, uint8_t **pt, size_t *len)
{
	struct kc_send_plain sp = { text(to), msg_id, ++last_counter, 0,
				    bytes(inner, inner_len) };

	*len = kc_send_plain_size(&sp);
	*pt = malloc(*len + 1);
	if (!*pt)
		return -ENOMEM;
	kc_send_plain_encode(&sp, *pt, *len);
	/* One trailing byte: the plaintext no longer decodes exactly. */
	if (tamper & TS_BAD_PLAIN)
		(*pt)[(*len)++] = 0;
	return 0;
}

static int seal(const struct test_session *s, uint64_t seq, const uint8_t *pt,
		size_t pt_len, unsigned int tamper, uint8_t iv[KC_IV_LEN],
		uint8_t *ct, size_t *ct_len, uint8_t mac[KC_MAC_LEN])
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_iov iov[2];
	int ret;

	kc_random(iv, KC_IV_LEN);
	if (tamper & TS_BAD_PADDING)
		ret = encrypt_bad_padding(s, iv, pt, pt_len, ct, ct_len);
	else
		ret = kc_cbc_encrypt(s->k, sizeof(s->k), iv, pt, pt_len, ct,
				     ct_len);
	if (ret)
		return ret;
	iov[0] = (struct kc_iov){ aad, kc_seq_aad(aad, KC_LABEL_SEND, s->sid,
						  seq, iv, (uint32_t)*ct_len) };
	iov[1] = (struct kc_iov){ ct, *ct_len };
	ret = kc_hmac_sha256(s->km, sizeof(s->km), iov, 2, mac);
	if (tamper & TS_BAD_MAC)
		mac[7] ^= 0x10;
	return ret;
}

int ts_send_bytes(struct kc_client *c, const struct test_session *s,
		  uint64_t seq, const uint8_t *pt, size_t pt_len,
		  unsigned int tamper)
{
	struct kc_frame f = { .type = KC_T_SEND };
	uint8_t iv[KC_IV_LEN], mac[KC_MAC_LEN];
	uint8_t *ct = malloc(kc_cbc_ct_len(pt_len));
	size_t ct_len = 0;
	int ret;

	ret = ct ? seal(s, seq, pt, pt_len, tamper, iv, ct, &ct_len, mac)
		 : -ENOMEM;
	if (!ret) {
		f.u.send = (struct kc_send){ s->sid, seq, iv, bytes(ct, ct_len),
					     mac };
		ret = kc_client_send(c, &f);
	}
	free(ct);
	return ret;
}

int ts_send(struct kc_client *c, const struct test_session *s, uint64_t seq,
	    const char *to, const uint8_t msg_id[KC_MSGID_LEN],
	    const uint8_t *inner, size_t inner_len, unsigned int tamper)
{
	uint8_t *pt = NULL;
	size_t pt_len;
	int ret;

	ret = plaintext_of(to, msg_id, inner, inner_len, tamper, &pt, &pt_len);
	if (!ret)
		ret = ts_send_bytes(c, s, seq, pt, pt_len, tamper);
	free(pt);
	return ret;
}

int ts_send_plain(struct kc_client *c, const struct test_session *s,
		  uint64_t seq, const struct kc_send_plain *sp)
{
	size_t len = kc_send_plain_size(sp);
	uint8_t *pt = len ? malloc(len) : NULL;
	int ret = pt ? 0 : -EINVAL;

	if (!ret)
		kc_send_plain_encode(sp, pt, len);
	if (!ret)
		ret = ts_send_bytes(c, s, seq, pt, len, TS_GOOD);
	free(pt);
	return ret;
}

int ts_await_ack(struct kc_client *c, const struct test_session *s,
		 uint64_t seq, uint16_t *status, uint8_t msg_id[KC_MSGID_LEN])
{
	struct kc_frame f;
	int ret = kc_client_await(c, KC_T_ACK, TEST_WAIT_MS, &f);

	if (ret)
		return ret;
	if (memcmp(f.u.ack.sid, s->sid, KC_SID_LEN) || f.u.ack.seq != seq)
		return -EPROTO;
	*status = f.u.ack.status;
	if (msg_id)
		memcpy(msg_id, f.u.ack.msg_id, KC_MSGID_LEN);
	return 0;
}

int tc_send_raw(struct kc_client *c, const void *p, size_t len)
{
	return kc_tls_client_send(kc_client_tls(c), p, len);
}

int tc_ping(struct kc_client *c, uint64_t nonce)
{
	struct kc_frame req = { .type = KC_T_PING }, ans;
	int ret;

	req.u.ping.nonce = nonce;
	ret = kc_client_call(c, &req, KC_T_PONG, TEST_WAIT_MS, &ans);
	if (!ret && ans.u.ping.nonce != nonce)
		ret = -EPROTO;
	return ret;
}

int tc_await_error(struct kc_client *c, int *status)
{
	struct kc_frame f;
	int ret = kc_client_await(c, KC_T_ERROR, TEST_WAIT_MS, &f);

	*status = kc_client_status(c);
	if (ret == -EREMOTEIO)
		return 0;
	return ret ? ret : -EPROTO;
}

bool tc_closed(struct kc_client *c)
{
	uint8_t b;
	ssize_t n;

	/* Bytes the client read ahead came before any close: not closed. */
	if (kc_client_event_ready(c))
		return false;
	n = kc_tls_client_recv(kc_client_tls(c), &b, 1, TEST_WAIT_MS);
	return n == 0 || (n < 0 && n != -ETIMEDOUT);
}
