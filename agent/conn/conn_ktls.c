// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel TLS for a connection on the ring: when to switch, what a recv
 * error means afterwards, close_notify through the kernel (ktls.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn.h"
#include "conn/conn_ktls.h"
#include "conn/tls_ktls.h"
#include "ring/ratelog.h"
#include "tls/ktls.h"

/* A control record is two bytes (an alert) or one handshake message. */
#define CONTROL_MAX KC_TLS_RECORD_MAX

static const char *peer_name(const struct kc_conn *c)
{
	return c->id[0] ? c->id : "(unregistered)";
}

static const char *why_not(int err)
{
	switch (err) {
	case -ENOENT:
		return "no tls ULP in this kernel";
	case -EOPNOTSUPP:
		return "suite or version kTLS lacks";
	default:
		return strerror(-err);
	}
}

static void decide(struct kc_conn *c, enum kc_ktls_mode mode, const char *why)
{
	c->ktls = mode;
	kc_ktls_count(mode);
	if (mode == KC_KTLS_ON)
		kc_log_peer("connection %s: kTLS, %s", peer_name(c),
			    kc_tls_cipher(c->tls));
	else
		kc_log_peer("connection %s: GnuTLS record layer (%s)",
			    peer_name(c), why);
}

/* See ktls.h: nothing may be read from the socket behind our back. */
static bool ring_quiet(struct kc_conn *c)
{
	return kc_ring_cq_ready(c->t->s.ring) == 0 && !c->send_inflight &&
	       !kc_bytebuf_size(&c->wire);
}

void kc_conn_try_ktls(struct kc_conn *c)
{
	int ret;

	if (c->ktls != KC_KTLS_UNDECIDED || c->state != KC_CONN_OPEN)
		return;
	if (!kc_ring_defers_taskrun(c->t->s.ring)) {
		decide(c, KC_KTLS_OFF, "ring without DEFER_TASKRUN");
		return;
	}
	if (!ring_quiet(c))
		return;
	ret = kc_tls_start_ktls(c->tls, c->fd);
	if (ret == -EBUSY)
		return;
	if (ret == -ENOTRECOVERABLE) {
		c->ktls = KC_KTLS_OFF;
		kc_conn_fail(c, "kTLS half installed");
		return;
	}
	if (ret)
		decide(c, KC_KTLS_OFF, why_not(ret));
	else
		decide(c, KC_KTLS_ON, NULL);
}

/* RFC 8446 6.1: close_notify (and user_canceled before it) end cleanly. */
static void on_alert(struct kc_conn *c, const uint8_t *p, ssize_t n)
{
	if (n != 2) {
		kc_conn_fail(c, "kTLS: malformed alert");
		return;
	}
	if (p[1] == KC_TLS_ALERT_CLOSE_NOTIFY) {
		kc_conn_peer_done(c, false);
		return;
	}
	kc_log_peer("connection %s: peer sent alert %s", peer_name(c),
		    kc_ktls_alert_name(p[1]));
	kc_conn_fail(c, NULL);
}

static void on_control(struct kc_conn *c, uint8_t type, const uint8_t *p,
		       ssize_t n, kc_conn_feed_fn *feed)
{
	if (type == KC_TLS_CT_ALERT) {
		on_alert(c, p, n);
	} else if (type == KC_TLS_CT_APPDATA) {
		if (n > 0)
			feed(c, p, (size_t)n);
	} else {
		/* A KeyUpdate (RFC 8446 4.6.3) the kernel cannot follow. */
		kc_log_peer("connection %s: TLS record type %u under kTLS",
			    peer_name(c), type);
		kc_conn_fail(c, "kTLS: unexpected record");
	}
}

/* The multishot recv stopped at a record it could not return: read it. */
static void read_control(struct kc_conn *c, kc_conn_feed_fn *feed)
{
	static __thread uint8_t buf[CONTROL_MAX];
	uint8_t type;
	ssize_t n;

	n = kc_ktls_recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT, &type);
	if (n == 0) {
		kc_conn_peer_done(c, true); /* EOF without close_notify */
		return;
	}
	if (n < 0 && n != -EAGAIN) {
		kc_conn_fail(c, strerror((int)-n));
		return;
	}
	if (n > 0) {
		on_control(c, type, buf, n, feed);
		explicit_bzero(buf, (size_t)n);
	}
	kc_conn_rearm_recv(c);
}

bool kc_conn_ktls_recv_end(struct kc_conn *c, int res, kc_conn_feed_fn *feed)
{
	if (c->ktls != KC_KTLS_ON)
		return false;
	if (res == -EIO) {
		read_control(c, feed);
		return true;
	}
	if (res == -EBADMSG) {
		kc_conn_fail(c, "kTLS: a record failed authentication");
		return true;
	}
	return false;
}

int kc_conn_ktls_bye(struct kc_conn *c)
{
	if (c->ktls != KC_KTLS_ON)
		return -EOPNOTSUPP;
	return kc_ktls_send_alert(c->fd, KC_TLS_ALERT_WARNING,
				  KC_TLS_ALERT_CLOSE_NOTIFY, MSG_DONTWAIT);
}
