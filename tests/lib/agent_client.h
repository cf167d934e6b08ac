/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client side of the agent protocol for tests (PROTOCOL.md sections 3-4),
 * built from the library's codec, crypto and client connection, with the
 * knobs a test needs and a real client must not have: raw bytes on the
 * wire, any seq, a broken MAC or padding.
 *
 * test_ident is one client: its id and enc keys (RSA-2048), enc_sig, and
 * after REGISTER its certificate and the agent's CA and seal certificates.
 * test_session is an OPEN_SESSION key held in the clear (K, Km), so the
 * test can build SENDs byte by byte.
 *
 * Functions return 0 or -errno; -EREMOTEIO is an ERROR from the agent, with
 * its code in *status where the function has one.
 */
#ifndef KC_TEST_AGENT_CLIENT_H
#define KC_TEST_AGENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "agent_proc.h"
#include "client/client.h"
#include "wire/wire.h"

#define TEST_WAIT_MS 20000

struct test_ident {
	char id[KC_CLIENT_ID_MAX + 1];
	EVP_PKEY *id_key, *enc_key;
	uint8_t *id_spki, *enc_spki; /* OPENSSL_malloc'ed DER */
	size_t id_spki_len, enc_spki_len;
	uint8_t enc_sig[KC_RSA_LEN];
	/* From REGISTERED. */
	uint8_t *cert, *ca_cert, *seal_cert;
	size_t cert_len, ca_cert_len, seal_cert_len;
	EVP_PKEY *seal_pub;
};

/* Fresh keys and enc_sig for id (which may break the id grammar). */
int ti_make(struct test_ident *ti, const char *id);
void ti_free(struct test_ident *ti);

/* A REGISTER frame for ti; views into ti and token. */
void ti_register_frame(const struct test_ident *ti, const char *token,
		       struct kc_frame *f);
/*
 * REGISTER on a new connection without a certificate. On success keeps
 * the three certificates in ti. After the answer, REGISTERED or ERROR,
 * the agent must close the connection: -EISCONN when it does not.
 */
int ti_register(const struct agent_proc *a, struct test_ident *ti,
		const char *token, int *status);
/* A token from the agent, then ti_register. */
int ti_enroll(struct agent_proc *a, struct test_ident *ti);
/* ti_make, then ti_enroll: a registered client of a, named id. */
int ti_make_enrolled(struct agent_proc *a, struct test_ident *ti,
		     const char *id);

/* Connects with ti's certificate (or without one when ti is NULL). */
int ti_connect(const struct agent_proc *a, const struct test_ident *ti,
	       struct kc_client **out);

struct test_session {
	uint8_t sid[KC_SID_LEN];
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN];
	uint32_t ttl_s;
};

/* OPEN_SESSION with a random sid and K wrapped to ti's seal certificate. */
int ts_open(struct kc_client *c, const struct test_ident *ti,
	    struct test_session *s, int *status);
/* Same, with the caller's sid (for EXISTS). */
int ts_open_sid(struct kc_client *c, const struct test_ident *ti,
		const uint8_t sid[KC_SID_LEN], struct test_session *s,
		int *status);

enum ts_tamper {
	TS_GOOD = 0,
	TS_BAD_MAC = 1,	    /* flip a bit of the MAC */
	TS_BAD_PADDING = 2, /* valid MAC over a ct whose padding is broken */
	TS_BAD_PLAIN = 4, /* valid MAC and padding, plaintext does not decode */
};

/*
 * Writes one SEND (does not wait for the ACK): a new message, with the
 * next counter of this process and no flags.
 */
int ts_send(struct kc_client *c, const struct test_session *s, uint64_t seq,
	    const char *to, const uint8_t msg_id[KC_MSGID_LEN],
	    const uint8_t *inner, size_t inner_len, unsigned int tamper);
/*
 * One SEND of exactly this plaintext (which need not decode: any counter,
 * any flags, any bytes), sealed in s; tamper as for ts_send.
 */
int ts_send_bytes(struct kc_client *c, const struct test_session *s,
		  uint64_t seq, const uint8_t *pt, size_t pt_len,
		  unsigned int tamper);
/* One SEND of sp as it is: its own counter and flags (a resend, say). */
int ts_send_plain(struct kc_client *c, const struct test_session *s,
		  uint64_t seq, const struct kc_send_plain *sp);
/* The next answer, which must be the ACK of (s->sid, seq). */
int ts_await_ack(struct kc_client *c, const struct test_session *s,
		 uint64_t seq, uint16_t *status, uint8_t msg_id[KC_MSGID_LEN]);

/* Raw bytes inside the TLS stream. */
int tc_send_raw(struct kc_client *c, const void *p, size_t len);
/* PING with nonce and its PONG. */
int tc_ping(struct kc_client *c, uint64_t nonce);
/*
 * Waits for an ERROR answer: 0 and its code in *status, or -EPROTO for
 * another answer, or the transport error.
 */
int tc_await_error(struct kc_client *c, int *status);
/*
 * True when the agent has closed the connection (EOF or reset) and sent
 * nothing the caller has not read.
 */
bool tc_closed(struct kc_client *c);

#endif
