/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One client connection on a worker: TLS engine, frame assembly, the
 * output queue with its hold, sessions and delivery position.
 *
 * Lifecycle:
 *   HANDSHAKE  accepted, TLS handshake running
 *   OPEN       handshake done; `authed` (client certificate for a live id)
 *              or register-only (no certificate: one REGISTER allowed)
 *   DRAINING   no more input is handled; the output still queued (an
 *              ERROR, say) is sent, then the write side is shut
 * When the peer ends its side (close_notify, EOF, or a reset), every
 * whole frame it sent before that is still handled (peer_done), and only
 * then does the connection move to DRAINING: a DELIVERED written just
 * before a client's close_notify is not lost.
 *   LINGER     write side shut; waits for the peer's EOF (or a deadline)
 *              so the last frames are not lost to a reset
 *   CLOSING    socket shut down; waits for the recv and any send still in
 *              the kernel, then closes the fd and frees the slot
 * Slots carry a generation, bumped on reuse, that is part of every SQE's
 * user_data and of every cross-worker note, so anything addressed to an
 * earlier connection in the same slot is dropped.
 *
 * Ordering rule (docs/DESIGN.md "Loop turn"): answers leave in request order.
 * When a SEND waits for the group commit, hold_from marks where the held
 * part of `out` starts; nothing from there on is encrypted or sent until
 * the commit has patched the ACK status and released the hold.
 */
#ifndef KC_CONN_H
#define KC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "sessions.h"
#include "tls.h"
#include "wire/wire.h"

struct kc_worker;
struct kc_payload;

enum kc_conn_state {
	KC_CONN_FREE = 0,
	KC_CONN_HANDSHAKE,
	KC_CONN_OPEN,
	KC_CONN_DRAINING,
	KC_CONN_LINGER,
	KC_CONN_CLOSING,
};

#define KC_NO_HOLD SIZE_MAX

struct kc_conn {
	uint32_t slot, gen;
	enum kc_conn_state state;
	int fd;
	struct kc_worker *w;
	struct kc_tls_conn *tls;
	uint8_t ktls; /* enum kc_ktls_mode: who has the record layer */

	bool authed;	    /* id below is a registered, unrevoked client */
	bool register_used; /* register-only: its one REGISTER was made */
	bool got_frame;	    /* first frame seen: handshake deadline over */
	char id[KC_TLS_ID_SIZE];

	struct kc_bytebuf in;  /* plaintext not yet cut into frames */
	struct kc_bytebuf out; /* plaintext frames not yet encrypted */
	size_t hold_from; /* offset in out of the held part, or KC_NO_HOLD */
	struct kc_bytebuf wire; /* ciphertext of the send in flight */

	bool recv_armed;    /* a multishot recv is in the kernel */
	bool recv_starved;  /* it ended on -ENOBUFS: re-arm after the turn */
	bool send_inflight; /* wire is in the kernel: do not touch it */
	bool cancel_sent;
	bool bye_sent; /* close_notify queued (DRAINING) */
	bool peer_done; /* peer sent close_notify or EOF: no more input */
	bool rx_eof;	/* the socket's read side ended: no recv to wait for */

	uint64_t accepted_ms, last_rx_ms, linger_until_ms;

	struct kc_conn_sessions sessions;

	bool in_presence;	/* registered with the router */
	bool catching_up;	/* the stored queue is not fully loaded yet */
	int64_t delivered_upto; /* highest seq sent as DELIVER */

	bool on_dirty, on_flush;
	struct kc_conn *next_dirty, *next_flush;
};

/* Per-worker slot table. */
struct kc_conn_table {
	struct kc_conn **v;
	uint32_t cap, used, max;
	uint32_t *free_slots;
	uint32_t nfree;
};

int kc_conn_table_init(struct kc_conn_table *t, uint32_t max);
/* Frees every slot; the connections must be closed already. */
void kc_conn_table_fini(struct kc_conn_table *t);
/* The live connection in slot with generation gen, or NULL. */
struct kc_conn *kc_conn_lookup(struct kc_conn_table *t, uint32_t slot,
			       uint32_t gen);

/* --- lifecycle (conn.c) --- */

/* Takes over an accepted socket; closes fd itself on failure. */
int kc_conn_accept(struct kc_worker *w, int fd);
/* Peer errors, TLS failures, timeouts: shut the socket now. */
void kc_conn_fail(struct kc_conn *c, const char *why);
/* Send what is queued (an ERROR, say), then close. */
void kc_conn_finish(struct kc_conn *c);
/*
 * The peer will send no more (close_notify, EOF or reset; eof: the
 * socket's read side is over too). Frames already received are still
 * handled in the turn's processing step, which then finishes.
 */
void kc_conn_peer_done(struct kc_conn *c, bool eof);
/* Deadlines and session expiry, once per tick. */
void kc_conn_tick(struct kc_conn *c, uint64_t now_ms);
/* Frees the slot once the kernel holds nothing of the connection. */
void kc_conn_maybe_free(struct kc_conn *c);
static inline bool kc_conn_live(const struct kc_conn *c)
{
	return c->state == KC_CONN_HANDSHAKE || c->state == KC_CONN_OPEN;
}

/* --- input (conn_in.c) --- */

void kc_conn_arm_recv(struct kc_conn *c);
void kc_conn_on_recv(struct kc_conn *c, int res, uint32_t flags);
/* Loop step 2: handshake, plaintext, frames, handlers. */
void kc_conn_process(struct kc_conn *c);

/* --- output (conn_out.c) --- */

/* Encodes f at the end of out. 0 or -ENOMEM (the connection then fails). */
int kc_conn_reply(struct kc_conn *c, const struct kc_frame *f);
void kc_conn_error(struct kc_conn *c, enum kc_status code, const char *text);
/* Appends an already encoded frame (DELIVER, RECEIPT). */
int kc_conn_append(struct kc_conn *c, const uint8_t *frame, size_t len);
/* Starts holding (if not yet) and returns the offset where out ends. */
size_t kc_conn_hold(struct kc_conn *c);
void kc_conn_patch_u16(struct kc_conn *c, size_t off, uint16_t v);
void kc_conn_release(struct kc_conn *c);
/*
 * A DELIVER or RECEIPT from the router. DELIVERs at or below
 * delivered_upto were sent already (queue load and notification overlap),
 * and while the stored queue is still being loaded every DELIVER comes
 * from there instead, so order stays seq order.
 */
void kc_conn_notify(struct kc_conn *c, const struct kc_payload *p);
/* Loop step 5: encrypt what is released and keep one send in flight. */
void kc_conn_flush(struct kc_conn *c);
void kc_conn_on_send(struct kc_conn *c, int res);
/* Bytes queued on the way out (plaintext, TLS, in flight). */
size_t kc_conn_backlog(const struct kc_conn *c);
/* Above this backlog DELIVERs wait in the store (conn_out.c). */
#define KC_CONN_BACKLOG_HIGH (1u << 20)

#endif
