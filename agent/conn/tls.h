/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's TLS engine (PROTOCOL.md section 3) on GnuTLS, working on
 * memory buffers so that the io_uring loop owns every socket operation.
 *
 * Shape of one connection, as the loop drives it:
 *
 *   recv completes     -> kc_tls_feed(c, bytes, n)
 *   while handshaking  -> kc_tls_handshake_step(c): 0 done, -EAGAIN more
 *                         input needed, < 0 fatal (kc_tls_reason(c) says why)
 *   after the handshake-> kc_tls_peer(c, id) once, then
 *                         kc_tls_read(c, out, cap) until -EAGAIN,
 *                         kc_tls_write(c, frame, len) for answers
 *   after ANY call     -> kc_tls_pending_output(c, &p, &n); send p[0..n)
 *                         with io_uring, then kc_tls_consume_output(c, sent)
 *
 * Output can appear even when no write was asked for: handshake flights,
 * alerts after a fatal error (send them, then close), and TLS 1.3
 * KeyUpdate answers that GnuTLS produces while reading. So the loop looks
 * at the pending output after every call, whatever it returned.
 *
 * Policy (fixed here, not configurable): TLS 1.3 only; ALPN "kcourier/2"
 * required (a ClientHello that does not offer it, kcourier/1 clients
 * included, is refused with the no_application_protocol alert); no
 * session tickets and no resumption;
 * a client certificate is requested but optional, because REGISTER comes
 * without one. A client certificate that does not pass is NOT a handshake
 * failure: kc_tls_peer() reports it, and the protocol layer answers ERROR
 * UNAUTHORIZED over the established channel and closes.
 *
 * Bounded memory: buffered ciphertext input and pending output each have a
 * cap (kc_tls_server_cfg; the input cap may be lowered per connection,
 * kc_tls_set_in_max). A feed or write that would pass it returns
 * -ENOBUFS and changes nothing; output GnuTLS generates on its own
 * (KeyUpdate answers) beyond the output cap is a fatal -ENOBUFS.
 *
 * Kernel TLS (ktls.h): kc_tls_set_passthrough() switches a connection, after
 * its handshake, to moving plain bytes (feed -> read, write -> pending
 * output unchanged), which is what the ring carries once the traffic keys
 * sit in the kernel. The protocol code keeps calling the same functions.
 * kc_tls_session() gives the GnuTLS session for extracting those keys.
 *
 * Threads: a kc_tls_server is read-only after kc_tls_server_new and may be
 * shared by every worker; it must outlive its connections. A kc_tls_conn
 * belongs to one thread at a time.
 */
#ifndef KC_AGENT_TLS_H
#define KC_AGENT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

#include "conn/tls_peer.h" /* KC_TLS_ID_SIZE */

#define KC_TLS_ALPN "kcourier/2"
/*
 * TLS 1.3 and nothing older; the cipher suites and groups are GnuTLS's
 * NORMAL set, with X25519 moved first: nettle's X25519 is cheaper than
 * its P-256 (docs/BENCHMARKS.md, "Where a handshake's CPU goes"), and
 * our clients send their key share for it.
 */
#define KC_TLS_PRIORITY \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-ALL"

/* The most plaintext one TLS record carries (RFC 8446 5.1). */
#define KC_TLS_RECORD_MAX (16u * 1024)

#define KC_TLS_IN_MAX_DEFAULT (256u * 1024)
/* One whole max_frame (1 MiB) frame plus record overhead, several times. */
#define KC_TLS_OUT_MAX_DEFAULT (4u * 1024 * 1024)

struct kc_tls_server;
struct kc_tls_conn;

/* DER, or PEM ("-----BEGIN"), bytes; the engine copies what it keeps. */
struct kc_tls_blob {
	const uint8_t *p;
	size_t len;
};

struct kc_tls_server_cfg {
	struct kc_tls_blob cert;      /* agent TLS certificate (tls.crt) */
	struct kc_tls_blob ca;	      /* agent CA certificate (ca.crt) */
	struct kc_tls_blob key_pkcs8; /* tls.key, unencrypted PKCS#8 */
	size_t in_max;		      /* 0: KC_TLS_IN_MAX_DEFAULT */
	size_t out_max;		      /* 0: KC_TLS_OUT_MAX_DEFAULT */
};

/*
 * Builds the shared credentials: the chain sent is cert then ca, the CA is
 * also the only trust anchor for client certificates. The caller wipes its
 * copy of the key. Returns 0, -EINVAL (unparsable input, or a key that
 * does not match the certificate) or -ENOMEM.
 */
int kc_tls_server_new(const struct kc_tls_server_cfg *cfg,
		      struct kc_tls_server **out);
void kc_tls_server_free(struct kc_tls_server *srv);

/*
 * A server whose connections carry no TLS at all: each one is past its
 * handshake and in pass-through from the start, and names peer_id as its
 * client (NULL: no certificate, register-only). What is fed is then the
 * decrypted record stream itself, which is how tests/fuzz/fuzz_agent.c
 * drives the agent's frame path from plaintext bytes. The agent never
 * makes one (cmd_run.c builds its server with kc_tls_server_new).
 * Returns 0, -EINVAL (id too long) or -ENOMEM.
 */
int kc_tls_server_new_plain(const char *peer_id, struct kc_tls_server **out);

/* Returns 0, -ENOMEM or -EPROTO (GnuTLS refused the session setup). */
int kc_tls_conn_new(struct kc_tls_server *srv, struct kc_tls_conn **out);
/* Wipes the buffers and frees; accepts NULL. Sends nothing. */
void kc_tls_conn_free(struct kc_tls_conn *c);

/*
 * This connection's cap on queued input, for a peer that may make the
 * agent buffer less than in_max (one not yet authenticated, say): max,
 * or the server's in_max when max is 0 or above it.
 */
void kc_tls_set_in_max(struct kc_tls_conn *c, size_t max);

/*
 * Queues received bytes. 0, or -ENOBUFS when over the connection's cap
 * (nothing kept).
 */
int kc_tls_feed(struct kc_tls_conn *c, const uint8_t *bytes, size_t len);

/*
 * Advances the handshake with what was fed. 0 once it is complete (and
 * on every later call), -EAGAIN when it needs more input, or fatal:
 * -EPROTO (protocol, version, ALPN), -ECONNABORTED (the peer sent a fatal
 * alert), -ENOBUFS, -ENOMEM. After a fatal error the connection stays
 * failed; any alert for the peer is in the pending output.
 */
int kc_tls_handshake_step(struct kc_tls_conn *c);

/*
 * Plaintext after the handshake: > 0 bytes copied, -EAGAIN when none is
 * available yet, 0 once the peer sent close_notify, or fatal: -EBADMSG (a
 * record failed authentication), -EPROTO, -ECONNABORTED, -ENOBUFS,
 * -ENOTCONN (handshake not complete, or the connection failed before).
 */
ssize_t kc_tls_read(struct kc_tls_conn *c, uint8_t *out, size_t cap);

/*
 * Encrypts all len bytes into the pending output, or nothing: returns len,
 * -ENOBUFS when they would pass out_max (send, then retry), -ENOTCONN, or
 * -EPROTO.
 */
ssize_t kc_tls_write(struct kc_tls_conn *c, const uint8_t *p, size_t len);

/* Bytes waiting to be sent; *p stays valid until the next call on c. */
void kc_tls_pending_output(const struct kc_tls_conn *c, const uint8_t **p,
			   size_t *len);
/* Drops the first n pending bytes (n larger than pending drops all). */
void kc_tls_consume_output(struct kc_tls_conn *c, size_t n);

/*
 * Queues close_notify (RFC 8446 6.1); the loop sends it and closes. 0, or
 * -EOPNOTSUPP in pass-through mode (the kernel sends the alert there),
 * -ENOTCONN before the handshake.
 */
int kc_tls_bye(struct kc_tls_conn *c);

/*
 * The client's identity, judged once when the handshake completes:
 * 0 and id = the CN of a client certificate that chains to the agent CA,
 * is valid now, has the clientAuth EKU and digitalSignature usage, an
 * RSA-2048 e=65537 key, and one CN that is a valid client id;
 * -ENOENT when the client sent no certificate; -EACCES when it sent one
 * that fails any of that (kc_tls_reason() says which); -ENOTCONN before.
 */
int kc_tls_peer(const struct kc_tls_conn *c, char id[KC_TLS_ID_SIZE]);

/* Why the last failure happened, for logs; "" when nothing failed. */
const char *kc_tls_reason(const struct kc_tls_conn *c);

/* Negotiated cipher name ("AES-256-GCM"), NULL before the handshake. */
const char *kc_tls_cipher(const struct kc_tls_conn *c);

/*
 * The GnuTLS session, for reading the traffic secrets when kTLS takes over
 * the record layer. Do not read or write records through it.
 */
gnutls_session_t kc_tls_session(struct kc_tls_conn *c);

/*
 * From now on the connection moves plain bytes: feed() queues them for
 * read(), write() queues them for the pending output. Call it right after
 * the traffic keys went into the kernel. Returns 0, -ENOTCONN before the
 * handshake or after a failure, -EBUSY while ciphertext is still buffered
 * on either side, or GnuTLS has pulled part of a record (it belongs to the
 * GnuTLS record layer: drain it first).
 */
int kc_tls_set_passthrough(struct kc_tls_conn *c);
/* What kc_tls_set_passthrough would return, changing nothing. */
int kc_tls_passthrough_ready(const struct kc_tls_conn *c);
bool kc_tls_is_passthrough(const struct kc_tls_conn *c);

#endif
