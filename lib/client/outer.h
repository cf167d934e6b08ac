/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The layer sealed to the agent (PROTOCOL.md section 4, "Sessions with
 * the agent and SEND"): OPEN_SESSION with K wrapped to the agent's seal
 * key, then SEND records under K and Km, seq counting from 1, each
 * answered by one ACK.
 *
 * A session belongs to the connection that opened it and lives ttl_s at
 * most; kc_outer_expiring() tells a long-lived sender to open a new one.
 * Sends may be pipelined: kc_outer_send() does not wait, and the ACKs come
 * back in order, one per SEND, matched by (sid, seq).
 *
 * Returns 0 or -errno, with client.h's conventions for what the agent
 * and the connection say (-EREMOTEIO for an ERROR, -EPROTO for an answer
 * that does not match).
 */
#ifndef KC_OUTER_H
#define KC_OUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/client.h"
#include "crypto/crypto_ops.h"

struct kc_outer {
	struct kc_crypto *crypto;
	uint8_t sid[KC_SID_LEN];
	kc_handle_t h;
	uint64_t seq;	    /* last used */
	uint32_t ttl_s;
	uint64_t opened_ms; /* CLOCK_MONOTONIC */
};

int kc_outer_open(struct kc_client *c, struct kc_crypto *crypto,
		  EVP_PKEY *seal_pub, struct kc_outer *o);
/* Drops K and Km from the tier. Safe on a zeroed or closed struct. */
void kc_outer_close(struct kc_outer *o);

/* True once less than a tenth of the session's lifetime is left. */
bool kc_outer_expiring(const struct kc_outer *o);

/*
 * Seals the SEND plaintext sp as the next SEND and writes it to the agent
 * without waiting; *seq is the seq it used. sp is the caller's record of
 * the message: to resend one whose ACK never came or was TRY_LATER or
 * RATE_LIMITED, pass the same record again, for the agent recognises a
 * message by its counter (counter.h) and keeps the copy it stored first.
 * -EINVAL for a counter of 0 or a flag the protocol does not have.
 */
int kc_outer_send(struct kc_client *c, struct kc_outer *o,
		  const struct kc_send_plain *sp, uint64_t *seq);

/* The ACK of SEND number seq, which must be the next answer. */
int kc_outer_await_ack(struct kc_client *c, const struct kc_outer *o,
		       uint64_t seq, unsigned int timeout_ms,
		       uint16_t *status);

/*
 * The same check on an ACK the caller read itself (a caller that reads
 * every frame type as it comes, like the load tool).
 */
int kc_outer_match_ack(const struct kc_outer *o, const struct kc_frame *ack,
		       uint64_t seq, uint16_t *status);

#endif
