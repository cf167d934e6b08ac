/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection output: plaintext frames in `out`, with the hold of conn.h
 * ("Ordering rule"), TLS records, and one send in flight from `wire`.
 *
 * A hold is how answers wait for something the connection does not know
 * about (a group commit, for a SEND's ACK): kc_conn_hold marks where the
 * held part of `out` starts, kc_conn_patch_u16 fixes a field in it,
 * kc_conn_release lets the oldest hold go. Nothing from the oldest hold
 * on is encrypted or sent. Positions are of the output stream
 * (kc_conn_out_pos), not of the buffer.
 */
#ifndef KC_CONN_OUT_H
#define KC_CONN_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "conn/conn.h"
#include "wire/wire.h"

struct kc_conn;

/* Encodes f at the end of out. 0 or -ENOMEM (the connection then fails). */
int kc_conn_reply(struct kc_conn *c, const struct kc_frame *f);
void kc_conn_error(struct kc_conn *c, enum kc_status code, const char *text);
/* Appends an already encoded frame (DELIVER, RECEIPT). */
int kc_conn_append(struct kc_conn *c, const uint8_t *frame, size_t len);
/* Where the next byte appended to out will be in the output stream. */
static inline uint64_t kc_conn_out_pos(const struct kc_conn *c)
{
	return c->out_sent + kc_bytebuf_size(&c->out);
}
/* A new hold at kc_conn_out_pos: 0 or -ENOMEM (then nothing is held). */
int kc_conn_hold(struct kc_conn *c);
/* Writes v at stream position pos, which a hold still covers. */
void kc_conn_patch_u16(struct kc_conn *c, uint64_t pos, uint16_t v);
/* Lets the oldest hold go. */
void kc_conn_release(struct kc_conn *c);
/* Takes back the hold just made (its group could not take the SEND). */
void kc_conn_release_newest(struct kc_conn *c);
/* Loop step 5: encrypt what is released and keep one send in flight. */
void kc_conn_flush(struct kc_conn *c);
/* A send completion for c (the ring's SEND handler: conns.c). */
void kc_conn_on_send(struct kc_conn *c, int res);
/* Bytes queued on the way out (plaintext, TLS, in flight). */
size_t kc_conn_backlog(const struct kc_conn *c);
/*
 * Above this backlog the layer above should stop queueing what can wait
 * (DELIVERs stay in the store) until on_writable says there is room.
 */
#define KC_CONN_BACKLOG_HIGH (1u << 20)

#endif
