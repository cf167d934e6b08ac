// SPDX-License-Identifier: GPL-2.0-only
/*
 * One message for the crypto floor; see crypto_floor_msg.h.
 *
 * The clients' side happens here, once per size: a MESSAGE sealed under
 * an E2E session (PROTOCOL.md section 5), a SEND carrying it sealed
 * under the outer session (section 4), the agent's answers, and the TLS
 * records the clients send. Sealing goes through kc_seal_batch exactly as
 * lib/outer.c and lib/e2e.c do, so the MACs are real and the agent-side
 * open in crypto_floor.c succeeds only if both sides agree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto_floor_msg.h"
#include "crypto_floor_sizes.h"

static int buf_alloc(struct cf_buf *b, size_t len)
{
	/* malloc(0) may give NULL; a zero-byte payload is legal. */
	b->p = malloc(len ? len : 1);
	b->len = len;
	return b->p ? 0 : -ENOMEM;
}

static void buf_free(struct cf_buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->len);
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

/* Exactly the size the protocol arithmetic predicts, or -EPROTO. */
static int encode_frame(const struct kc_frame *f, size_t want, struct cf_buf *b)
{
	int ret = buf_alloc(b, want);

	if (!ret && kc_frame_encode(f, b->p, b->len) != want)
		ret = -EPROTO;
	return ret;
}

/*
 * CBC + HMAC under req->session as a client seals it (outer.c, e2e.c):
 * the MAC covers label || sid || seq || iv || u32 ct_len, then ct.
 */
static int seal_record(struct kc_crypto *c, const char *label,
		       const uint8_t sid[KC_SID_LEN], uint64_t seq,
		       struct kc_seal_req *req)
{
	uint8_t aad[KC_SEQ_AAD_MAX];
	int ret;

	req->aad = aad;
	req->aad_len = kc_seq_aad(aad, label, sid, seq, req->iv,
				  (uint32_t)kc_cbc_ct_len(req->pt_len));
	ret = kc_seal_batch(c, req, 1);
	req->aad = NULL;
	return ret ? ret : req->status;
}

/* Section 5 MESSAGE with seq 1 over size random bytes. */
static int make_inner(struct cf_msg *m)
{
	struct kc_inner in = { .kind = KC_INNER_MESSAGE };
	uint8_t iv[KC_IV_LEN];
	struct cf_buf payload = { 0 }, ct = { 0 };
	struct kc_seal_req req = { .session = m->e2e, .iv = iv };
	int ret;

	ret = buf_alloc(&payload, m->size);
	if (!ret)
		ret = buf_alloc(&ct, kc_cbc_ct_len(m->size));
	if (!ret)
		ret = buf_alloc(&m->inner, cf_inner_len(m->size));
	if (ret)
		goto cleanup;
	kc_random(payload.p, payload.len);
	kc_random(iv, sizeof(iv));
	req.pt = payload.p;
	req.pt_len = payload.len;
	req.ct = ct.p;
	ret = seal_record(m->crypto, KC_LABEL_E2E, m->e2e_sid, 1, &req);
	if (ret)
		goto cleanup;
	in.u.msg = (struct kc_e2e_message){
		m->e2e_sid, 1, iv, { ct.p, req.ct_len }, req.mac
	};
	if (kc_inner_encode(&in, m->inner.p, m->inner.len) != m->inner.len)
		ret = -EPROTO;
cleanup:
	buf_free(&payload);
	buf_free(&ct);
	return ret;
}

/* Section 4 SEND of (CF_RECIPIENT_ID, msg_id, inner), seq and counter 1. */
static int make_send(struct cf_msg *m)
{
	struct kc_send_plain sp = {
		.to = { (const uint8_t *)CF_RECIPIENT_ID,
			strlen(CF_RECIPIENT_ID) },
		.msg_id = m->msg_id,
		.counter = 1,
		.inner = { m->inner.p, m->inner.len },
	};
	struct kc_frame f = { .type = KC_T_SEND };
	struct kc_seal_req req;
	struct cf_buf plain = { 0 }, ct = { 0 };
	uint8_t iv[KC_IV_LEN];
	int ret;

	ret = buf_alloc(&plain, cf_send_plain_len(m->size, sp.to.len));
	if (!ret)
		ret = buf_alloc(&ct, kc_cbc_ct_len(plain.len));
	if (ret)
		goto cleanup;
	ret = -EPROTO;
	if (kc_send_plain_encode(&sp, plain.p, plain.len) != plain.len)
		goto cleanup;
	kc_random(iv, sizeof(iv));
	req = (struct kc_seal_req){ .session = m->outer,
				    .iv = iv,
				    .pt = plain.p,
				    .pt_len = plain.len,
				    .ct = ct.p };
	ret = seal_record(m->crypto, KC_LABEL_SEND, m->sid, 1, &req);
	if (ret)
		goto cleanup;
	f.u.send = (struct kc_send){
		m->sid, 1, iv, { ct.p, req.ct_len }, req.mac
	};
	ret = encode_frame(&f, cf_send_frame_len(m->size, sp.to.len), &m->send);
	if (!ret && kc_frame_decode(m->send.p, m->send.len, &m->send_dec))
		ret = -EPROTO;
	m->plain_len = plain.len;
cleanup:
	buf_free(&plain); /* the SEND plaintext, as outer.c wipes it */
	buf_free(&ct);
	return ret;
}

/* DELIVER, ACK, DELIVERED and RECEIPT for that message. */
static int make_answers(struct cf_msg *m)
{
	struct kc_frame deliver = { .type = KC_T_DELIVER };
	struct kc_frame ack = { .type = KC_T_ACK };
	struct kc_frame delivered = { .type = KC_T_DELIVERED };
	struct kc_frame receipt = { .type = KC_T_RECEIPT };
	struct kc_bytes from = { (const uint8_t *)CF_SENDER_ID,
				 strlen(CF_SENDER_ID) };
	struct kc_bytes to = { (const uint8_t *)CF_RECIPIENT_ID,
			       strlen(CF_RECIPIENT_ID) };
	int ret;

	deliver.u.deliver = (struct kc_deliver){ from,
						 m->msg_id,
						 (uint64_t)time(NULL) * 1000,
						 { m->inner.p, m->inner.len } };
	ack.u.ack = (struct kc_ack){ m->sid, 1, m->msg_id, KC_OK };
	delivered.u.delivered.msg_id = m->msg_id;
	receipt.u.receipt = (struct kc_receipt){ m->msg_id, to };
	ret = encode_frame(&deliver, cf_deliver_frame_len(m->size, from.len),
			   &m->deliver);
	if (!ret)
		ret = encode_frame(&ack, cf_ack_frame_len(), &m->ack);
	if (!ret)
		ret = encode_frame(&delivered, cf_delivered_frame_len(),
				   &m->delivered);
	if (!ret)
		ret = encode_frame(&receipt, cf_receipt_frame_len(to.len),
				   &m->receipt);
	return ret;
}

/* A frame from a client, sealed once by the client's end of the link. */
static int make_inbound(const struct cf_buf *frame, struct cf_tls_dir *opener,
			struct cf_buf *wire)
{
	struct cf_tls_dir client;
	int ret;

	ret = cf_tls_link(&client, opener);
	if (!ret)
		ret = buf_alloc(wire, cf_tls_wire_len(frame->len));
	if (!ret)
		ret = cf_tls_seal(&client, frame, wire->p);
	cf_tls_dir_free(&client);
	return ret;
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* The four TLS directions and the scratch the rounds use. */
static int make_tls(struct cf_msg *m)
{
	size_t out_max;
	int ret;

	ret = make_inbound(&m->send, &m->from_sender, &m->send_wire);
	if (!ret)
		ret = make_inbound(&m->delivered, &m->from_recipient,
				   &m->delivered_wire);
	if (!ret)
		ret = cf_tls_link(&m->to_sender, NULL);
	if (!ret)
		ret = cf_tls_link(&m->to_recipient, NULL);
	if (ret)
		return ret;
	/* The SEND is the largest thing opened, DELIVER the largest sealed. */
	out_max =
		max_size(m->deliver.len, max_size(m->ack.len, m->receipt.len));
	ret = buf_alloc(&m->pt, max_size(m->send.len, m->delivered.len) +
					CF_TLS_INNER_TYPE_LEN);
	if (!ret)
		ret = buf_alloc(&m->out, cf_tls_wire_len(out_max));
	return ret;
}

void cf_msg_free(struct cf_msg *m)
{
	if (m->crypto) {
		if (m->outer != KC_HANDLE_NONE)
			kc_session_drop(m->crypto, m->outer);
		if (m->e2e != KC_HANDLE_NONE)
			kc_session_drop(m->crypto, m->e2e);
	}
	buf_free(&m->inner);
	buf_free(&m->send);
	buf_free(&m->deliver);
	buf_free(&m->ack);
	buf_free(&m->delivered);
	buf_free(&m->receipt);
	buf_free(&m->send_wire);
	buf_free(&m->delivered_wire);
	buf_free(&m->pt);
	buf_free(&m->out);
	cf_tls_dir_free(&m->from_sender);
	cf_tls_dir_free(&m->to_sender);
	cf_tls_dir_free(&m->from_recipient);
	cf_tls_dir_free(&m->to_recipient);
}

static int install_session(struct kc_crypto *c, uint8_t sid[KC_SID_LEN],
			   kc_handle_t *h)
{
	uint8_t k[KC_KEY_LEN];
	int ret;

	kc_random(sid, KC_SID_LEN);
	kc_random(k, sizeof(k));
	ret = kc_session_install(c, sid, k, h);
	explicit_bzero(k, sizeof(k));
	return ret;
}

int cf_msg_init(struct cf_msg *m, struct kc_crypto *c, size_t size)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->size = size;
	m->crypto = c;
	m->outer = m->e2e = KC_HANDLE_NONE;
	kc_random(m->msg_id, sizeof(m->msg_id));
	ret = install_session(c, m->sid, &m->outer);
	if (!ret)
		ret = install_session(c, m->e2e_sid, &m->e2e);
	if (!ret)
		ret = make_inner(m);
	if (!ret)
		ret = make_send(m);
	if (!ret)
		ret = make_answers(m);
	if (!ret)
		ret = make_tls(m);
	if (ret)
		cf_msg_free(m);
	return ret;
}
