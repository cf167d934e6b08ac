// SPDX-License-Identifier: GPL-2.0-only
/*
 * The byte counts the crypto floor (bench/crypto-floor) measures with,
 * bench/crypto_floor_sizes.h, held against the real thing: a MESSAGE
 * sealed by lib/e2e.c, a SEND sealed on the user crypto tier the way
 * lib/outer.c seals it and opened the way agent/proto/send.c opens it, the
 * frames as lib/'s codec sizes them, and TLS records as the agent's own
 * engine (agent/tls.c) writes them after a default handshake.
 *
 * sizes.<payload>.*: payloads around the AES block size and the TLS
 *   record size.
 * suite.*: the suite the floor assumes (AES-256-GCM) is the one the
 *   agent and a client with default priorities agree on.
 * tls.<frame>.*: frame lengths around the 2^14-byte record limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../agent/conn/tls.h"
#include "../bench/crypto_floor_sizes.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "client/e2e.h"
#include "kselftest_harness.h"
#include "lib/tls_echo.h"
#include "lib/tls_mem.h"
#include "wire/wire.h"

#define SENDER "alice"
#define RECIPIENT "bob"

/* sizes: one application payload */

FIXTURE(sizes)
{
	struct kc_crypto *crypto;
	EVP_PKEY *key; /* id and enc key of both ends: sizes do not care */
	struct kc_e2e *e2e;
	uint8_t *payload, *init, *inner;
	size_t init_len, inner_len;
};

FIXTURE_VARIANT(sizes)
{
	size_t size;
};

FIXTURE_VARIANT_ADD(sizes, empty)
{
	.size = 0,
};

FIXTURE_VARIANT_ADD(sizes, one)
{
	.size = 1,
};

FIXTURE_VARIANT_ADD(sizes, block_minus_one)
{
	.size = 15,
};

FIXTURE_VARIANT_ADD(sizes, block)
{
	.size = 16,
};

FIXTURE_VARIANT_ADD(sizes, b256)
{
	.size = 256,
};

FIXTURE_VARIANT_ADD(sizes, record)
{
	.size = 16384,
};

FIXTURE_SETUP(sizes)
{
	uint64_t now_ms = (uint64_t)time(NULL) * 1000;

	ASSERT_EQ(0, kc_crypto_open("user", &self->crypto));
	ASSERT_EQ(0, kc_rsa_generate(&self->key));
	ASSERT_EQ(0, kc_e2e_create(self->crypto, SENDER, self->key, self->key,
				   &self->e2e));
	ASSERT_EQ(0, kc_e2e_start(self->e2e, RECIPIENT, self->key, now_ms,
				  &self->init, &self->init_len));
	self->payload = malloc(variant->size + 1);
	ASSERT_NE(NULL, self->payload);
	kc_random(self->payload, variant->size);
	ASSERT_EQ(0,
		  kc_e2e_seal(self->e2e, RECIPIENT, self->payload,
			      variant->size, &self->inner, &self->inner_len));
}

FIXTURE_TEARDOWN(sizes)
{
	free(self->inner);
	free(self->init);
	free(self->payload);
	kc_e2e_free(self->e2e);
	EVP_PKEY_free(self->key);
	kc_crypto_close(self->crypto);
}

TEST_F(sizes, inner_is_what_e2e_seals)
{
	struct kc_inner in;

	EXPECT_EQ(cf_inner_len(variant->size), self->inner_len);
	ASSERT_EQ(0, kc_inner_decode(self->inner, self->inner_len, &in));
	EXPECT_EQ(KC_INNER_MESSAGE, in.kind);
	EXPECT_EQ(kc_cbc_ct_len(variant->size), in.u.msg.ct.len);
}

/* The SEND plaintext, sealed under a fresh session as outer.c does. */
static int seal_send(struct kc_crypto *c, kc_handle_t h, const uint8_t *sid,
		     const uint8_t *plain, size_t plain_len, uint8_t *iv,
		     uint8_t *ct, uint8_t *mac, size_t *ct_len)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_seal_req req = { .session = h,
				   .aad = aad,
				   .iv = iv,
				   .pt = plain,
				   .pt_len = plain_len,
				   .ct = ct };
	int ret;

	kc_random(iv, KC_IV_LEN);
	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, sid, 1, iv,
				 (uint32_t)kc_cbc_ct_len(plain_len));
	ret = kc_seal_batch(c, &req, 1);
	if (ret || req.status)
		return ret ? ret : req.status;
	memcpy(mac, req.mac, KC_MAC_LEN);
	*ct_len = req.ct_len;
	return 0;
}

/* What the agent gets back from open_send(), or -1 if the MAC failed. */
static long open_send(struct kc_crypto *c, kc_handle_t h,
		      const struct kc_send *s, uint8_t *pt)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	struct kc_open_req req = { .session = h,
				   .aad = aad,
				   .iv = s->iv,
				   .ct = s->ct.p,
				   .ct_len = s->ct.len,
				   .mac = s->mac,
				   .pt = pt };

	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, s->sid, s->seq, s->iv,
				 (uint32_t)s->ct.len);
	if (kc_open_batch(c, &req, 1) || req.status)
		return -1;
	return (long)req.pt_len;
}

TEST_F(sizes, send_is_what_the_agent_opens)
{
	uint8_t sid[KC_SID_LEN], k[KC_KEY_LEN], msg_id[KC_MSGID_LEN];
	uint8_t iv[KC_IV_LEN], mac[KC_MAC_LEN], *plain, *ct, *frame, *pt;
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)RECIPIENT, strlen(RECIPIENT) },
		.msg_id = msg_id,
		.counter = 1,
		.inner = { self->inner, self->inner_len },
	}, got;
	size_t plain_len = kc_send_plain_size(&sp), ct_len, frame_len;
	struct kc_frame f = { .type = KC_T_SEND }, dec;
	kc_handle_t h;

	EXPECT_EQ(cf_send_plain_len(variant->size, sp.to.len), plain_len);
	kc_random(sid, sizeof(sid));
	kc_random(k, sizeof(k));
	kc_random(msg_id, sizeof(msg_id));
	ASSERT_EQ(0, kc_session_install(self->crypto, sid, k, &h));
	explicit_bzero(k, sizeof(k));
	plain = malloc(plain_len);
	ct = malloc(kc_cbc_ct_len(plain_len));
	ASSERT_NE(NULL, plain);
	ASSERT_NE(NULL, ct);
	ASSERT_EQ(plain_len, kc_send_plain_encode(&sp, plain, plain_len));
	ASSERT_EQ(0, seal_send(self->crypto, h, sid, plain, plain_len, iv, ct,
			       mac, &ct_len));
	f.u.send = (struct kc_send){ sid, 1, iv, { ct, ct_len }, mac };
	frame_len = kc_frame_size(&f);
	EXPECT_EQ(cf_send_frame_len(variant->size, sp.to.len), frame_len);

	/* The agent's side: decode, open, and find inner intact. */
	frame = malloc(frame_len);
	pt = malloc(ct_len);
	ASSERT_NE(NULL, frame);
	ASSERT_NE(NULL, pt);
	ASSERT_EQ(frame_len, kc_frame_encode(&f, frame, frame_len));
	ASSERT_EQ(0, kc_frame_decode(frame, frame_len, &dec));
	ASSERT_EQ((long)plain_len, open_send(self->crypto, h, &dec.u.send, pt));
	ASSERT_EQ(0, kc_send_plain_decode(pt, plain_len, &got));
	ASSERT_EQ(self->inner_len, got.inner.len);
	EXPECT_EQ(0, memcmp(self->inner, got.inner.p, self->inner_len));
	explicit_bzero(plain, plain_len);
	explicit_bzero(pt, ct_len);
	free(plain);
	free(ct);
	free(frame);
	free(pt);
}

TEST_F(sizes, answers_are_what_the_codec_writes)
{
	uint8_t sid[KC_SID_LEN] = { 1 }, msg_id[KC_MSGID_LEN] = { 2 };
	struct kc_bytes from = { (const uint8_t *)SENDER, strlen(SENDER) };
	struct kc_bytes to = { (const uint8_t *)RECIPIENT, strlen(RECIPIENT) };
	struct kc_frame f = { .type = KC_T_DELIVER };

	f.u.deliver = (struct kc_deliver){
		from, msg_id, 1, { self->inner, self->inner_len }
	};
	EXPECT_EQ(cf_deliver_frame_len(variant->size, from.len),
		  kc_frame_size(&f));
	f = (struct kc_frame){ .type = KC_T_ACK };
	f.u.ack = (struct kc_ack){ sid, 1, msg_id, KC_OK };
	EXPECT_EQ(cf_ack_frame_len(), kc_frame_size(&f));
	f = (struct kc_frame){ .type = KC_T_DELIVERED };
	f.u.delivered.msg_id = msg_id;
	EXPECT_EQ(cf_delivered_frame_len(), kc_frame_size(&f));
	f = (struct kc_frame){ .type = KC_T_RECEIPT };
	f.u.receipt = (struct kc_receipt){ msg_id, to };
	EXPECT_EQ(cf_receipt_frame_len(to.len), kc_frame_size(&f));
}

/* The agent's engine after a handshake with default priorities. */

struct tls_pair {
	struct echo_pki pki;
	struct kc_tls_server *srv;
	struct rawcli raw;
	struct kc_tls_conn *conn;
};

static int tls_pair_open(struct tls_pair *t)
{
	int cret, sret, ret;

	memset(t, 0, sizeof(*t));
	ret = echo_pki_make(&t->pki, NULL);
	if (!ret)
		ret = echo_server_new(&t->pki.server, &t->pki.ca, 0, &t->srv);
	/* lib/tlsclient.c offers the agent's priority string too. */
	if (!ret)
		ret = rawcli_init(&t->raw, KC_TLS_PRIORITY, KC_TLS_ALPN,
				  GNUTLS_NO_TICKETS);
	if (!ret)
		ret = kc_tls_conn_new(t->srv, &t->conn);
	if (ret)
		return ret;
	rawcli_handshake(&t->raw, t->conn, &cret, &sret);
	return cret ? cret : sret;
}

static void tls_pair_close(struct tls_pair *t)
{
	kc_tls_conn_free(t->conn);
	rawcli_free(&t->raw);
	kc_tls_server_free(t->srv);
	echo_pki_free(&t->pki);
}

/* suite: once */

FIXTURE(suite)
{
	struct tls_pair t;
};

FIXTURE_SETUP(suite)
{
	ASSERT_EQ(0, tls_pair_open(&self->t));
}

FIXTURE_TEARDOWN(suite)
{
	tls_pair_close(&self->t);
}

TEST_F(suite, default_is_the_one_measured)
{
	ASSERT_NE(NULL, kc_tls_cipher(self->t.conn));
	EXPECT_STREQ("AES-256-GCM", kc_tls_cipher(self->t.conn));
}

/* tls: one frame length */

FIXTURE(tls)
{
	struct tls_pair t;
};

FIXTURE_VARIANT(tls)
{
	size_t frame_len;
};

FIXTURE_VARIANT_ADD(tls, ack)
{
	.frame_len = 47,
};

FIXTURE_VARIANT_ADD(tls, record_minus_one)
{
	.frame_len = 16383,
};

FIXTURE_VARIANT_ADD(tls, record)
{
	.frame_len = 16384,
};

FIXTURE_VARIANT_ADD(tls, record_plus_one)
{
	.frame_len = 16385,
};

FIXTURE_VARIANT_ADD(tls, three_records)
{
	.frame_len = 40000,
};

FIXTURE_SETUP(tls)
{
	ASSERT_EQ(0, tls_pair_open(&self->t));
}

FIXTURE_TEARDOWN(tls)
{
	tls_pair_close(&self->t);
}

TEST_F(tls, wire_len_is_what_the_engine_writes)
{
	size_t len = variant->frame_len, n, got;
	uint8_t *frame = malloc(len), *back = malloc(len);
	const uint8_t *p;

	ASSERT_NE(NULL, frame);
	ASSERT_NE(NULL, back);
	kc_random(frame, len);
	kc_tls_pending_output(self->t.conn, &p, &n);
	kc_tls_consume_output(self->t.conn, n); /* handshake leftovers */
	ASSERT_EQ((ssize_t)len, kc_tls_write(self->t.conn, frame, len));
	kc_tls_pending_output(self->t.conn, &p, &n);
	EXPECT_EQ(cf_tls_wire_len(len), n);
	/* And the records are whole: the client reads the frame back. */
	for (got = 0; got < len;) {
		ssize_t r = rawcli_recv(&self->t.raw, self->t.conn, back + got,
					len - got);

		ASSERT_LT(0, r);
		got += (size_t)r;
	}
	EXPECT_EQ(0, memcmp(frame, back, len));
	free(frame);
	free(back);
}

TEST_HARNESS_MAIN
