// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client end of the transport (PROTOCOL.md section 3) on GnuTLS over a
 * blocking socket; see tlsclient.h. The pin is checked in the session's
 * verify callback, which GnuTLS runs while processing the agent's
 * Certificate and CertificateVerify, so a wrong agent is refused before
 * the client's Finished and before any application byte leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls/ktls.h"
#include "tls/tcpconn.h"
#include "tls/tlsclient.h"
#include "tls/tlsprep.h"

#define ALPN "kcourier/2"
#define PIN_LEN 32
#define CHAIN_MAX 8 /* longer agent chains are refused, not truncated */
#define ERR_MAX 256
#define MAX_SOFT_RETRIES 16 /* non-fatal GnuTLS returns in a row */

struct kc_tls_client {
	int fd;
	gnutls_session_t session;
	const struct kc_tls_client_prep *prep; /* borrowed or own_prep */
	struct kc_tls_client_prep *own_prep;   /* made for this connection */
	uint8_t pin[PIN_LEN];
	int pinned;    /* index of the pinned certificate in the chain, or -1 */
	int verify_rc; /* what the verify callback decided */
	bool ktls;     /* the kernel has the record layer: use kstream */
	bool bye_sent; /* close_notify and FIN are out: nothing more to send */
	struct kc_ktls_stream kstream;
};

static __thread char last_error[ERR_MAX];

static int fail(int err, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	/* GnuTLS's verification texts end in a space. */
	len = strlen(last_error);
	while (len && last_error[len - 1] == ' ')
		last_error[--len] = '\0';
	return err;
}

const char *kc_tls_client_strerror(void)
{
	return last_error;
}

/* Pins */

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int parse_pin(const char *hex, uint8_t pin[PIN_LEN])
{
	int hi, lo, i;

	if (!hex || strlen(hex) != KC_PIN_HEX_LEN)
		return -EINVAL;
	for (i = 0; i < PIN_LEN; i++) {
		hi = hex_nibble(hex[2 * i]);
		lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		pin[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int kc_pin_normalize(const char *text, char hex[KC_PIN_HEX_LEN + 1])
{
	size_t i;

	if (strlen(text) != KC_PIN_HEX_LEN)
		return -EINVAL;
	for (i = 0; i < KC_PIN_HEX_LEN; i++) {
		if (hex_nibble(text[i]) < 0)
			return -EINVAL;
		hex[i] = "0123456789abcdef"[hex_nibble(text[i])];
	}
	hex[KC_PIN_HEX_LEN] = '\0';
	return 0;
}

/* SHA-256 over the DER SubjectPublicKeyInfo, as section 3 defines the pin. */
static int spki_sha256(gnutls_x509_crt_t crt, uint8_t out[PIN_LEN])
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = { NULL, 0 };
	int ret = -EINVAL;

	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto cleanup;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, out) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return ret;
}

int kc_cert_pin(const uint8_t *der, size_t len, char hex[KC_PIN_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };
	gnutls_x509_crt_t crt = NULL;
	uint8_t h[PIN_LEN];
	int i, ret;

	hex[0] = '\0';
	if (!der || !len || len > UINT32_MAX)
		return -EINVAL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	ret = -EINVAL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0)
		ret = spki_sha256(crt, h);
	gnutls_x509_crt_deinit(crt);
	if (ret)
		return ret;
	for (i = 0; i < PIN_LEN; i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[KC_PIN_HEX_LEN] = '\0';
	return 0;
}

/* Server chain verification */

static void free_chain(gnutls_x509_crt_t *crts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
}

static int import_chain(gnutls_session_t s, gnutls_x509_crt_t *crts,
			unsigned int *n)
{
	const gnutls_datum_t *der;
	unsigned int i, count = 0;

	*n = 0;
	der = gnutls_certificate_get_peers(s, &count);
	if (!der || !count)
		return fail(-EKEYREJECTED, "server sent no certificate");
	if (count > CHAIN_MAX)
		return fail(-EKEYREJECTED,
			    "server certificate chain is too long (%u)", count);
	for (i = 0; i < count; i++) {
		if (gnutls_x509_crt_init(&crts[i]) < 0)
			return fail(-ENOMEM, "out of memory");
		*n = i + 1;
		if (gnutls_x509_crt_import(crts[i], &der[i],
					   GNUTLS_X509_FMT_DER) < 0)
			return fail(-EKEYREJECTED,
				    "server certificate %u does not parse", i);
	}
	return 0;
}

static int find_pinned(const struct kc_tls_client *c, gnutls_x509_crt_t *crts,
		       unsigned int n)
{
	uint8_t h[PIN_LEN];
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!spki_sha256(crts[i], h) && !memcmp(h, c->pin, PIN_LEN))
			break;
	if (i == n)
		return fail(-EKEYREJECTED, "server certificate does not match "
					   "the pinned CA fingerprint");
	if (i == 0)
		return fail(-EKEYREJECTED, "the pinned key is the server's own "
					   "certificate, not its CA");
	return (int)i;
}

/*
 * crts[0..k) must chain to crts[k] alone; GnuTLS checks signatures, dates,
 * CA:TRUE on intermediates and, where an EKU is present, serverAuth.
 * The trust list takes ownership of the anchor it is given.
 */
static int verify_to_anchor(gnutls_x509_crt_t *crts, unsigned int k)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
	};
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t text = { NULL, 0 };
	unsigned int status = 0;
	int ret;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return fail(-ENOMEM, "out of memory");
	if (gnutls_x509_trust_list_add_cas(tl, &crts[k], 1, 0) != 1) {
		gnutls_x509_trust_list_deinit(tl, 0);
		return fail(-EKEYREJECTED, "pinned certificate unusable");
	}
	crts[k] = NULL;
	ret = gnutls_x509_trust_list_verify_crt2(tl, crts, k, &purpose, 1, 0,
						 &status, NULL);
	if (ret < 0) {
		ret = fail(-EKEYREJECTED, "server certificate chain: %s",
			   gnutls_strerror(ret));
	} else if (status) {
		gnutls_certificate_verification_status_print(
			status, GNUTLS_CRT_X509, &text, 0);
		ret = fail(-EKEYREJECTED,
			   "server certificate does not verify "
			   "to the pinned CA: %s",
			   text.data ? (char *)text.data : "rejected");
		gnutls_free(text.data);
	}
	gnutls_x509_trust_list_deinit(tl, 1);
	return ret < 0 ? ret : 0;
}

static int check_server_chain(struct kc_tls_client *c)
{
	gnutls_x509_crt_t crts[CHAIN_MAX] = { NULL };
	unsigned int n = 0;
	int k, ret;

	k = import_chain(c->session, crts, &n);
	if (!k)
		k = find_pinned(c, crts, n);
	if (k > 0) {
		ret = verify_to_anchor(crts, (unsigned int)k);
		if (ret)
			k = ret;
	}
	free_chain(crts, n);
	return k;
}

/* Non-zero makes GnuTLS abort the handshake with a bad_certificate alert. */
static int verify_cb(gnutls_session_t s)
{
	struct kc_tls_client *c = gnutls_session_get_ptr(s);
	int k = check_server_chain(c);

	c->verify_rc = k < 0 ? k : 0;
	c->pinned = k < 0 ? -1 : k;
	return k < 0 ? -1 : 0;
}

/* Client certificate */

/*
 * Always offers our certificate, whatever CA names the agent's
 * CertificateRequest lists: the agent, not the client, judges it.
 */
static int retrieve_cb(gnutls_session_t s, const gnutls_datum_t *req_ca_dn,
		       int nreqs, const gnutls_pk_algorithm_t *algos,
		       int nalgos, gnutls_pcert_st **pcert,
		       unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct kc_tls_client *c = gnutls_session_get_ptr(s);

	*pcert = c->prep->pcerts;
	*pcert_length = c->prep->npcerts;
	*privkey = c->prep->key;
	return 0;
}

/* Session */

static int setup_session(struct kc_tls_client *c)
{
	static const gnutls_datum_t alpn = { (unsigned char *)ALPN,
					     sizeof(ALPN) - 1 };
	gnutls_session_t s;

	/* No tickets: section 3 allows no resumption. */
	if (gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NO_TICKETS |
					     GNUTLS_NO_SIGNAL) < 0)
		return fail(-ENOMEM, "out of memory");
	s = c->session;
	gnutls_session_set_ptr(s, c);
	if (gnutls_priority_set(s, c->prep->prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
				   c->prep->xcred) < 0 ||
	    gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
		return fail(-EPROTO, "TLS session setup failed");
	gnutls_session_set_verify_function(s, verify_cb);
	gnutls_transport_set_int(s, c->fd);
	return 0;
}

/*
 * Tells the agent why (RFC 8446 6.2: bad_certificate for a pin failure)
 * unless it was the agent that ended things.
 */
static int handshake_error(struct kc_tls_client *c, int gerr)
{
	if (gerr != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    gerr != GNUTLS_E_PREMATURE_TERMINATION && gerr != GNUTLS_E_TIMEDOUT)
		gnutls_alert_send_appropriate(c->session, gerr);
	if (c->verify_rc)
		return c->verify_rc; /* its message is already set */
	switch (gerr) {
	case GNUTLS_E_TIMEDOUT:
		return fail(-ETIMEDOUT, "TLS handshake timed out");
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return fail(
			-ECONNABORTED, "agent refused the handshake: %s",
			gnutls_alert_get_name(gnutls_alert_get(c->session)));
	case GNUTLS_E_PREMATURE_TERMINATION:
		return fail(-ECONNRESET, "agent closed during the handshake");
	default:
		return fail(-EPROTO, "TLS handshake failed: %s",
			    gnutls_strerror(gerr));
	}
}

static bool alpn_agreed(gnutls_session_t s)
{
	gnutls_datum_t got;

	return gnutls_alpn_get_selected_protocol(s, &got) >= 0 &&
	       got.size == sizeof(ALPN) - 1 &&
	       !memcmp(got.data, ALPN, got.size);
}

static int do_handshake(struct kc_tls_client *c, uint64_t deadline)
{
	long left = kc_ms_left(deadline);
	int ret, soft = 0;

	if (left < 0)
		return fail(-ETIMEDOUT, "TLS handshake timed out");
	gnutls_handshake_set_timeout(c->session,
				     deadline ? (unsigned int)left
					      : GNUTLS_INDEFINITE_TIMEOUT);
	/* Non-fatal returns (a warning alert) mean: call it again. */
	do {
		ret = gnutls_handshake(c->session);
	} while (ret < 0 && !gnutls_error_is_fatal(ret) &&
		 ++soft < MAX_SOFT_RETRIES);
	if (ret < 0)
		return handshake_error(c, ret);
	if (gnutls_protocol_get_version(c->session) != GNUTLS_TLS1_3)
		return fail(-EPROTO, "agent did not negotiate TLS 1.3");
	if (!alpn_agreed(c->session))
		return fail(-EPROTO, "agent did not agree to ALPN " ALPN);
	if (c->pinned < 0) /* no certificate was ever verified */
		return fail(-EKEYREJECTED, "server certificate not checked");
	return 0;
}

/*
 * GnuTLS reads records exactly, so right after the handshake it holds
 * nothing of the agent's: the keys can move into the kernel. Anything
 * short of success but a half install leaves the connection on GnuTLS.
 */
static int start_ktls(struct kc_tls_client *c)
{
	int ret = kc_ktls_stream_init(&c->kstream, c->fd);

	if (!ret)
		ret = kc_ktls_install(c->fd, c->session);
	if (ret == -ENOTRECOVERABLE)
		return fail(ret, "kernel TLS took the send keys, not the "
				 "receive keys");
	c->ktls = !ret;
	if (!c->ktls)
		kc_ktls_stream_fini(&c->kstream);
	return 0;
}

int kc_tls_client_prepare(const struct kc_tls_client_cred *cred,
			  EVP_PKEY *sign_key, const char *cipher,
			  struct kc_tls_client_prep **out)
{
	struct kc_tls_prep_args a = {
		.cred = cred,
		.sign_key = sign_key,
		.cipher = cipher,
		.retrieve = retrieve_cb,
	};
	char why[ERR_MAX];
	int ret;

	ret = kc_tls_prep_new(&a, out, why, sizeof(why));
	return ret ? fail(ret, "%s", why) : 0;
}

void kc_tls_client_unprepare(struct kc_tls_client_prep *p)
{
	kc_tls_prep_free(p);
}

int kc_tls_client_connect_opts(const char *addr_port, const char *pin_hex,
			       const struct kc_tls_client_opts *opts,
			       struct kc_tls_client **out)
{
	uint64_t deadline = kc_deadline(opts->timeout_ms);
	struct kc_tls_client *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(-ENOMEM, "out of memory");
	c->fd = -1;
	c->pinned = -1;
	ret = parse_pin(pin_hex, c->pin);
	if (ret) {
		fail(ret, "pin must be %d hex digits", KC_PIN_HEX_LEN);
		goto err_free;
	}
	c->prep = opts->prep;
	if (!c->prep) {
		ret = kc_tls_client_prepare(opts->cred, NULL, opts->cipher,
					    &c->own_prep);
		if (ret)
			goto err_free;
		c->prep = c->own_prep;
	}
	c->fd = kc_tcp_connect(addr_port, deadline, last_error,
			       sizeof(last_error));
	if (c->fd < 0) {
		ret = c->fd;
		goto err_free;
	}
	ret = setup_session(c);
	if (!ret)
		ret = do_handshake(c, deadline);
	if (!ret && !opts->no_ktls)
		ret = start_ktls(c);
	if (ret)
		goto err_free;
	last_error[0] = '\0';
	*out = c;
	return 0;
err_free:
	/* Nothing was sent over TLS yet; close without close_notify. */
	if (c->session)
		gnutls_deinit(c->session);
	c->session = NULL;
	c->ktls = false;
	kc_tls_client_close(c);
	return ret;
}

int kc_tls_client_connect(const char *addr_port, const char *pin_hex,
			  const struct kc_tls_client_cred *cred,
			  unsigned int timeout_ms, struct kc_tls_client **out)
{
	struct kc_tls_client_opts opts = {
		.cred = cred,
		.timeout_ms = timeout_ms,
	};

	return kc_tls_client_connect_opts(addr_port, pin_hex, &opts, out);
}

/* Records */

static int record_error(const struct kc_tls_client *c, ssize_t gerr)
{
	switch (gerr) {
	case GNUTLS_E_TIMEDOUT:
		return fail(-ETIMEDOUT, "timed out waiting for the agent");
	case GNUTLS_E_DECRYPTION_FAILED:
		return fail(-EBADMSG, "a TLS record failed authentication");
	case GNUTLS_E_PREMATURE_TERMINATION:
		return fail(-ECONNRESET, "agent closed without close_notify");
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return fail(
			-ECONNABORTED, "agent sent a fatal alert: %s",
			gnutls_alert_get_name(gnutls_alert_get(c->session)));
	case GNUTLS_E_PUSH_ERROR:
		return fail(-EPIPE, "connection to the agent is broken");
	default:
		return fail(-EPROTO, "TLS error: %s",
			    gnutls_strerror((int)gerr));
	}
}

static int ktls_error(const struct kc_tls_client *c, ssize_t err)
{
	switch (err) {
	case -ETIMEDOUT:
		return fail(-ETIMEDOUT, "timed out waiting for the agent");
	case -EBADMSG:
		return fail(-EBADMSG, "a TLS record failed authentication");
	case -ECONNRESET:
		return fail(-ECONNRESET, "agent closed without close_notify");
	case -ECONNABORTED:
		return fail(-ECONNABORTED, "agent sent a fatal alert: %s",
			    kc_ktls_alert_name(c->kstream.alert));
	case -EPIPE:
		return fail(-EPIPE, "connection to the agent is broken");
	case -EPROTO:
		return fail(-EPROTO, "agent sent a TLS record kernel TLS "
				     "cannot take here");
	default:
		return fail((int)err, "kernel TLS: %s", strerror((int)-err));
	}
}

int kc_tls_client_send(struct kc_tls_client *c, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t ret;

	if (c->ktls) {
		ret = kc_ktls_stream_send(&c->kstream, p, len);
		return ret ? ktls_error(c, ret) : 0;
	}
	while (len) {
		ret = gnutls_record_send(c->session, b, len);
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			continue;
		if (ret < 0)
			return record_error(c, ret);
		b += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/*
 * GNUTLS_E_AGAIN here follows a post-handshake message (KeyUpdate, RFC
 * 8446 4.6.3) that GnuTLS handled itself: wait again for what remains.
 */
ssize_t kc_tls_client_recv(struct kc_tls_client *c, void *p, size_t cap,
			   unsigned int timeout_ms)
{
	uint64_t deadline = kc_deadline(timeout_ms);
	int warnings = 0;
	ssize_t ret;
	long left;

	if (!cap) /* 0 bytes would read as a clean close */
		return fail(-EINVAL, "receive buffer is empty");
	if (c->ktls) {
		ret = kc_ktls_stream_recv(&c->kstream, p, cap, deadline);
		return ret < 0 ? ktls_error(c, ret) : ret;
	}
	for (;;) {
		left = kc_ms_left(deadline);
		if (left < 0)
			return record_error(c, GNUTLS_E_TIMEDOUT);
		gnutls_record_set_timeout(c->session, (unsigned int)left);
		ret = gnutls_record_recv(c->session, p, cap);
		if (ret >= 0)
			return ret;
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			continue;
		/* user_canceled (RFC 8446 6.1) comes before close_notify. */
		if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED &&
		    ++warnings < MAX_SOFT_RETRIES)
			continue;
		return record_error(c, ret);
	}
}

size_t kc_tls_client_pending(struct kc_tls_client *c)
{
	if (c->ktls)
		return kc_ktls_stream_pending(&c->kstream);
	return gnutls_record_check_pending(c->session);
}

static int send_bye(gnutls_session_t session)
{
	int ret;

	do
		ret = gnutls_bye(session, GNUTLS_SHUT_WR);
	while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
	return ret ? -EPIPE : 0;
}

/*
 * close_notify (RFC 8446 6.1) goes out after every byte sent before it;
 * the FIN behind it tells the agent at the TCP level too. The alert is
 * two bytes, so the blocking send cannot wait on a full socket for long.
 */
int kc_tls_client_bye(struct kc_tls_client *c)
{
	int ret;

	if (c->bye_sent)
		return 0;
	if (c->ktls)
		ret = kc_ktls_send_alert(c->fd, KC_TLS_ALERT_WARNING,
					 KC_TLS_ALERT_CLOSE_NOTIFY, 0);
	else
		ret = send_bye(c->session);
	if (ret)
		return fail(ret, "cannot send close_notify");
	c->bye_sent = true;
	if (shutdown(c->fd, SHUT_WR))
		return fail(-errno, "shutdown: %s", strerror(errno));
	return 0;
}

/* Never blocks: close_notify goes out only if the socket takes it now. */
void kc_tls_client_close(struct kc_tls_client *c)
{
	if (!c)
		return;
	if (c->session && !c->bye_sent) {
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		/* Under kTLS, GnuTLS's record layer must not write. */
		if (c->ktls)
			kc_ktls_send_alert(c->fd, KC_TLS_ALERT_WARNING,
					   KC_TLS_ALERT_CLOSE_NOTIFY, 0);
		else
			gnutls_bye(c->session, GNUTLS_SHUT_WR);
	}
	if (c->session)
		gnutls_deinit(c->session);
	if (c->ktls)
		kc_ktls_stream_fini(&c->kstream);
	if (c->fd >= 0)
		close(c->fd);
	kc_tls_prep_free(c->own_prep);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Accessors */

size_t kc_tls_client_peer_chain(const struct kc_tls_client *c,
				struct kc_bytes *certs, size_t cap)
{
	const gnutls_datum_t *der;
	unsigned int i, n = 0;

	der = gnutls_certificate_get_peers(c->session, &n);
	for (i = 0; der && i < n && i < cap; i++) {
		certs[i].p = der[i].data;
		certs[i].len = der[i].size;
	}
	return der ? n : 0;
}

struct kc_bytes kc_tls_client_pinned_cert(const struct kc_tls_client *c)
{
	struct kc_bytes out = { NULL, 0 };
	const gnutls_datum_t *der;
	unsigned int n = 0;

	der = gnutls_certificate_get_peers(c->session, &n);
	if (der && c->pinned >= 0 && (unsigned int)c->pinned < n) {
		out.p = der[c->pinned].data;
		out.len = der[c->pinned].size;
	}
	return out;
}

int kc_tls_client_fd(const struct kc_tls_client *c)
{
	return c->fd;
}

const char *kc_tls_client_cipher(const struct kc_tls_client *c)
{
	return gnutls_cipher_get_name(gnutls_cipher_get(c->session));
}

bool kc_tls_client_ktls(const struct kc_tls_client *c)
{
	return c->ktls;
}
