// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection output: plaintext frames in `out` (with the hold of
 * conn.h), TLS records, and one send in flight from `wire`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn.h"
#include "conn/conn_ktls.h"
#include "conn/conn_out.h"

/* Plaintext handed to kc_tls_write at a time (several records). */
#define ENCRYPT_CHUNK (64u * 1024)
/* Ciphertext moved to `wire` per send. */
#define WIRE_CHUNK (256u * 1024)
/*
 * Backlog limits. Below BACKLOG_LOW the layer above hears on_writable
 * (conn_out.h); above OUT_CAP (answers the peer asked for and does not
 * read) the peer is cut.
 */
#define BACKLOG_LOW (256u * 1024)
#define OUT_CAP (32u << 20)

size_t kc_conn_backlog(const struct kc_conn *c)
{
	const uint8_t *p;
	size_t pending = 0;

	if (c->tls)
		kc_tls_pending_output(c->tls, &p, &pending);
	return kc_bytebuf_size(&c->out) + kc_bytebuf_size(&c->wire) + pending;
}

int kc_conn_append(struct kc_conn *c, const uint8_t *frame, size_t len)
{
	if (kc_bytebuf_append(&c->out, frame, len)) {
		kc_conn_fail(c, "out of memory");
		return -ENOMEM;
	}
	kc_conn_mark_flush(c);
	return 0;
}

int kc_conn_reply(struct kc_conn *c, const struct kc_frame *f)
{
	size_t len = kc_frame_size(f);
	uint8_t *dst;

	dst = len ? kc_bytebuf_reserve(&c->out, len) : NULL;
	if (!dst || kc_frame_encode(f, dst, len) != len) {
		kc_conn_fail(c, "cannot encode an answer");
		return -ENOMEM;
	}
	kc_bytebuf_commit(&c->out, len);
	kc_conn_mark_flush(c);
	return 0;
}

void kc_conn_error(struct kc_conn *c, enum kc_status code, const char *text)
{
	struct kc_frame f = { .type = KC_T_ERROR };

	f.u.error.code = (uint16_t)code;
	f.u.error.text =
		(struct kc_bytes){ (const uint8_t *)text, strlen(text) };
	kc_conn_reply(c, &f);
}

int kc_conn_hold(struct kc_conn *c)
{
	if (c->nholds == c->holds_cap) {
		unsigned int cap = c->holds_cap ? 2 * c->holds_cap : 4;
		uint64_t *v = reallocarray(c->holds, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->holds = v;
		c->holds_cap = cap;
	}
	c->holds[c->nholds++] = kc_conn_out_pos(c);
	return 0;
}

/* Nothing at or after the oldest hold has left out: pos is still in it. */
void kc_conn_patch_u16(struct kc_conn *c, uint64_t pos, uint16_t v)
{
	uint8_t *p;

	if (pos < c->out_sent || pos + 2 > kc_conn_out_pos(c))
		return;
	p = c->out.p + c->out.head + (pos - c->out_sent);
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void kc_conn_release(struct kc_conn *c)
{
	if (!c->nholds)
		return;
	memmove(c->holds, c->holds + 1, --c->nholds * sizeof(*c->holds));
	kc_conn_mark_flush(c);
}

void kc_conn_release_newest(struct kc_conn *c)
{
	if (c->nholds)
		c->nholds--;
}

/* Bytes of out that may leave: up to the oldest hold. */
static size_t released(const struct kc_conn *c)
{
	return c->nholds ? (size_t)(c->holds[0] - c->out_sent)
			 : kc_bytebuf_size(&c->out);
}

static void encrypt_released(struct kc_conn *c)
{
	size_t n = released(c);

	while (n) {
		size_t chunk = n < ENCRYPT_CHUNK ? n : ENCRYPT_CHUNK;
		ssize_t ret =
			kc_tls_write(c->tls, kc_bytebuf_data(&c->out), chunk);

		if (ret == -ENOBUFS)
			return; /* the engine is full: after the next send */
		if (ret < 0) {
			kc_conn_fail(c, "TLS write failed");
			return;
		}
		kc_bytebuf_consume(&c->out, chunk);
		c->out_sent += chunk;
		n -= chunk;
	}
}

/* Moves ciphertext to `wire`, which stays untouched until the CQE. */
static void start_send(struct kc_conn *c)
{
	struct io_uring_sqe *sqe;
	const uint8_t *p;
	size_t len;

	if (c->send_inflight || c->state == KC_CONN_CLOSING)
		return;
	if (!kc_bytebuf_size(&c->wire)) {
		kc_tls_pending_output(c->tls, &p, &len);
		if (!len)
			return;
		len = len < WIRE_CHUNK ? len : WIRE_CHUNK;
		if (kc_bytebuf_append(&c->wire, p, len)) {
			kc_conn_fail(c, "out of memory");
			return;
		}
		kc_tls_consume_output(c->tls, len);
	}
	sqe = kc_ring_sqe(c->t->s.ring);
	if (!sqe) {
		kc_conn_fail(c, "no submission queue entry");
		return;
	}
	io_uring_prep_send(sqe, c->fd, kc_bytebuf_data(&c->wire),
			   kc_bytebuf_size(&c->wire), MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_SEND, c->gen, c->slot));
	c->send_inflight = true;
}

/*
 * DRAINING: once every queued byte is out, close_notify (RFC 8446 6.1)
 * and then a FIN; LINGER waits for the peer's EOF so nothing we sent is
 * lost to a reset from unread input.
 */
static void drain_step(struct kc_conn *c)
{
	if (c->send_inflight || kc_conn_backlog(c))
		return;
	if (!c->bye_sent) {
		c->bye_sent = true;
		if (!kc_tls_bye(c->tls)) {
			start_send(c);
			return;
		}
		kc_conn_ktls_bye(c); /* pass-through: the kernel sends it */
	}
	shutdown(c->fd, SHUT_WR);
	c->state = KC_CONN_LINGER;
	if (c->rx_eof) /* the peer's EOF came first: nothing to wait for */
		kc_conn_fail(c, NULL);
}

void kc_conn_flush(struct kc_conn *c)
{
	if (c->state == KC_CONN_CLOSING || c->state == KC_CONN_FREE)
		return;
	kc_conn_try_ktls(c);
	if (c->state == KC_CONN_OPEN && kc_conn_backlog(c) < BACKLOG_LOW)
		kc_conn_ev(c)->on_writable(c);
	if (c->state != KC_CONN_HANDSHAKE && c->state != KC_CONN_LINGER)
		encrypt_released(c);
	start_send(c);
	if (c->state == KC_CONN_DRAINING)
		drain_step(c);
	if (kc_conn_backlog(c) > OUT_CAP)
		kc_conn_fail(c, "peer does not read its answers");
}

void kc_conn_on_send(struct kc_conn *c, int res)
{
	c->send_inflight = false;
	if (res < 0) {
		kc_conn_fail(c, strerror(-res));
	} else {
		kc_bytebuf_consume(&c->wire, (size_t)res);
		kc_conn_mark_flush(c);
	}
	kc_conn_maybe_free(c);
}
