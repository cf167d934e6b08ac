// SPDX-License-Identifier: GPL-2.0-only
/*
 * Wire codec tests, PROTOCOL.md sections 3-5.
 *
 * frame.*: every frame type (one variant each, plus empty-field variants)
 * round trips, and every damaged copy of it (each truncation, trailing
 * bytes, a buffer one byte short) is refused with the exact status.
 * record.*: the same for the SEND plaintext and the inner records.
 * kat_*: encoder output against byte strings written out by hand from the
 * PROTOCOL.md tables, so a layout mistake cannot hide behind a symmetric
 * encoder/decoder pair. Damaged copies live in buffers of their exact size
 * so that ASan sees any read past the end.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "wire/wire.h"

#define MAX_FRAME KC_MAX_FRAME_DEFAULT
#define BYTES(s) { (const uint8_t *)(s), sizeof(s) - 1 }

static const uint8_t sid_a[KC_SID_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static const uint8_t msg_id_a[KC_MSGID_LEN] = {
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};
static const uint8_t iv_a[KC_IV_LEN] = {
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
};
static const uint8_t mac_a[KC_MAC_LEN] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
	0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
};
static const uint8_t wrapped_a[KC_RSA_LEN] = { [0 ... KC_RSA_LEN - 1] = 0xa5 };
static const uint8_t sig_a[KC_RSA_LEN] = { [0 ... KC_RSA_LEN - 1] = 0x5a };

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* A heap copy of the first len bytes in a buffer of exactly `size` bytes. */
static uint8_t *exact_copy(const uint8_t *p, size_t len, size_t size)
{
	uint8_t *c = malloc(size ? size : 1);

	if (c) {
		memset(c, 0, size);
		memcpy(c, p, len < size ? len : size);
	}
	return c;
}

static bool same_bytes(struct kc_bytes a, struct kc_bytes b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

#define SAME(m) same_bytes(a->u.m, b->u.m)
#define SAME_FIX(m, n) (!memcmp(a->u.m, b->u.m, n))
#define SAME_INT(m) (a->u.m == b->u.m)

static bool frames_equal(const struct kc_frame *a, const struct kc_frame *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case KC_T_REGISTER:
		return SAME(reg.token) && SAME(reg.client_id) &&
		       SAME(reg.id_spki) && SAME(reg.enc_spki) &&
		       SAME(reg.enc_sig);
	case KC_T_LOOKUP:
		return SAME(lookup.client_id);
	case KC_T_OPEN_SESSION:
		return SAME_FIX(open.sid, KC_SID_LEN) &&
		       SAME_FIX(open.wrapped, KC_RSA_LEN);
	case KC_T_SEND:
		return SAME_FIX(send.sid, KC_SID_LEN) && SAME_INT(send.seq) &&
		       SAME_FIX(send.iv, KC_IV_LEN) && SAME(send.ct) &&
		       SAME_FIX(send.mac, KC_MAC_LEN);
	case KC_T_DELIVERED:
		return SAME_FIX(delivered.msg_id, KC_MSGID_LEN);
	case KC_T_PING:
	case KC_T_PONG:
		return SAME_INT(ping.nonce);
	case KC_T_GET_SEAL:
		return true;
	case KC_T_REGISTERED:
		return SAME(registered.client_cert) &&
		       SAME(registered.ca_cert) && SAME(registered.seal_cert);
	case KC_T_KEYS:
		return SAME(keys.client_id) && SAME(keys.id_cert) &&
		       SAME(keys.enc_spki) && SAME(keys.enc_sig);
	case KC_T_SESSION:
		return SAME_FIX(session.sid, KC_SID_LEN) &&
		       SAME_INT(session.ttl_s);
	case KC_T_ACK:
		return SAME_FIX(ack.sid, KC_SID_LEN) && SAME_INT(ack.seq) &&
		       SAME_FIX(ack.msg_id, KC_MSGID_LEN) &&
		       SAME_INT(ack.status);
	case KC_T_DELIVER:
		return SAME(deliver.from) &&
		       SAME_FIX(deliver.msg_id, KC_MSGID_LEN) &&
		       SAME_INT(deliver.stored_at_ms) && SAME(deliver.inner);
	case KC_T_RECEIPT:
		return SAME_FIX(receipt.msg_id, KC_MSGID_LEN) &&
		       SAME(receipt.recipient);
	case KC_T_SEAL:
		return SAME(seal.seal_cert);
	case KC_T_ERROR:
		return SAME_INT(error.code) && SAME(error.text);
	}
	return false;
}

/* ---- frames: one variant per frame type ---- */

FIXTURE(frame) {
	uint8_t *buf;
	size_t len;
};

FIXTURE_VARIANT(frame) {
	struct kc_frame f;
};

FIXTURE_VARIANT_ADD(frame, register) {
	.f = { .type = KC_T_REGISTER,
	       .u.reg = { BYTES("tok-0123"), BYTES("alice"), BYTES("id-spki"),
			  BYTES("enc-spki"), BYTES("enc-sig") } },
};
FIXTURE_VARIANT_ADD(frame, register_empty) {
	.f = { .type = KC_T_REGISTER },
};
FIXTURE_VARIANT_ADD(frame, lookup) {
	.f = { .type = KC_T_LOOKUP, .u.lookup = { BYTES("bob") } },
};
FIXTURE_VARIANT_ADD(frame, open_session) {
	.f = { .type = KC_T_OPEN_SESSION, .u.open = { sid_a, wrapped_a } },
};
FIXTURE_VARIANT_ADD(frame, send) {
	.f = { .type = KC_T_SEND,
	       .u.send = { sid_a, 7, iv_a, BYTES("0123456789abcdef"),
			   mac_a } },
};
FIXTURE_VARIANT_ADD(frame, send_empty_ct) {
	.f = { .type = KC_T_SEND,
	       .u.send = { sid_a, 1, iv_a, { NULL, 0 }, mac_a } },
};
FIXTURE_VARIANT_ADD(frame, delivered) {
	.f = { .type = KC_T_DELIVERED, .u.delivered = { msg_id_a } },
};
FIXTURE_VARIANT_ADD(frame, ping) {
	.f = { .type = KC_T_PING, .u.ping = { 0x0123456789abcdefull } },
};
FIXTURE_VARIANT_ADD(frame, get_seal) {
	.f = { .type = KC_T_GET_SEAL },
};
FIXTURE_VARIANT_ADD(frame, registered) {
	.f = { .type = KC_T_REGISTERED,
	       .u.registered = { BYTES("client-cert"), BYTES("ca-cert"),
				 BYTES("seal-cert") } },
};
FIXTURE_VARIANT_ADD(frame, keys) {
	.f = { .type = KC_T_KEYS,
	       .u.keys = { BYTES("bob"), BYTES("id-cert"), BYTES("enc-spki"),
			   BYTES("enc-sig") } },
};
FIXTURE_VARIANT_ADD(frame, session) {
	.f = { .type = KC_T_SESSION, .u.session = { sid_a, 3600 } },
};
FIXTURE_VARIANT_ADD(frame, ack) {
	.f = { .type = KC_T_ACK,
	       .u.ack = { sid_a, UINT64_MAX, msg_id_a, KC_REPLAY } },
};
FIXTURE_VARIANT_ADD(frame, deliver) {
	.f = { .type = KC_T_DELIVER,
	       .u.deliver = { BYTES("alice"), msg_id_a, 1700000000000ull,
			      BYTES("\002inner") } },
};
FIXTURE_VARIANT_ADD(frame, receipt) {
	.f = { .type = KC_T_RECEIPT, .u.receipt = { msg_id_a, BYTES("bob") } },
};
FIXTURE_VARIANT_ADD(frame, pong) {
	.f = { .type = KC_T_PONG, .u.ping = { 42 } },
};
FIXTURE_VARIANT_ADD(frame, seal) {
	.f = { .type = KC_T_SEAL, .u.seal = { BYTES("seal-cert") } },
};
FIXTURE_VARIANT_ADD(frame, error) {
	.f = { .type = KC_T_ERROR,
	       .u.error = { KC_UNAUTHORIZED, BYTES("not registered") } },
};
FIXTURE_VARIANT_ADD(frame, error_empty) {
	.f = { .type = KC_T_ERROR, .u.error = { KC_OK, { NULL, 0 } } },
};

FIXTURE_SETUP(frame)
{
	size_t size = kc_frame_size(&variant->f);

	ASSERT_LT(KC_FRAME_HDR_LEN - 1, size);
	self->buf = malloc(size);
	ASSERT_NE(NULL, self->buf);
	self->len = kc_frame_encode(&variant->f, self->buf, size);
	ASSERT_EQ(size, self->len);
}

FIXTURE_TEARDOWN(frame)
{
	free(self->buf);
}

TEST_F(frame, header)
{
	uint32_t len_field = (uint32_t)self->buf[0] << 24 |
			     self->buf[1] << 16 | self->buf[2] << 8 |
			     self->buf[3];

	EXPECT_EQ(self->len - 4, len_field);
	EXPECT_EQ(variant->f.type, self->buf[4]);
}

TEST_F(frame, round_trip)
{
	struct kc_frame out;
	uint8_t *again;

	ASSERT_EQ((long)self->len, kc_frame_peek(self->buf, self->len,
						 MAX_FRAME));
	ASSERT_EQ(0, kc_frame_decode(self->buf, self->len, &out));
	ASSERT_TRUE(frames_equal(&variant->f, &out));
	again = malloc(self->len);
	ASSERT_NE(NULL, again);
	EXPECT_EQ(self->len, kc_frame_size(&out));
	EXPECT_EQ(self->len, kc_frame_encode(&out, again, self->len));
	EXPECT_EQ(0, memcmp(self->buf, again, self->len));
	free(again);
}

TEST_F(frame, peek_in_stream)
{
	uint8_t *stream = exact_copy(self->buf, self->len, self->len + 3);

	/* The start of the next frame must not change the answer. */
	ASSERT_NE(NULL, stream);
	EXPECT_EQ((long)self->len,
		  kc_frame_peek(stream, self->len + 3, MAX_FRAME));
	EXPECT_EQ(-KC_TOO_LARGE,
		  kc_frame_peek(stream, self->len + 3, self->len - 5));
	free(stream);
}

TEST_F(frame, every_prefix_needs_more)
{
	size_t k;

	for (k = 0; k < self->len; k++) {
		uint8_t *cut = exact_copy(self->buf, k, k);

		ASSERT_NE(NULL, cut);
		EXPECT_EQ(0, kc_frame_peek(cut, k, MAX_FRAME))
			TH_LOG("prefix of %zu bytes", k);
		free(cut);
	}
}

TEST_F(frame, every_truncation_is_bad_frame)
{
	struct kc_frame out;
	size_t k;

	for (k = 0; k < self->len; k++) {
		uint8_t *cut = exact_copy(self->buf, k, k);

		ASSERT_NE(NULL, cut);
		/* Untouched len field: disagrees with the buffer. */
		EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(cut, k, &out))
			TH_LOG("prefix of %zu bytes", k);
		/* len field shortened to match: the body is short. */
		if (k >= 4)
			put_be32(cut, k - 4);
		EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(cut, k, &out))
			TH_LOG("prefix of %zu bytes, len fixed up", k);
		if (k >= KC_FRAME_HDR_LEN)
			EXPECT_EQ(variant->f.type, out.type);
		free(cut);
	}
}

TEST_F(frame, trailing_bytes_are_bad_frame)
{
	struct kc_frame out;
	size_t extra;

	for (extra = 1; extra <= 3; extra++) {
		size_t len = self->len + extra;
		uint8_t *big = exact_copy(self->buf, self->len, len);

		ASSERT_NE(NULL, big);
		put_be32(big, len - 4);
		EXPECT_EQ((long)len, kc_frame_peek(big, len, MAX_FRAME));
		EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(big, len, &out))
			TH_LOG("%zu trailing bytes", extra);
		EXPECT_EQ(variant->f.type, out.type);
		free(big);
	}
}

TEST_F(frame, encode_into_short_buffer)
{
	uint8_t *out = malloc(self->len);
	size_t cap, i;

	ASSERT_NE(NULL, out);
	for (cap = 0; cap < self->len; cap++) {
		memset(out, 0xee, self->len);
		EXPECT_EQ(0, kc_frame_encode(&variant->f, out, cap))
			TH_LOG("capacity %zu", cap);
		for (i = cap; i < self->len; i++)
			ASSERT_EQ(0xee, out[i]) TH_LOG("wrote past %zu", cap);
	}
	free(out);
}

/* ---- frame headers and types ---- */

/* The offset the agent patches an ACK's status at is where it is encoded. */
TEST(ack_status_offset_from_layout)
{
	struct kc_frame f = { .type = KC_T_ACK,
			      .u.ack = { sid_a, 7, msg_id_a, 0xbeef } };
	size_t member = offsetof(struct kc_frame, u.ack.status);
	uint8_t buf[128];
	size_t len = kc_frame_encode(&f, buf, sizeof(buf));
	long off = kc_frame_field_offset(&f, member);

	ASSERT_EQ(KC_FRAME_HDR_LEN + KC_SID_LEN + 8 + KC_MSGID_LEN, off);
	ASSERT_EQ(off + 2, len);
	EXPECT_EQ(0xbe, buf[off]);
	EXPECT_EQ(0xef, buf[off + 1]);
}

/* Fields after a str move with its length; a member not in the type is -1. */
TEST(field_offset_after_str_and_missing)
{
	struct kc_frame f = { .type = KC_T_DELIVER,
			      .u.deliver = { BYTES("alice"), msg_id_a, 1,
					     BYTES("x") } };
	struct kc_frame ping = { .type = KC_T_PING, .u.ping = { 1 } };

	EXPECT_EQ(KC_FRAME_HDR_LEN + 2 + 5,
		  kc_frame_field_offset(
			  &f, offsetof(struct kc_frame, u.deliver.msg_id)));
	EXPECT_EQ(-1, kc_frame_field_offset(
			      &ping, offsetof(struct kc_frame, u.ack.status)));
}

TEST(peek_len_zero_is_bad_frame)
{
	const uint8_t hdr[] = { 0, 0, 0, 0, KC_T_PING, 1, 2, 3 };

	EXPECT_EQ(-KC_BAD_FRAME, kc_frame_peek(hdr, 4, MAX_FRAME));
	EXPECT_EQ(-KC_BAD_FRAME, kc_frame_peek(hdr, sizeof(hdr), MAX_FRAME));
}

TEST(peek_too_large_from_header_alone)
{
	uint8_t hdr[4];

	put_be32(hdr, MAX_FRAME + 1);
	EXPECT_EQ(-KC_TOO_LARGE, kc_frame_peek(hdr, 4, MAX_FRAME));
	put_be32(hdr, 0xffffffff);
	EXPECT_EQ(-KC_TOO_LARGE, kc_frame_peek(hdr, 4, MAX_FRAME));
	/* At the limit the frame is fine and just not all here yet. */
	put_be32(hdr, MAX_FRAME);
	EXPECT_EQ(0, kc_frame_peek(hdr, 4, MAX_FRAME));
	put_be32(hdr, 0xffffffff);
	EXPECT_EQ(0, kc_frame_peek(hdr, 4, UINT32_MAX));
}

TEST(peek_needs_four_header_bytes)
{
	const uint8_t hdr[] = { 0xff, 0xff, 0xff };
	size_t k;

	for (k = 0; k <= sizeof(hdr); k++)
		EXPECT_EQ(0, kc_frame_peek(hdr, k, MAX_FRAME));
}

TEST(decode_len_field_mismatch)
{
	uint8_t f[] = { 0, 0, 0, 9, KC_T_PING, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct kc_frame out;

	ASSERT_EQ(0, kc_frame_decode(f, sizeof(f), &out));
	EXPECT_EQ(1, out.u.ping.nonce);
	f[3] = 10;
	EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(f, sizeof(f), &out));
	f[3] = 8;
	EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(f, sizeof(f), &out));
}

static bool known_type(unsigned int t)
{
	static const uint8_t known[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x81,
		0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x8f,
	};
	size_t i;

	for (i = 0; i < sizeof(known); i++)
		if (known[i] == t)
			return true;
	return false;
}

TEST(unknown_types)
{
	static const uint8_t listed[] = { 0x00, 0x07, 0x09, 0x7f,
					  0x80, 0x89, 0xff };
	uint8_t f[] = { 0, 0, 0, 4, 0, 'x', 'y', 'z' };
	struct kc_frame out;
	size_t i;

	for (i = 0; i < sizeof(listed); i++) {
		f[4] = listed[i];
		EXPECT_EQ(-KC_UNKNOWN_TYPE, kc_frame_decode(f, 5 + 3, &out));
		EXPECT_EQ(listed[i], out.type);
		put_be32(f, 1);
		EXPECT_EQ(-KC_UNKNOWN_TYPE, kc_frame_decode(f, 5, &out));
		put_be32(f, 4);
		out.type = listed[i];
		EXPECT_EQ(0, kc_frame_size(&out));
		EXPECT_EQ(0, kc_frame_encode(&out, f, sizeof(f)));
	}
}

/* All 256 type bytes with an empty body: only GET_SEAL's body is empty. */
TEST(every_type_with_empty_body)
{
	uint8_t f[] = { 0, 0, 0, 1, 0 };
	struct kc_frame out;
	unsigned int t;
	int want;

	for (t = 0; t < 256; t++) {
		f[4] = t;
		if (t == KC_T_GET_SEAL)
			want = 0;
		else
			want = known_type(t) ? -KC_BAD_FRAME : -KC_UNKNOWN_TYPE;
		EXPECT_EQ(want, kc_frame_decode(f, sizeof(f), &out))
			TH_LOG("type 0x%02x", t);
	}
}

/* A SEND frame whose blob length claims nearly 4 GiB. */
TEST(huge_lengths_inside_frames)
{
	static const uint32_t huge[] = { 0xffffffff, 0xfffffff0, 0x80000000,
					 MAX_FRAME };
	struct kc_frame f = { .type = KC_T_SEND,
			      .u.send = { sid_a, 1, iv_a, BYTES("ct"), mac_a } };
	const size_t ct_len_at = 4 + 1 + 16 + 8 + 16;
	struct kc_frame out;
	uint8_t buf[128];
	size_t len, i;

	len = kc_frame_encode(&f, buf, sizeof(buf));
	ASSERT_NE(0, len);
	for (i = 0; i < ARRAY_SIZE(huge); i++) {
		uint8_t *bad = exact_copy(buf, len, len);

		ASSERT_NE(NULL, bad);
		put_be32(bad + ct_len_at, huge[i]);
		EXPECT_EQ((long)len, kc_frame_peek(bad, len, MAX_FRAME));
		EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(bad, len, &out));
		free(bad);
	}
}

TEST(huge_str_length_inside_frame)
{
	uint8_t f[] = { 0, 0, 0, 6, KC_T_LOOKUP, 0xff, 0xff, 'b', 'o', 'b' };
	struct kc_frame out;

	EXPECT_EQ(-KC_BAD_FRAME, kc_frame_decode(f, sizeof(f), &out));
	f[5] = 0;
	f[6] = 3;
	EXPECT_EQ(0, kc_frame_decode(f, sizeof(f), &out));
}

/* ---- SEND plaintext and inner records ---- */

struct record {
	bool plain; /* kc_send_plain rather than kc_inner */
	struct kc_inner in;
	struct kc_send_plain sp;
};

static size_t record_size(const struct record *r)
{
	return r->plain ? kc_send_plain_size(&r->sp) : kc_inner_size(&r->in);
}

static size_t record_encode(const struct record *r, uint8_t *out, size_t cap)
{
	if (r->plain)
		return kc_send_plain_encode(&r->sp, out, cap);
	return kc_inner_encode(&r->in, out, cap);
}

static int record_decode(bool plain, const uint8_t *p, size_t len,
			 struct record *out)
{
	out->plain = plain;
	if (plain)
		return kc_send_plain_decode(p, len, &out->sp);
	return kc_inner_decode(p, len, &out->in);
}

static bool records_equal(const struct record *x, const struct record *y)
{
	const struct kc_session_init *a = &x->in.u.init, *b = &y->in.u.init;
	const struct kc_e2e_message *m = &x->in.u.msg, *n = &y->in.u.msg;

	if (x->plain)
		return same_bytes(x->sp.to, y->sp.to) &&
		       !memcmp(x->sp.msg_id, y->sp.msg_id, KC_MSGID_LEN) &&
		       x->sp.counter == y->sp.counter &&
		       x->sp.flags == y->sp.flags &&
		       same_bytes(x->sp.inner, y->sp.inner);
	if (x->in.kind != y->in.kind)
		return false;
	if (x->in.kind == KC_INNER_SESSION_INIT)
		return !memcmp(a->sid, b->sid, KC_SID_LEN) &&
		       same_bytes(a->sender, b->sender) &&
		       same_bytes(a->recipient, b->recipient) &&
		       a->created_ms == b->created_ms &&
		       !memcmp(a->wrapped, b->wrapped, KC_RSA_LEN) &&
		       !memcmp(a->sig, b->sig, KC_RSA_LEN);
	return !memcmp(m->sid, n->sid, KC_SID_LEN) && m->seq == n->seq &&
	       !memcmp(m->iv, n->iv, KC_IV_LEN) && same_bytes(m->ct, n->ct) &&
	       !memcmp(m->mac, n->mac, KC_MAC_LEN);
}

FIXTURE(record) {
	uint8_t *buf;
	size_t len;
};

FIXTURE_VARIANT(record) {
	struct record r;
};

FIXTURE_VARIANT_ADD(record, session_init) {
	.r.in = { .kind = KC_INNER_SESSION_INIT,
		  .u.init = { sid_a, BYTES("alice"), BYTES("bob"),
			      1700000000123ull, wrapped_a, sig_a } },
};
FIXTURE_VARIANT_ADD(record, message) {
	.r.in = { .kind = KC_INNER_MESSAGE,
		  .u.msg = { sid_a, 3, iv_a, BYTES("0123456789abcdef"),
			     mac_a } },
};
FIXTURE_VARIANT_ADD(record, message_empty_ct) {
	.r.in = { .kind = KC_INNER_MESSAGE,
		  .u.msg = { sid_a, 1, iv_a, { NULL, 0 }, mac_a } },
};
FIXTURE_VARIANT_ADD(record, send_plain) {
	.r = { .plain = true,
	       .sp = { BYTES("bob"), msg_id_a, 0x0102030405060708ull, 0,
		       BYTES("\002inner record") } },
};
FIXTURE_VARIANT_ADD(record, send_plain_no_receipt) {
	.r = { .plain = true,
	       .sp = { BYTES("bob"), msg_id_a, 1, KC_SEND_NO_RECEIPT,
		       BYTES("\001init") } },
};
FIXTURE_VARIANT_ADD(record, send_plain_last_counter) {
	.r = { .plain = true,
	       .sp = { BYTES("bob"), msg_id_a, UINT64_MAX, 0, BYTES("x") } },
};
FIXTURE_VARIANT_ADD(record, send_plain_empty) {
	.r = { .plain = true,
	       .sp = { { NULL, 0 }, msg_id_a, 1, 0, { NULL, 0 } } },
};

FIXTURE_SETUP(record)
{
	size_t size = record_size(&variant->r);

	ASSERT_NE(0, size);
	self->buf = malloc(size);
	ASSERT_NE(NULL, self->buf);
	self->len = record_encode(&variant->r, self->buf, size);
	ASSERT_EQ(size, self->len);
}

FIXTURE_TEARDOWN(record)
{
	free(self->buf);
}

TEST_F(record, round_trip)
{
	struct record out;
	uint8_t *again = malloc(self->len);

	ASSERT_NE(NULL, again);
	ASSERT_EQ(0, record_decode(variant->r.plain, self->buf, self->len,
				   &out));
	ASSERT_TRUE(records_equal(&variant->r, &out));
	EXPECT_EQ(self->len, record_size(&out));
	EXPECT_EQ(self->len, record_encode(&out, again, self->len));
	EXPECT_EQ(0, memcmp(self->buf, again, self->len));
	free(again);
}

TEST_F(record, every_truncation_is_bad_frame)
{
	struct record out;
	size_t k;

	for (k = 0; k < self->len; k++) {
		uint8_t *cut = exact_copy(self->buf, k, k);

		ASSERT_NE(NULL, cut);
		EXPECT_EQ(-KC_BAD_FRAME,
			  record_decode(variant->r.plain, cut, k, &out))
			TH_LOG("prefix of %zu bytes", k);
		free(cut);
	}
}

TEST_F(record, trailing_bytes_are_bad_frame)
{
	struct record out;
	size_t extra;

	for (extra = 1; extra <= 3; extra++) {
		size_t len = self->len + extra;
		uint8_t *big = exact_copy(self->buf, self->len, len);

		ASSERT_NE(NULL, big);
		EXPECT_EQ(-KC_BAD_FRAME,
			  record_decode(variant->r.plain, big, len, &out))
			TH_LOG("%zu trailing bytes", extra);
		free(big);
	}
}

TEST_F(record, encode_into_short_buffer)
{
	uint8_t *out = malloc(self->len);
	size_t cap;

	ASSERT_NE(NULL, out);
	for (cap = 0; cap < self->len; cap++)
		EXPECT_EQ(0, record_encode(&variant->r, out, cap))
			TH_LOG("capacity %zu", cap);
	free(out);
}

TEST(unknown_inner_kinds)
{
	static const uint8_t kinds[] = { 0x00, 0x03, 0x7f, 0x80, 0xff };
	uint8_t rec[] = { 0, 'x', 'y' };
	struct kc_inner out;
	size_t i;

	EXPECT_EQ(-KC_BAD_FRAME, kc_inner_decode(rec, 0, &out));
	for (i = 0; i < sizeof(kinds); i++) {
		rec[0] = kinds[i];
		EXPECT_EQ(-KC_UNKNOWN_TYPE, kc_inner_decode(rec, 1, &out));
		EXPECT_EQ(-KC_UNKNOWN_TYPE,
			  kc_inner_decode(rec, sizeof(rec), &out));
		EXPECT_EQ(kinds[i], out.kind);
		EXPECT_EQ(0, kc_inner_size(&out));
		EXPECT_EQ(0, kc_inner_encode(&out, rec, sizeof(rec)));
	}
}

TEST(huge_lengths_inside_records)
{
	struct kc_send_plain sp = { BYTES("bob"), msg_id_a, 9, 0, BYTES("in") };
	struct kc_inner in = { .kind = KC_INNER_MESSAGE,
			       .u.msg = { sid_a, 1, iv_a, BYTES("c"), mac_a } };
	const size_t inner_len_at = 2 + 3 + 16 + 8 + 1;
	const size_t ct_len_at = 1 + 16 + 8 + 16;
	struct kc_send_plain sp_out;
	struct kc_inner in_out;
	uint8_t a[64], b[128];
	size_t alen, blen;

	alen = kc_send_plain_encode(&sp, a, sizeof(a));
	blen = kc_inner_encode(&in, b, sizeof(b));
	ASSERT_NE(0, alen);
	ASSERT_NE(0, blen);
	put_be32(a + inner_len_at, 0xffffffff);
	put_be32(b + ct_len_at, 0xfffffff0);
	EXPECT_EQ(-KC_BAD_FRAME, kc_send_plain_decode(a, alen, &sp_out));
	EXPECT_EQ(-KC_BAD_FRAME, kc_inner_decode(b, blen, &in_out));
	a[0] = a[1] = 0xff; /* str length 65535 with 3 bytes present */
	EXPECT_EQ(-KC_BAD_FRAME, kc_send_plain_decode(a, alen, &sp_out));
}

/*
 * Counter and flags are checked by the codec itself: counter 0 and every
 * flag byte but 0x00 and 0x01 (KC_SEND_NO_RECEIPT) fail to decode, in a
 * record that is otherwise exact, and the encoder will not write them.
 */
static const uint8_t plain_tail[] = { 0x00, 0x00, 0x00, 0x01, 0x02 };
#define PLAIN_COUNTER_AT (2 + 3 + KC_MSGID_LEN)
#define PLAIN_FLAGS_AT (PLAIN_COUNTER_AT + 8)
#define PLAIN_LEN (PLAIN_FLAGS_AT + 1 + sizeof(plain_tail))

static void plain_with(uint8_t out[PLAIN_LEN], uint64_t counter,
		       uint8_t flags)
{
	size_t i;

	memcpy(out, "\x00\x03" "bob", 5);
	memcpy(out + 5, msg_id_a, KC_MSGID_LEN);
	for (i = 0; i < 8; i++)
		out[PLAIN_COUNTER_AT + i] = (uint8_t)(counter >> (56 - 8 * i));
	out[PLAIN_FLAGS_AT] = flags;
	memcpy(out + PLAIN_FLAGS_AT + 1, plain_tail, sizeof(plain_tail));
}

TEST(send_plain_counter_zero_is_bad_frame)
{
	uint8_t *p = malloc(PLAIN_LEN);
	struct kc_send_plain out;

	ASSERT_NE(NULL, p);
	plain_with(p, 1, 0);
	ASSERT_EQ(0, kc_send_plain_decode(p, PLAIN_LEN, &out));
	EXPECT_EQ(1, out.counter);
	plain_with(p, 0, 0);
	EXPECT_EQ(-KC_BAD_FRAME, kc_send_plain_decode(p, PLAIN_LEN, &out));
	plain_with(p, 0, KC_SEND_NO_RECEIPT);
	EXPECT_EQ(-KC_BAD_FRAME, kc_send_plain_decode(p, PLAIN_LEN, &out));
	/* Only a zero in all eight bytes is zero. */
	plain_with(p, 1ull << 63, 0);
	EXPECT_EQ(0, kc_send_plain_decode(p, PLAIN_LEN, &out));
	EXPECT_EQ(1ull << 63, out.counter);
	free(p);
}

TEST(send_plain_every_flag_byte)
{
	uint8_t *p = malloc(PLAIN_LEN);
	struct kc_send_plain out;
	unsigned int flags;

	ASSERT_NE(NULL, p);
	for (flags = 0; flags < 256; flags++) {
		plain_with(p, 7, (uint8_t)flags);
		if (flags <= KC_SEND_NO_RECEIPT) {
			ASSERT_EQ(0, kc_send_plain_decode(p, PLAIN_LEN, &out));
			EXPECT_EQ(flags, out.flags);
			EXPECT_EQ(7, out.counter);
		} else {
			EXPECT_EQ(-KC_BAD_FRAME,
				  kc_send_plain_decode(p, PLAIN_LEN, &out))
				TH_LOG("flags 0x%02x", flags);
		}
	}
	free(p);
}

TEST(send_plain_encoder_refuses_what_decoding_refuses)
{
	struct kc_send_plain sp = { BYTES("bob"), msg_id_a, 0, 0, BYTES("x") };
	uint8_t buf[64];
	unsigned int flags;
	size_t i;

	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(0, kc_send_plain_size(&sp));
	EXPECT_EQ(0, kc_send_plain_encode(&sp, buf, sizeof(buf)));
	sp.counter = 1;
	for (flags = KC_SEND_NO_RECEIPT + 1; flags < 256; flags++) {
		sp.flags = (uint8_t)flags;
		EXPECT_EQ(0, kc_send_plain_size(&sp)) TH_LOG("0x%02x", flags);
		EXPECT_EQ(0, kc_send_plain_encode(&sp, buf, sizeof(buf)))
			TH_LOG("flags 0x%02x", flags);
	}
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(0xee, buf[i]) TH_LOG("byte %zu written", i);
}

/* ---- encoder limits ---- */

TEST(str_length_limit)
{
	uint8_t *id = calloc(1, 65536), *buf = malloc(4 + 1 + 2 + 65536);
	struct kc_frame f = { .type = KC_T_LOOKUP }, out;
	size_t len;

	ASSERT_NE(NULL, id);
	ASSERT_NE(NULL, buf);
	f.u.lookup.client_id = (struct kc_bytes){ id, 65535 };
	EXPECT_EQ(4 + 1 + 2 + 65535, kc_frame_size(&f));
	len = kc_frame_encode(&f, buf, 4 + 1 + 2 + 65536);
	ASSERT_EQ(4 + 1 + 2 + 65535, len);
	ASSERT_EQ(0, kc_frame_decode(buf, len, &out));
	EXPECT_EQ(65535, out.u.lookup.client_id.len);
	f.u.lookup.client_id.len = 65536;
	EXPECT_EQ(0, kc_frame_size(&f));
	EXPECT_EQ(0, kc_frame_encode(&f, buf, 4 + 1 + 2 + 65536));
	free(id);
	free(buf);
}

/*
 * Lengths past what the prefixes can carry are refused before a byte is
 * touched, so a small array can stand in for the claimed gigabytes.
 */
TEST(blob_and_frame_length_limits)
{
	struct kc_frame f = { .type = KC_T_SEND,
			      .u.send = { sid_a, 1, iv_a, BYTES("x"), mac_a } };
	struct kc_send_plain sp = { BYTES("bob"), msg_id_a, 1, 0, BYTES("x") };
	uint8_t buf[256];

	if (SIZE_MAX <= UINT32_MAX)
		SKIP(return, "size_t cannot hold a length above 2^32-1");
	f.u.send.ct.len = (size_t)UINT32_MAX + 1;
	EXPECT_EQ(0, kc_frame_size(&f));
	EXPECT_EQ(0, kc_frame_encode(&f, buf, sizeof(buf)));
	/* A legal blob that pushes the frame's own len past 2^32-1. */
	f.u.send.ct.len = UINT32_MAX - 8;
	EXPECT_EQ(0, kc_frame_size(&f));
	sp.inner.len = (size_t)UINT32_MAX + 1;
	EXPECT_EQ(0, kc_send_plain_size(&sp));
	EXPECT_EQ(0, kc_send_plain_encode(&sp, buf, sizeof(buf)));
}

TEST(missing_fields_are_refused)
{
	struct kc_frame f = { .type = KC_T_SEND,
			      .u.send = { NULL, 1, iv_a, BYTES("x"), mac_a } };
	struct kc_frame r = { .type = KC_T_REGISTER };
	uint8_t buf[256];

	EXPECT_EQ(0, kc_frame_size(&f));
	EXPECT_EQ(0, kc_frame_encode(&f, buf, sizeof(buf)));
	f.u.send.sid = sid_a;
	f.u.send.mac = NULL;
	EXPECT_EQ(0, kc_frame_encode(&f, buf, sizeof(buf)));
	/* An empty str may have no pointer; a non-empty one may not. */
	EXPECT_EQ(4 + 1 + 5 * 2, kc_frame_encode(&r, buf, sizeof(buf)));
	r.u.reg.enc_sig.len = 3;
	EXPECT_EQ(0, kc_frame_encode(&r, buf, sizeof(buf)));
	EXPECT_EQ(0, kc_frame_encode(&r, NULL, 0));
}

/* ---- known answers, written out from the PROTOCOL.md tables ---- */

#define SID_BYTES                                                        \
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, \
		0x0b, 0x0c, 0x0d, 0x0e, 0x0f
#define MSG_ID_BYTES                                                     \
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, \
		0x2b, 0x2c, 0x2d, 0x2e, 0x2f
#define IV_BYTES                                                         \
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, \
		0x3b, 0x3c, 0x3d, 0x3e, 0x3f

TEST(kat_send)
{
	/* u32 len || 0x04 || 16 sid || u64 seq || 16 iv || blob ct || 32 mac */
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x50, 0x04,
		SID_BYTES,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		IV_BYTES,
		0x00, 0x00, 0x00, 0x03, 0xc0, 0xc1, 0xc2,
		0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
		0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
		0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
		0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	};
	struct kc_frame f = { .type = KC_T_SEND,
			      .u.send = { sid_a, 0x0102030405060708ull, iv_a,
					  BYTES("\xc0\xc1\xc2"), mac_a } };
	struct kc_frame out;
	uint8_t buf[sizeof(want)];

	ASSERT_EQ(sizeof(want), kc_frame_encode(&f, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want)));
	ASSERT_EQ(0, kc_frame_decode(want, sizeof(want), &out));
	EXPECT_EQ(0x0102030405060708ull, out.u.send.seq);
	/* Zero-copy: views point into the frame at their wire offsets. */
	EXPECT_EQ(want + 5, out.u.send.sid);
	EXPECT_EQ(want + 29, out.u.send.iv);
	EXPECT_EQ(want + 49, out.u.send.ct.p);
	EXPECT_EQ(3, out.u.send.ct.len);
	EXPECT_EQ(want + 52, out.u.send.mac);
}

TEST(kat_send_plain)
{
	/* str to || 16 msg_id || u64 counter || u8 flags || blob inner */
	static const uint8_t want[] = {
		0x00, 0x03, 'b', 'o', 'b',
		MSG_ID_BYTES,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x01,
		0x00, 0x00, 0x00, 0x02, 0x02, 0xff,
	};
	struct kc_send_plain sp = { BYTES("bob"), msg_id_a,
				    0x0102030405060708ull, KC_SEND_NO_RECEIPT,
				    BYTES("\x02\xff") };
	struct kc_send_plain out;
	uint8_t buf[sizeof(want)];

	ASSERT_EQ(sizeof(want), kc_send_plain_size(&sp));
	ASSERT_EQ(sizeof(want), kc_send_plain_encode(&sp, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want)));
	ASSERT_EQ(0, kc_send_plain_decode(want, sizeof(want), &out));
	EXPECT_EQ(0x0102030405060708ull, out.counter);
	EXPECT_EQ(KC_SEND_NO_RECEIPT, out.flags);
	/* Zero-copy: views point into the record at their wire offsets. */
	EXPECT_EQ(want + 2, out.to.p);
	EXPECT_EQ(want + 5, out.msg_id);
	EXPECT_EQ(want + 34, out.inner.p);
	EXPECT_EQ(2, out.inner.len);
}

TEST(kat_ack)
{
	/* u32 len || 0x84 || 16 sid || u64 seq || 16 msg_id || u16 status */
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x2b, 0x84,
		SID_BYTES,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
		MSG_ID_BYTES,
		0x00, 0x04,
	};
	struct kc_frame f = { .type = KC_T_ACK,
			      .u.ack = { sid_a, 5, msg_id_a, KC_BAD_MAC } };
	struct kc_frame out;
	uint8_t buf[sizeof(want)];

	ASSERT_EQ(sizeof(want), kc_frame_encode(&f, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want)));
	ASSERT_EQ(0, kc_frame_decode(want, sizeof(want), &out));
	EXPECT_EQ(KC_BAD_MAC, out.u.ack.status);
	EXPECT_EQ(5, out.u.ack.seq);
}

TEST(kat_deliver)
{
	/* u32 len || 0x85 || str from || 16 msg_id || u64 stored || blob */
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x24, 0x85,
		0x00, 0x03, 'b', 'o', 'b',
		MSG_ID_BYTES,
		0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x02, 0xff,
	};
	struct kc_frame f = { .type = KC_T_DELIVER,
			      .u.deliver = { BYTES("bob"), msg_id_a,
					     1700000000000ull,
					     BYTES("\x02\xff") } };
	struct kc_frame out;
	uint8_t buf[sizeof(want)];

	ASSERT_EQ(sizeof(want), kc_frame_encode(&f, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want)));
	ASSERT_EQ(0, kc_frame_decode(want, sizeof(want), &out));
	EXPECT_EQ(1700000000000ull, out.u.deliver.stored_at_ms);
	EXPECT_EQ(want + 38, out.u.deliver.inner.p);
}

/*
 * u8 1 || 16 sid || str sender || str recipient || u64 created_ms ||
 * 256 wrapped || 256 sig, with the offsets spelled out.
 */
static const uint8_t want_init[546] = {
	0x01,
	SID_BYTES,
	0x00, 0x02, 'a', 'l',
	0x00, 0x03, 'b', 'o', 'b',
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,
	[34 ... 289] = 0xa5,
	[290 ... 545] = 0x5a,
};

static const struct kc_inner init_a = {
	.kind = KC_INNER_SESSION_INIT,
	.u.init = { sid_a, BYTES("al"), BYTES("bob"), 1700000000123ull,
		    wrapped_a, sig_a },
};

TEST(kat_session_init)
{
	struct kc_inner out;
	uint8_t buf[sizeof(want_init)];

	ASSERT_EQ(sizeof(buf), kc_inner_encode(&init_a, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(want_init, buf, sizeof(want_init)));
	ASSERT_EQ(0, kc_inner_decode(want_init, sizeof(want_init), &out));
	EXPECT_EQ(1700000000123ull, out.u.init.created_ms);
	EXPECT_EQ(want_init + 34, out.u.init.wrapped);
	EXPECT_EQ(want_init + 290, out.u.init.sig);
}

TEST(kat_e2e_init_sig_msg)
{
	static const char label[] = "kcourier/1 e2e-init";
	/* The label, then the record from sid up to and including wrapped. */
	const size_t want_len = sizeof(label) - 1 + 289;
	uint8_t buf[400];

	ASSERT_EQ(want_len, kc_e2e_init_sig_msg(buf, sizeof(buf),
						&init_a.u.init));
	EXPECT_EQ(0, memcmp(buf, label, sizeof(label) - 1));
	EXPECT_EQ(0, memcmp(buf + sizeof(label) - 1, want_init + 1, 289));
	EXPECT_EQ(want_len, kc_e2e_init_sig_msg(NULL, 0, &init_a.u.init));
	EXPECT_EQ(0, kc_e2e_init_sig_msg(buf, want_len - 1, &init_a.u.init));
}

TEST(kat_enc_sig_msg)
{
	static const uint8_t want[] = "kcourier/1 enc-key"
				      "\x00\x05" "alice"
				      "\x00\x04" "\xde\xad\xbe\xef";
	struct kc_bytes id = BYTES("alice"), spki = BYTES("\xde\xad\xbe\xef");
	uint8_t buf[64];

	ASSERT_EQ(sizeof(want) - 1, kc_enc_sig_msg(buf, sizeof(buf), id, spki));
	EXPECT_EQ(0, memcmp(want, buf, sizeof(want) - 1));
	EXPECT_EQ(sizeof(want) - 1, kc_enc_sig_msg(NULL, 0, id, spki));
	EXPECT_EQ(0, kc_enc_sig_msg(buf, sizeof(want) - 2, id, spki));
}

TEST(kat_seq_aad)
{
	static const uint8_t tail[] = {
		SID_BYTES,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		IV_BYTES,
		0x00, 0x01, 0x00, 0x30,
	};
	uint8_t buf[KC_SEQ_AAD_MAX];

	ASSERT_EQ(15 + sizeof(tail), kc_seq_aad(buf, KC_LABEL_SEND, sid_a,
						256, iv_a, 0x10030));
	EXPECT_EQ(0, memcmp(buf, "kcourier/1 send", 15));
	EXPECT_EQ(0, memcmp(buf + 15, tail, sizeof(tail)));
	ASSERT_EQ(14 + sizeof(tail), kc_seq_aad(buf, KC_LABEL_E2E, sid_a,
						256, iv_a, 0x10030));
	EXPECT_EQ(0, memcmp(buf, "kcourier/1 e2e", 14));
	EXPECT_EQ(0, memcmp(buf + 14, tail, sizeof(tail)));
	EXPECT_EQ(0, kc_seq_aad(buf, "a label longer than thirty-two bytes",
				sid_a, 1, iv_a, 16));
}

/* ---- client id grammar ---- */

static int id_valid(const char *s)
{
	return kc_client_id_valid((const uint8_t *)s, strlen(s));
}

TEST(client_id_grammar)
{
	static const char *const good[] = {
		"a", "0", "a.b-c_d", "9lives", "a-", "a..b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const char *const bad[] = {
		"", "A", "-a", ".a", "_a", "a b", "\xc3\xa9", "a\xc3\xa9",
		"aB", "a/b", "a:b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t i;

	ASSERT_EQ(64, strlen(good[ARRAY_SIZE(good) - 1]));
	ASSERT_EQ(65, strlen(bad[ARRAY_SIZE(bad) - 1]));
	for (i = 0; i < ARRAY_SIZE(good); i++)
		EXPECT_TRUE(id_valid(good[i])) TH_LOG("good[%zu] refused", i);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_FALSE(id_valid(bad[i])) TH_LOG("bad[%zu] accepted", i);
	/* An embedded NUL is a byte like any other: refused. */
	EXPECT_FALSE(kc_client_id_valid((const uint8_t *)"a\0b", 3));
	EXPECT_FALSE(kc_client_id_valid(NULL, 0));
}

/* ---- the committed fuzz seeds, made by an independent encoder ---- */

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET))
		goto cleanup;
	buf = malloc(size ? size : 1);
	if (buf && fread(buf, 1, size, fp) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	*len = size;
cleanup:
	fclose(fp);
	return buf;
}

/* Calls check(name, bytes) for each seed; returns how many, or -1. */
static int for_each_seed(struct __test_metadata *_metadata, const char *dir,
			 void (*check)(struct __test_metadata *, const char *,
				       const uint8_t *, size_t))
{
	struct dirent *de;
	char path[4096];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s",
		 getenv("KC_SRC"), dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		uint8_t *buf;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s/%s",
			 getenv("KC_SRC"), dir, de->d_name);
		buf = read_whole(path, &len);
		ASSERT_NE(NULL, buf) TH_LOG("cannot read %s", path);
		check(_metadata, de->d_name, buf, len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

/* Seed "04-send" must be one valid frame of type 0x04. */
static void check_frame_seed(struct __test_metadata *_metadata,
			     const char *name, const uint8_t *p, size_t len)
{
	struct kc_frame out;
	uint8_t *again = malloc(len);

	ASSERT_NE(NULL, again);
	EXPECT_EQ((long)len, kc_frame_peek(p, len, MAX_FRAME)) TH_LOG("%s", name);
	ASSERT_EQ(0, kc_frame_decode(p, len, &out)) TH_LOG("%s", name);
	EXPECT_EQ(strtoul(name, NULL, 16), out.type) TH_LOG("%s", name);
	EXPECT_EQ(len, kc_frame_encode(&out, again, len)) TH_LOG("%s", name);
	EXPECT_EQ(0, memcmp(p, again, len)) TH_LOG("%s", name);
	free(again);
}

/* Seeds are "plain-*" (SEND plaintext) or "inner-NN-*" (kind NN). */
static void check_inner_seed(struct __test_metadata *_metadata,
			     const char *name, const uint8_t *p, size_t len)
{
	bool plain = !strncmp(name, "plain-", 6);
	uint8_t *again = malloc(len);
	struct record out;

	ASSERT_NE(NULL, again);
	ASSERT_TRUE(plain || !strncmp(name, "inner-", 6)) TH_LOG("%s", name);
	ASSERT_EQ(0, record_decode(plain, p, len, &out)) TH_LOG("%s", name);
	if (!plain)
		EXPECT_EQ(strtoul(name + 6, NULL, 16), out.in.kind);
	EXPECT_EQ(len, record_encode(&out, again, len)) TH_LOG("%s", name);
	EXPECT_EQ(0, memcmp(p, again, len)) TH_LOG("%s", name);
	free(again);
}

TEST(seed_corpus_frames)
{
	if (!getenv("KC_SRC"))
		SKIP(return, "KC_SRC not set (run via tests/run-tests.sh)");
	EXPECT_LE(16, for_each_seed(_metadata, "fuzz_frame", check_frame_seed));
}

TEST(seed_corpus_inner)
{
	if (!getenv("KC_SRC"))
		SKIP(return, "KC_SRC not set (run via tests/run-tests.sh)");
	EXPECT_LE(4, for_each_seed(_metadata, "fuzz_inner", check_inner_seed));
}

TEST_HARNESS_MAIN
