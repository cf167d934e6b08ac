// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's TLS engine: GnuTLS sessions whose transport is a pair of
 * memory queues (see tls.h for how the loop drives them). Client
 * certificate judgement lives in tls_peer.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conn/bytebuf.h"
#include "conn/peer_cache.h"
#include "conn/tls.h"
#include "conn/tls_peer.h"

/*
 * Output GnuTLS may add on its own (alerts, KeyUpdate answers) beyond what
 * kc_tls_write admits; passing it means the peer keeps asking for output
 * it never reads.
 */
#define OUT_SLACK (16u * 1024)
/* Non-fatal GnuTLS returns in a row before the engine gives up. */
#define MAX_SOFT_RETRIES 16

enum conn_state {
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_FAILED,
};

struct kc_tls_server {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	struct kc_peer_cache *peers; /* client certificates judged before */
	size_t in_max;
	size_t out_max;
	/* kc_tls_server_new_plain: connections without TLS, as this peer */
	bool plain;
	char plain_peer[KC_TLS_ID_SIZE];
};

/*
 * Where GnuTLS stands in the record stream it has pulled (RFC 8446 5.1:
 * a 5-byte header whose last two bytes are the length, then the body).
 * GnuTLS keeps a partly pulled record inside, where no API shows it; the
 * switch to kernel TLS must not happen then (kc_tls_passthrough_ready).
 */
struct rec_cursor {
	uint8_t hdr[5];
	size_t hdr_got;
	size_t body_left;
};

struct kc_tls_conn {
	struct kc_tls_server *srv;
	gnutls_session_t session;
	struct rec_cursor pulled;
	struct kc_bytebuf in;  /* ciphertext fed, not yet read by GnuTLS */
	struct kc_bytebuf out; /* ciphertext GnuTLS wrote, not yet sent */
	size_t in_max;	       /* this connection's cap on in */
	enum conn_state state;
	bool passthrough;
	bool established; /* the handshake completed (even if failed since) */
	int err;	  /* sticky once CONN_FAILED */
	int peer_rc;	  /* kc_tls_peer's answer, fixed at handshake end */
	char peer_id[KC_TLS_ID_SIZE];
	char reason[KC_TLS_PEER_REASON_MAX];
};

static void set_reason(struct kc_tls_conn *c, const char *what,
		       const char *detail)
{
	snprintf(c->reason, sizeof(c->reason), "%s%s%s", what,
		 detail ? ": " : "", detail ? detail : "");
}

/* Credentials */

static bool is_pem(const struct kc_tls_blob *b)
{
	static const char tag[] = "-----BEGIN";

	return b->len >= sizeof(tag) - 1 && !memcmp(b->p, tag, sizeof(tag) - 1);
}

static int import_crt(gnutls_x509_crt_t *crt, const struct kc_tls_blob *b)
{
	gnutls_datum_t d = { (unsigned char *)b->p, (unsigned int)b->len };
	gnutls_x509_crt_fmt_t fmt;

	if (!b->p || !b->len || b->len > UINT32_MAX)
		return -EINVAL;
	if (gnutls_x509_crt_init(crt) < 0)
		return -ENOMEM;
	fmt = is_pem(b) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	if (gnutls_x509_crt_import(*crt, &d, fmt) < 0) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		return -EINVAL;
	}
	return 0;
}

static int import_key(gnutls_x509_privkey_t *key, const struct kc_tls_blob *b)
{
	gnutls_datum_t d = { (unsigned char *)b->p, (unsigned int)b->len };
	gnutls_x509_crt_fmt_t fmt;

	if (!b->p || !b->len || b->len > UINT32_MAX)
		return -EINVAL;
	if (gnutls_x509_privkey_init(key) < 0)
		return -ENOMEM;
	fmt = is_pem(b) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	if (gnutls_x509_privkey_import_pkcs8(*key, &d, fmt, NULL,
					     GNUTLS_PKCS_PLAIN) < 0) {
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		return -EINVAL;
	}
	return 0;
}

/*
 * chain[0] is the agent certificate, chain[1] the CA: RFC 8446 4.4.2 has
 * the sender's certificate first, each following one certifying the one
 * before. GnuTLS refuses a key that does not match chain[0].
 */
static int load_credentials(struct kc_tls_server *srv,
			    const struct kc_tls_server_cfg *cfg)
{
	gnutls_x509_crt_t chain[2] = { NULL, NULL };
	gnutls_x509_privkey_t key = NULL;
	int ret;

	ret = import_crt(&chain[0], &cfg->cert);
	if (!ret)
		ret = import_crt(&chain[1], &cfg->ca);
	if (!ret)
		ret = import_key(&key, &cfg->key_pkcs8);
	if (ret)
		goto cleanup;
	ret = -EINVAL;
	if (gnutls_certificate_set_x509_key(srv->cred, chain, 2, key) < 0)
		goto cleanup;
	if (gnutls_certificate_set_x509_trust(srv->cred, &chain[1], 1) != 1)
		goto cleanup;
	ret = 0;
cleanup:
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(chain[1]);
	gnutls_x509_crt_deinit(chain[0]);
	return ret;
}

int kc_tls_server_new(const struct kc_tls_server_cfg *cfg,
		      struct kc_tls_server **out)
{
	struct kc_tls_server *srv;
	int ret = -ENOMEM;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->in_max = cfg->in_max ? cfg->in_max : KC_TLS_IN_MAX_DEFAULT;
	srv->out_max = cfg->out_max ? cfg->out_max : KC_TLS_OUT_MAX_DEFAULT;
	if (gnutls_certificate_allocate_credentials(&srv->cred) < 0)
		goto err_free;
	ret = load_credentials(srv, cfg);
	if (ret)
		goto err_free;
	ret = kc_peer_cache_new(&srv->peers);
	if (ret)
		goto err_free;
	ret = -EINVAL;
	if (gnutls_priority_init(&srv->prio, KC_TLS_PRIORITY, NULL) < 0)
		goto err_free;
	*out = srv;
	return 0;
err_free:
	kc_tls_server_free(srv);
	return ret;
}

int kc_tls_server_new_plain(const char *peer_id, struct kc_tls_server **out)
{
	struct kc_tls_server *srv;

	*out = NULL;
	if (peer_id && strlen(peer_id) >= KC_TLS_ID_SIZE)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->in_max = KC_TLS_IN_MAX_DEFAULT;
	srv->out_max = KC_TLS_OUT_MAX_DEFAULT;
	srv->plain = true;
	if (peer_id)
		strcpy(srv->plain_peer, peer_id);
	*out = srv;
	return 0;
}

void kc_tls_server_free(struct kc_tls_server *srv)
{
	if (!srv)
		return;
	if (srv->prio)
		gnutls_priority_deinit(srv->prio);
	kc_peer_cache_free(srv->peers);
	if (srv->cred)
		gnutls_certificate_free_credentials(srv->cred);
	free(srv);
}

/* Transport: GnuTLS reads from c->in and writes to c->out */

static ssize_t push_cb(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct kc_tls_conn *c = ptr;

	if (kc_bytebuf_size(&c->out) + len > c->srv->out_max + OUT_SLACK ||
	    kc_bytebuf_append(&c->out, data, len)) {
		gnutls_transport_set_errno(c->session, ENOBUFS);
		return -1;
	}
	return (ssize_t)len;
}

static void cursor_advance(struct rec_cursor *rc, const uint8_t *p, size_t n)
{
	size_t k;

	while (n) {
		if (rc->body_left) {
			k = n < rc->body_left ? n : rc->body_left;
			rc->body_left -= k;
			p += k;
			n -= k;
			continue;
		}
		rc->hdr[rc->hdr_got++] = *p++;
		n--;
		if (rc->hdr_got == sizeof(rc->hdr)) {
			rc->body_left = (size_t)rc->hdr[3] << 8 | rc->hdr[4];
			rc->hdr_got = 0;
		}
	}
}

static bool cursor_at_boundary(const struct rec_cursor *rc)
{
	return !rc->hdr_got && !rc->body_left;
}

/* No bytes is EAGAIN, never 0: 0 would tell GnuTLS the peer hung up. */
static ssize_t pull_cb(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct kc_tls_conn *c = ptr;
	size_t avail = kc_bytebuf_size(&c->in);

	if (!avail) {
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	if (len > avail)
		len = avail;
	memcpy(data, kc_bytebuf_data(&c->in), len);
	cursor_advance(&c->pulled, data, len);
	kc_bytebuf_consume(&c->in, len);
	return (ssize_t)len;
}

/* Never waits: the loop, not GnuTLS, decides when more bytes arrive. */
static int pull_timeout_cb(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct kc_tls_conn *c = ptr;

	if (kc_bytebuf_size(&c->in))
		return 1;
	gnutls_transport_set_errno(c->session, EAGAIN);
	return -1;
}

/* Connections */

static const gnutls_datum_t alpn_name = { (unsigned char *)KC_TLS_ALPN,
					  sizeof(KC_TLS_ALPN) - 1 };

static bool alpn_agreed(gnutls_session_t session)
{
	gnutls_datum_t got;

	if (gnutls_alpn_get_selected_protocol(session, &got) < 0)
		return false;
	return got.size == alpn_name.size &&
	       !memcmp(got.data, alpn_name.data, got.size);
}

/*
 * GNUTLS_ALPN_MANDATORY only refuses a ClientHello whose ALPN list lacks
 * ours; one with no ALPN extension at all passes it (GnuTLS 3.7). Checking
 * right after the ClientHello is parsed refuses both before any key
 * material is spent, with no_application_protocol (RFC 7301 3.2).
 */
static int client_hello_hook(gnutls_session_t session, unsigned int htype,
			     unsigned int when, unsigned int incoming,
			     const gnutls_datum_t *msg)
{
	if (!alpn_agreed(session))
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	return 0;
}

static int setup_session(struct kc_tls_conn *c)
{
	const unsigned int alpn_flags = GNUTLS_ALPN_MANDATORY;
	gnutls_certificate_credentials_t cred = c->srv->cred;
	gnutls_session_t s = c->session;

	if (gnutls_priority_set(s, c->srv->prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_alpn_set_protocols(s, &alpn_name, 1, alpn_flags) < 0)
		return -EPROTO;
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO,
					   GNUTLS_HOOK_POST, client_hello_hook);
	/* The loop owns the handshake_timeout timer. */
	gnutls_handshake_set_timeout(s, 0);
	gnutls_transport_set_ptr(s, c);
	gnutls_transport_set_push_function(s, push_cb);
	gnutls_transport_set_pull_function(s, pull_cb);
	gnutls_transport_set_pull_timeout_function(s, pull_timeout_cb);
	return 0;
}

/*
 * The session stays as gnutls_init left it, never handshaken: its
 * version is unknown, so kTLS declines it (ktls.h) and the connection
 * keeps moving plain bytes.
 */
static void start_plain(struct kc_tls_conn *c)
{
	c->state = CONN_OPEN;
	c->passthrough = true;
	memcpy(c->peer_id, c->srv->plain_peer, sizeof(c->peer_id));
	c->peer_rc = c->peer_id[0] ? 0 : -ENOENT;
}

int kc_tls_conn_new(struct kc_tls_server *srv, struct kc_tls_conn **out)
{
	struct kc_tls_conn *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->in_max = srv->in_max;
	c->peer_rc = -ENOTCONN;
	/* GNUTLS_NO_TICKETS: no NewSessionTicket, so nothing to resume from. */
	ret = gnutls_init(&c->session,
			  GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
	if (ret < 0) {
		free(c);
		return ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EPROTO;
	}
	if (srv->plain) {
		start_plain(c);
		*out = c;
		return 0;
	}
	ret = setup_session(c);
	if (ret) {
		kc_tls_conn_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void kc_tls_conn_free(struct kc_tls_conn *c)
{
	if (!c)
		return;
	gnutls_deinit(c->session);
	kc_bytebuf_free(&c->in);
	kc_bytebuf_free(&c->out);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

void kc_tls_set_in_max(struct kc_tls_conn *c, size_t max)
{
	c->in_max = max && max < c->srv->in_max ? max : c->srv->in_max;
}

int kc_tls_feed(struct kc_tls_conn *c, const uint8_t *bytes, size_t len)
{
	size_t queued = kc_bytebuf_size(&c->in);

	if (!len)
		return 0;
	/* The cap may have been lowered below what is queued already. */
	if (queued > c->in_max || len > c->in_max - queued)
		return -ENOBUFS;
	return kc_bytebuf_append(&c->in, bytes, len) ? -ENOBUFS : 0;
}

void kc_tls_pending_output(const struct kc_tls_conn *c, const uint8_t **p,
			   size_t *len)
{
	*len = kc_bytebuf_size(&c->out);
	/* An empty queue may have no memory at all: NULL + 0 is UB. */
	*p = *len ? kc_bytebuf_data(&c->out) : NULL;
}

void kc_tls_consume_output(struct kc_tls_conn *c, size_t n)
{
	size_t have = kc_bytebuf_size(&c->out);

	kc_bytebuf_consume(&c->out, n < have ? n : have);
}

/* Errors */

static int errno_of(int gerr)
{
	switch (gerr) {
	case GNUTLS_E_DECRYPTION_FAILED:
		return -EBADMSG;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return -ECONNABORTED;
	case GNUTLS_E_PUSH_ERROR:
		return -ENOBUFS;
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	default:
		return -EPROTO;
	}
}

/*
 * Makes the failure sticky and queues the alert RFC 8446 6.2 wants for it,
 * so the loop can send it before closing. No alert answers a received
 * fatal alert, and none fits when the output is what overflowed.
 */
static int fail(struct kc_tls_conn *c, int gerr)
{
	const char *detail = gnutls_strerror(gerr);

	if (gerr == GNUTLS_E_FATAL_ALERT_RECEIVED)
		detail = gnutls_alert_get_name(gnutls_alert_get(c->session));
	set_reason(c,
		   gerr == GNUTLS_E_FATAL_ALERT_RECEIVED
			   ? "peer sent fatal alert"
			   : "TLS error",
		   detail);
	c->err = errno_of(gerr);
	c->state = CONN_FAILED;
	if (gerr != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    gerr != GNUTLS_E_PUSH_ERROR)
		gnutls_alert_send_appropriate(c->session, gerr);
	return c->err;
}

/* Handshake */

/*
 * Defence in depth: the priority string already allows nothing but TLS 1.3
 * and the ClientHello hook already demands our ALPN.
 */
static int check_agreement(struct kc_tls_conn *c)
{
	gnutls_alert_description_t alert;

	if (gnutls_protocol_get_version(c->session) != GNUTLS_TLS1_3) {
		set_reason(c, "negotiated a version other than TLS 1.3", NULL);
		alert = GNUTLS_A_PROTOCOL_VERSION;
	} else if (!alpn_agreed(c->session)) {
		set_reason(c, "no ALPN " KC_TLS_ALPN, NULL);
		alert = GNUTLS_A_NO_APPLICATION_PROTOCOL;
	} else {
		return 0;
	}
	c->err = -EPROTO;
	c->state = CONN_FAILED;
	gnutls_alert_send(c->session, GNUTLS_AL_FATAL, alert);
	return c->err;
}

static int finish_handshake(struct kc_tls_conn *c)
{
	int ret = check_agreement(c);

	if (ret)
		return ret;
	c->state = CONN_OPEN;
	c->established = true;
	c->peer_rc = kc_tls_judge_peer(c->session, c->srv->peers, c->peer_id,
				       c->reason, sizeof(c->reason));
	return 0;
}

int kc_tls_handshake_step(struct kc_tls_conn *c)
{
	int i, ret = GNUTLS_E_AGAIN;

	if (c->state == CONN_OPEN)
		return 0;
	if (c->state == CONN_FAILED)
		return c->err;
	/* Non-fatal returns (a warning alert) mean: call it again. */
	for (i = 0; i < MAX_SOFT_RETRIES; i++) {
		ret = gnutls_handshake(c->session);
		if (ret == 0)
			return finish_handshake(c);
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			return -EAGAIN;
		if (gnutls_error_is_fatal(ret))
			break;
	}
	return fail(c, ret);
}

/* Records */

static ssize_t passthrough_read(struct kc_tls_conn *c, uint8_t *out, size_t cap)
{
	size_t n = kc_bytebuf_size(&c->in);

	if (!n)
		return -EAGAIN;
	if (n > cap)
		n = cap;
	memcpy(out, kc_bytebuf_data(&c->in), n);
	kc_bytebuf_consume(&c->in, n);
	return (ssize_t)n;
}

/*
 * GNUTLS_E_AGAIN also comes back after GnuTLS handled a post-handshake
 * message (a KeyUpdate, RFC 8446 4.6.3) while more records may still wait
 * in c->in: go on as long as input keeps being consumed. TLS 1.3 has no
 * renegotiation (a second ClientHello is an unexpected_message, RFC 8446
 * 4.1.2), so GNUTLS_E_REHANDSHAKE cannot come; it and every other error
 * end the connection.
 */
static ssize_t record_read(struct kc_tls_conn *c, uint8_t *out, size_t cap)
{
	size_t before;
	ssize_t ret;
	int soft = 0;

	for (;;) {
		before = kc_bytebuf_size(&c->in);
		ret = gnutls_record_recv(c->session, out, cap);
		if (ret >= 0)
			return ret;
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
			if (!before || kc_bytebuf_size(&c->in) == before)
				return -EAGAIN;
			continue;
		}
		/* A user_canceled warning is followed by close_notify. */
		if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED &&
		    ++soft < MAX_SOFT_RETRIES)
			continue;
		return fail(c, (int)ret);
	}
}

ssize_t kc_tls_read(struct kc_tls_conn *c, uint8_t *out, size_t cap)
{
	if (c->state != CONN_OPEN)
		return c->state == CONN_FAILED ? c->err : -ENOTCONN;
	if (!cap)
		return -EINVAL;
	if (c->passthrough)
		return passthrough_read(c, out, cap);
	return record_read(c, out, cap);
}

/* Worst case ciphertext for len plaintext bytes cut into full records. */
static size_t sealed_size(gnutls_session_t s, size_t len)
{
	size_t rec = gnutls_record_get_max_size(s);
	size_t nrec = len / rec + 1;

	return len + nrec * gnutls_record_overhead_size(s);
}

static ssize_t record_write(struct kc_tls_conn *c, const uint8_t *p, size_t len)
{
	size_t done = 0;
	ssize_t ret;

	/* push_cb never says EAGAIN, so any error here is final. */
	while (done < len) {
		ret = gnutls_record_send(c->session, p + done, len - done);
		if (ret < 0)
			return fail(c, (int)ret);
		done += (size_t)ret;
	}
	return (ssize_t)len;
}

ssize_t kc_tls_write(struct kc_tls_conn *c, const uint8_t *p, size_t len)
{
	size_t queued = kc_bytebuf_size(&c->out);
	size_t need;

	if (c->state != CONN_OPEN)
		return c->state == CONN_FAILED ? c->err : -ENOTCONN;
	if (!len)
		return 0;
	if (len > SSIZE_MAX / 2)
		return -EINVAL;
	need = c->passthrough ? len : sealed_size(c->session, len);
	if (queued > c->srv->out_max || need > c->srv->out_max - queued)
		return -ENOBUFS;
	if (!c->passthrough)
		return record_write(c, p, len);
	if (kc_bytebuf_append(&c->out, p, len))
		return -ENOBUFS;
	return (ssize_t)len;
}

int kc_tls_bye(struct kc_tls_conn *c)
{
	int ret;

	if (c->state != CONN_OPEN)
		return -ENOTCONN;
	if (c->passthrough)
		return -EOPNOTSUPP;
	/* SHUT_WR: queue close_notify without waiting for the peer's. */
	ret = gnutls_bye(c->session, GNUTLS_SHUT_WR);
	if (ret < 0)
		return fail(c, ret);
	return 0;
}

int kc_tls_passthrough_ready(const struct kc_tls_conn *c)
{
	if (c->state != CONN_OPEN)
		return -ENOTCONN;
	if (c->passthrough)
		return 0;
	if (kc_bytebuf_size(&c->in) || kc_bytebuf_size(&c->out) ||
	    gnutls_record_check_pending(c->session) ||
	    !cursor_at_boundary(&c->pulled))
		return -EBUSY;
	return 0;
}

int kc_tls_set_passthrough(struct kc_tls_conn *c)
{
	int ret = kc_tls_passthrough_ready(c);

	if (!ret)
		c->passthrough = true;
	return ret;
}

bool kc_tls_is_passthrough(const struct kc_tls_conn *c)
{
	return c->passthrough;
}

/* Accessors */

int kc_tls_peer(const struct kc_tls_conn *c, char id[KC_TLS_ID_SIZE])
{
	id[0] = '\0';
	if (c->state == CONN_HANDSHAKE)
		return -ENOTCONN;
	if (c->peer_rc == 0)
		memcpy(id, c->peer_id, sizeof(c->peer_id));
	return c->peer_rc;
}

const char *kc_tls_reason(const struct kc_tls_conn *c)
{
	return c->reason;
}

const char *kc_tls_cipher(const struct kc_tls_conn *c)
{
	if (!c->established)
		return NULL;
	return gnutls_cipher_get_name(gnutls_cipher_get(c->session));
}

gnutls_session_t kc_tls_session(struct kc_tls_conn *c)
{
	return c->session;
}
