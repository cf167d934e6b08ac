/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel TLS for a TLS 1.3 connection whose handshake GnuTLS made: the
 * traffic keys go into the socket (TCP_ULP "tls", then SOL_TLS TLS_TX and
 * TLS_RX), and from then on the socket carries plaintext. Debian's GnuTLS
 * 3.7.9 is built without its own kTLS support, so this is done by hand,
 * for the three TLS 1.3 suites both GnuTLS and the kernel have:
 * TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
 * TLS_CHACHA20_POLY1305_SHA256 (RFC 8446 B.4).
 *
 * The switch is only correct at a record boundary: every byte the peer
 * sent up to then must have gone through GnuTLS, and no byte after it.
 * GnuTLS reads a record exactly (header, then the rest), so on a socket
 * it owns that holds right after the handshake while nothing is pending
 * in it; a caller that reads ahead (the agent's ring) must make sure of
 * it itself (agent/ktls.h).
 *
 * Under kTLS a recv that meets a record other than application data fails
 * with EIO unless it brings a control buffer: kc_ktls_recv() does, and
 * says the record's type (RFC 8446 5.1 ContentType). Alerts are sent with
 * kc_ktls_send_alert() (close_notify: RFC 8446 6.1).
 */
#ifndef KC_KTLS_H
#define KC_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* RFC 8446 5.1 ContentType and 6 AlertLevel/AlertDescription values. */
#define KC_TLS_CT_ALERT 21
#define KC_TLS_CT_HANDSHAKE 22
#define KC_TLS_CT_APPDATA 23
#define KC_TLS_ALERT_WARNING 1
#define KC_TLS_ALERT_FATAL 2
#define KC_TLS_ALERT_CLOSE_NOTIFY 0

/*
 * Moves the record layer of session (connected on fd) into the kernel,
 * keys taken with gnutls_record_get_state and wiped here after use.
 * Returns
 *   0                 both directions are in the kernel;
 *   -ENOENT           the kernel has no "tls" ULP (remembered: later calls
 *                     return it at once);
 *   -EOPNOTSUPP       not TLS 1.3, or a suite the kernel path lacks;
 *   -EBUSY            GnuTLS holds decrypted data not yet read;
 *   other -errno      the ULP or the send keys were refused;
 * and in all of these the socket is untouched for GnuTLS (an attached ULP
 * without keys passes bytes through). Only -ENOTRECOVERABLE, the send keys
 * in but the receive keys refused, leaves a connection that can go on
 * neither way: close it.
 */
int kc_ktls_install(int fd, gnutls_session_t session);

/*
 * 0 when a loopback TCP connection here takes the "tls" ULP, else -ENOENT
 * (or the -errno that stopped the probe). For tests to SKIP with a reason,
 * and for a log line at start.
 */
int kc_ktls_probe(void);

/*
 * One recvmsg(2) with room for the TLS_GET_RECORD_TYPE control message:
 * bytes of a single record type, *type set to it (KC_TLS_CT_APPDATA when
 * the kernel sent none, as at EOF). Returns the count, 0 at EOF, or -errno
 * (-EBADMSG: a record failed authentication, -EAGAIN with MSG_DONTWAIT).
 */
ssize_t kc_ktls_recv(int fd, void *buf, size_t cap, int flags, uint8_t *type);

/* Sends one alert record (level, description). 0 or -errno. */
int kc_ktls_send_alert(int fd, uint8_t level, uint8_t desc, int flags);

/* "close_notify", "bad_record_mac", ... for logs (GnuTLS's names). */
const char *kc_ktls_alert_name(uint8_t desc);

/*
 * A blocking kTLS socket as a byte stream, for clients (ktls_stream.c).
 * Application data is read through a small buffer so that a caller
 * asking for one byte never splits a control record.
 */
struct kc_ktls_stream {
	int fd;
	uint8_t *buf;
	size_t off, len;
	int end; /* sticky: 0 after close_notify, -errno after a failure */
	bool ended;
	uint8_t alert; /* the alert that ended it, for messages */
};

/* 0 or -ENOMEM. The stream does not own fd. */
int kc_ktls_stream_init(struct kc_ktls_stream *s, int fd);
/* Wipes and frees the buffer; safe on a zeroed stream. */
void kc_ktls_stream_fini(struct kc_ktls_stream *s);

/*
 * Up to cap bytes of application data, waiting until deadline
 * (tcpconn.h; 0 waits forever). > 0 bytes; 0 after close_notify (RFC
 * 8446 6.1); -ETIMEDOUT; -ECONNRESET at EOF without close_notify;
 * -ECONNABORTED after another alert (s->alert says which); -EPROTO for a
 * handshake message (a KeyUpdate this kernel path cannot follow);
 * -EBADMSG when a record failed authentication; other -errno.
 */
ssize_t kc_ktls_stream_recv(struct kc_ktls_stream *s, void *p, size_t cap,
			    uint64_t deadline);
/* Sends all len bytes. 0 or -errno (-EPIPE when the peer is gone). */
int kc_ktls_stream_send(struct kc_ktls_stream *s, const void *p, size_t len);
/* Application data already read and not yet returned. */
size_t kc_ktls_stream_pending(const struct kc_ktls_stream *s);

#endif
