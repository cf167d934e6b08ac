// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames of PROTOCOL.md sections 3-4: u32 len || u8 type || body, where
 * len counts type and body. The body layouts below are section 4's table,
 * field for field; nothing else in the codec knows them.
 */
#include <limits.h>
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_layout.h"

#define LEN_FIELD 4 /* the u32 len in front of type and body */

#define STR(m) KC_STR(struct kc_frame, u.m)
#define BLOB(m) KC_BLOB(struct kc_frame, u.m)
#define FIXED(m, n) KC_FIXED(struct kc_frame, u.m, n)
#define U16(m) KC_U16(struct kc_frame, u.m)
#define U32(m) KC_U32(struct kc_frame, u.m)
#define U64(m) KC_U64(struct kc_frame, u.m)

static const struct kc_layout frame_layouts[] = {
	{ KC_T_REGISTER,
	  { STR(reg.token), STR(reg.client_id), STR(reg.id_spki),
	    STR(reg.enc_spki), STR(reg.enc_sig) } },
	{ KC_T_LOOKUP, { STR(lookup.client_id) } },
	{ KC_T_OPEN_SESSION,
	  { FIXED(open.sid, KC_SID_LEN), FIXED(open.wrapped, KC_RSA_LEN) } },
	{ KC_T_SEND,
	  { FIXED(send.sid, KC_SID_LEN), U64(send.seq),
	    FIXED(send.iv, KC_IV_LEN), BLOB(send.ct),
	    FIXED(send.mac, KC_MAC_LEN) } },
	{ KC_T_DELIVERED, { FIXED(delivered.msg_id, KC_MSGID_LEN) } },
	{ KC_T_PING, { U64(ping.nonce) } },
	{ KC_T_GET_SEAL, { { KC_F_END, 0, 0 } } },
	{ KC_T_REGISTERED,
	  { STR(registered.client_cert), STR(registered.ca_cert),
	    STR(registered.seal_cert) } },
	{ KC_T_KEYS,
	  { STR(keys.client_id), STR(keys.id_cert), STR(keys.enc_spki),
	    STR(keys.enc_sig) } },
	{ KC_T_SESSION,
	  { FIXED(session.sid, KC_SID_LEN), U32(session.ttl_s) } },
	{ KC_T_ACK,
	  { FIXED(ack.sid, KC_SID_LEN), U64(ack.seq),
	    FIXED(ack.msg_id, KC_MSGID_LEN), U16(ack.status) } },
	{ KC_T_DELIVER,
	  { STR(deliver.from), FIXED(deliver.msg_id, KC_MSGID_LEN),
	    U64(deliver.stored_at_ms), BLOB(deliver.inner) } },
	{ KC_T_RECEIPT,
	  { FIXED(receipt.msg_id, KC_MSGID_LEN), STR(receipt.recipient) } },
	{ KC_T_PONG, { U64(ping.nonce) } },
	{ KC_T_SEAL, { STR(seal.seal_cert) } },
	{ KC_T_ERROR, { U16(error.code), STR(error.text) } },
};

static const struct kc_layout *frame_layout(uint8_t type)
{
	return kc_layout_find(frame_layouts, KC_ARRAY_SIZE(frame_layouts),
			      type);
}

/*
 * Judges len from its 4 bytes alone, so an oversized or empty frame is
 * refused before any of its body is read or buffered.
 */
long kc_frame_peek(const uint8_t *buf, size_t avail, uint32_t max_frame)
{
	struct kc_reader r;
	uint32_t len;

	if (avail < LEN_FIELD)
		return 0;
	kc_reader_init(&r, buf, LEN_FIELD);
	len = kc_rd_u32(&r);
	if (len == 0)
		return -KC_BAD_FRAME;
	/* The second test only bites where long is 32 bits wide. */
	if (len > max_frame || (uint64_t)len + LEN_FIELD > (uint64_t)LONG_MAX)
		return -KC_TOO_LARGE;
	if (avail - LEN_FIELD < len)
		return 0;
	return LEN_FIELD + (long)len;
}

int kc_frame_decode(const uint8_t *frame, size_t len, struct kc_frame *out)
{
	const struct kc_layout *l;
	struct kc_reader r;
	uint32_t flen;

	memset(out, 0, sizeof(*out));
	kc_reader_init(&r, frame, len);
	flen = kc_rd_u32(&r);
	out->type = kc_rd_u8(&r);
	/* A len field that disagrees with the buffer is a framing bug. */
	if (r.err || flen != len - LEN_FIELD)
		return -KC_BAD_FRAME;
	l = frame_layout(out->type);
	if (!l)
		return -KC_UNKNOWN_TYPE;
	return kc_layout_decode(l, &r, out);
}

long kc_frame_field_offset(const struct kc_frame *f, size_t member)
{
	const struct kc_layout *l = frame_layout(f->type);
	long off = l ? kc_layout_field_offset(l, f, member) : -1;

	return off < 0 ? -1 : KC_FRAME_HDR_LEN + off;
}

/* Type and body: what the len field counts. */
static size_t frame_payload(const struct kc_frame *f, struct kc_writer *w)
{
	const struct kc_layout *l = frame_layout(f->type);

	if (!l)
		return 0;
	kc_wr_u8(w, f->type);
	kc_layout_encode(l, w, f);
	return kc_writer_finish(w);
}

size_t kc_frame_size(const struct kc_frame *f)
{
	struct kc_writer w;
	size_t payload;

	kc_writer_init_count(&w);
	payload = frame_payload(f, &w);
	if (!payload || payload > UINT32_MAX)
		return 0;
	return LEN_FIELD + payload;
}

size_t kc_frame_encode(const struct kc_frame *f, uint8_t *out, size_t cap)
{
	size_t size = kc_frame_size(f);
	struct kc_writer w;

	if (!size || size > cap)
		return 0;
	kc_writer_init(&w, out, cap);
	kc_wr_u32(&w, (uint32_t)(size - LEN_FIELD));
	if (frame_payload(f, &w) != size)
		return 0;
	return size;
}
