/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One message for the crypto floor, made the way the clients make it and
 * laid out the way the agent meets it: inner and the SEND sealed on lib/'s
 * user crypto tier and encoded with lib/'s codec, each buffer exactly as
 * long as crypto_floor_sizes.h says (building fails with -EPROTO if not),
 * and the client-to-agent frames already sealed into TLS records.
 */
#ifndef KC_BENCH_CRYPTO_FLOOR_MSG_H
#define KC_BENCH_CRYPTO_FLOOR_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto_floor_tls.h"
#include "crypto/crypto_ops.h"
#include "wire/wire.h"

/*
 * Client ids as long as the load tool's ("load-" and 12 hex digits), so
 * the frames measured here are byte for byte as long as the ones it sends.
 */
#define CF_SENDER_ID "load-5e4de4000001"
#define CF_RECIPIENT_ID "load-2ec1b1000002"

struct cf_msg {
	size_t size; /* application payload bytes */
	struct kc_crypto *crypto;
	kc_handle_t outer; /* the SEND session, as OPEN_SESSION left it */
	kc_handle_t e2e;   /* the clients' session; the agent never has it */
	uint8_t sid[KC_SID_LEN], e2e_sid[KC_SID_LEN], msg_id[KC_MSGID_LEN];
	/* Frames, header included. */
	struct cf_buf inner, send, deliver, ack, delivered, receipt;
	size_t plain_len;	  /* the SEND's plaintext */
	struct kc_frame send_dec; /* the SEND decoded; points into send */
	/* What the agent reads from the clients: TLS records, sealed once. */
	struct cf_buf send_wire, delivered_wire;
	/* Room for any plaintext opened; for any frame's records sealed. */
	struct cf_buf pt, out;
	struct cf_tls_dir from_sender, to_sender, from_recipient, to_recipient;
};

/* Needs cf_tls_setup() done. 0 or -errno; on failure m holds nothing. */
int cf_msg_init(struct cf_msg *m, struct kc_crypto *c, size_t size);
/* Drops both sessions and wipes every buffer. */
void cf_msg_free(struct cf_msg *m);

#endif
