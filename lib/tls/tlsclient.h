/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client end of the kcourier transport (PROTOCOL.md section 3) for the
 * `kcourier` CLI and the load tool: a blocking TCP connection with a GnuTLS
 * session on it. TLS 1.3 only, ALPN "kcourier/2" (a handshake where the
 * agent selects no protocol or another one fails with -EPROTO), no
 * session tickets, an optional client certificate (absent for REGISTER).
 *
 * The agent is authenticated by a pin, not by host name: the SHA-256 of
 * the agent CA's SubjectPublicKeyInfo, 64 hex digits. During the handshake,
 * before any application byte is sent, the certificate in the agent's
 * chain whose SPKI hash equals the pin is taken as the only trust anchor
 * and the chain from the agent's certificate up to it must verify
 * (signatures, dates, CA constraints of intermediates, serverAuth where an
 * extendedKeyUsage is present). The agent's certificate itself may not be
 * the pinned one: the pin names the CA.
 *
 * Kernel TLS: right after the handshake the traffic keys go into the
 * socket (lib/ktls.h) unless the options say no; where the kernel has no
 * tls ULP, or refuses the keys, the connection stays on GnuTLS.
 * kc_tls_client_ktls() tells which. Either way the calls below behave
 * the same.
 *
 * Errors are -errno; kc_tls_client_strerror() then gives a message for
 * people, e.g. "server certificate does not match the pinned CA
 * fingerprint". The main ones:
 *   -EINVAL        bad arguments (address syntax, pin not 64 hex digits,
 *                  unparsable client certificate or key)
 *   -EKEYREJECTED  the agent's chain does not contain or verify to the pin
 *   -EPROTO        TLS failure (version, ALPN, handshake)
 *   -ETIMEDOUT     connect, handshake or receive took longer than allowed
 *   -ECONNREFUSED, -EHOSTUNREACH, ...  from connect(2)
 *   -ECONNABORTED  the agent sent a fatal alert
 *   -ECONNRESET    the connection ended without close_notify
 *   -EBADMSG       a record failed authentication
 *
 * A kc_tls_client is used by one thread at a time.
 */
#ifndef KC_TLSCLIENT_H
#define KC_TLSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tls/tlscred.h"
#include "wire/wire.h"

#define KC_PIN_HEX_LEN 64

struct kc_tls_client;
struct kc_tls_client_prep; /* tlsprep.h */
struct evp_pkey_st;	   /* OpenSSL's EVP_PKEY */

struct kc_tls_client_opts {
	const struct kc_tls_client_cred *cred; /* NULL: no certificate */
	/*
	 * Made once by kc_tls_client_prepare() and reused: cred and cipher
	 * are then ignored (the prepared credential has them).
	 */
	const struct kc_tls_client_prep *prep;
	/*
	 * NULL, or one GnuTLS cipher name ("AES-128-GCM", "AES-256-GCM",
	 * "CHACHA20-POLY1305") to offer alone: for tests and benchmarks.
	 */
	const char *cipher;
	unsigned int timeout_ms; /* connect + handshake; 0 waits forever */
	bool no_ktls; /* keep the record layer in GnuTLS */
};

/*
 * Connects to addr_port ("HOST:PORT", "A.B.C.D:PORT" or "[IPV6]:PORT";
 * every address the name resolves to is tried in turn) and completes the
 * handshake. On success *out is the connection; on failure NULL.
 */
/*
 * Credentials and priorities for many connections (tlsprep.h): cred may
 * be NULL (no certificate); with sign_key, OpenSSL makes the
 * CertificateVerify signature with it (extkey.h) and cred's PKCS#8 key
 * is not read. 0 or -errno (kc_tls_client_strerror() says why).
 */
int kc_tls_client_prepare(const struct kc_tls_client_cred *cred,
			  struct evp_pkey_st *sign_key, const char *cipher,
			  struct kc_tls_client_prep **out);
void kc_tls_client_unprepare(struct kc_tls_client_prep *p);

int kc_tls_client_connect(const char *addr_port, const char *pin_hex,
			  const struct kc_tls_client_cred *cred,
			  unsigned int timeout_ms, struct kc_tls_client **out);
int kc_tls_client_connect_opts(const char *addr_port, const char *pin_hex,
			       const struct kc_tls_client_opts *opts,
			       struct kc_tls_client **out);

/* Sends all len bytes. 0 or -errno. */
int kc_tls_client_send(struct kc_tls_client *c, const void *p, size_t len);

/*
 * Receives up to cap bytes: > 0 bytes, 0 when the agent closed with
 * close_notify, -ETIMEDOUT when nothing came for timeout_ms (0 waits
 * forever), other -errno on failure.
 */
ssize_t kc_tls_client_recv(struct kc_tls_client *c, void *p, size_t cap,
			   unsigned int timeout_ms);

/* Plaintext already decrypted and waiting: recv returns it at once. */
size_t kc_tls_client_pending(struct kc_tls_client *c);

/*
 * The orderly end of our side: close_notify after everything sent so
 * far, then shutdown(SHUT_WR). Receiving still works until the agent
 * ends its side (recv returns 0). 0 or -errno.
 */
int kc_tls_client_bye(struct kc_tls_client *c);

/*
 * Sends close_notify (best effort, unless kc_tls_client_bye did), closes
 * the socket, frees. NULL is ok.
 */
void kc_tls_client_close(struct kc_tls_client *c);

/*
 * The certificates the agent sent, leaf first, as DER views valid until
 * close. Fills up to cap entries and returns how many there are in all.
 */
size_t kc_tls_client_peer_chain(const struct kc_tls_client *c,
				struct kc_bytes *certs, size_t cap);
/* The pinned CA certificate as the agent sent it (to store as ca_cert). */
struct kc_bytes kc_tls_client_pinned_cert(const struct kc_tls_client *c);

int kc_tls_client_fd(const struct kc_tls_client *c);
/* Negotiated cipher name, e.g. "AES-256-GCM". */
const char *kc_tls_client_cipher(const struct kc_tls_client *c);
/* Whether the kernel has the record layer (kTLS) rather than GnuTLS. */
bool kc_tls_client_ktls(const struct kc_tls_client *c);

/*
 * The message of the last failed kc_tls_client_* call in this thread
 * (thread-local, like errno), "" if none failed yet.
 */
const char *kc_tls_client_strerror(void);

/*
 * A pin as a user gives it (64 hex digits, either case) in the form
 * kc_cert_pin() writes: lowercase. 0 or -EINVAL.
 */
int kc_pin_normalize(const char *text, char hex[KC_PIN_HEX_LEN + 1]);

/* Lowercase hex SHA-256 of a DER certificate's SubjectPublicKeyInfo. */
int kc_cert_pin(const uint8_t *der, size_t len, char hex[KC_PIN_HEX_LEN + 1]);

#endif
