// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records carried inside ciphertext: the SEND plaintext (PROTOCOL.md
 * section 4, "str to || 16 msg_id || u64 counter || u8 flags || blob
 * inner") and the end-to-end inner records (section 5, "u8 kind ||
 * body"). Same rules as frames: decode exactly or fail with -KC_BAD_FRAME.
 */
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_layout.h"

static const struct kc_layout send_plain_layout = {
	0,
	{ KC_STR(struct kc_send_plain, to),
	  KC_FIXED(struct kc_send_plain, msg_id, KC_MSGID_LEN),
	  KC_U64(struct kc_send_plain, counter),
	  KC_U8(struct kc_send_plain, flags),
	  KC_BLOB(struct kc_send_plain, inner) },
};

/*
 * Counter 0 is never a message's (counters start at 1), and a flag this
 * version does not know cannot be honoured: both are decoding failures,
 * so the agent answers BAD_FRAME before it looks at duplicates.
 */
bool kc_send_plain_valid(const struct kc_send_plain *sp)
{
	return sp->counter != 0 && !(sp->flags & ~KC_SEND_FLAGS_KNOWN);
}

#define STR(m) KC_STR(struct kc_inner, u.m)
#define BLOB(m) KC_BLOB(struct kc_inner, u.m)
#define FIXED(m, n) KC_FIXED(struct kc_inner, u.m, n)
#define U64(m) KC_U64(struct kc_inner, u.m)

static const struct kc_layout inner_layouts[] = {
	{ KC_INNER_SESSION_INIT,
	  { FIXED(init.sid, KC_SID_LEN), STR(init.sender), STR(init.recipient),
	    U64(init.created_ms), FIXED(init.wrapped, KC_RSA_LEN),
	    FIXED(init.sig, KC_RSA_LEN) } },
	{ KC_INNER_MESSAGE,
	  { FIXED(msg.sid, KC_SID_LEN), U64(msg.seq), FIXED(msg.iv, KC_IV_LEN),
	    BLOB(msg.ct), FIXED(msg.mac, KC_MAC_LEN) } },
};

int kc_send_plain_decode(const uint8_t *p, size_t len,
			 struct kc_send_plain *out)
{
	struct kc_reader r;

	int ret;

	memset(out, 0, sizeof(*out));
	kc_reader_init(&r, p, len);
	ret = kc_layout_decode(&send_plain_layout, &r, out);
	if (!ret && !kc_send_plain_valid(out))
		ret = -KC_BAD_FRAME;
	return ret;
}

static size_t write_send_plain(const struct kc_send_plain *sp,
			       struct kc_writer *w)
{
	if (!kc_send_plain_valid(sp))
		return 0;
	kc_layout_encode(&send_plain_layout, w, sp);
	return kc_writer_finish(w);
}

size_t kc_send_plain_size(const struct kc_send_plain *sp)
{
	struct kc_writer w;

	kc_writer_init_count(&w);
	return write_send_plain(sp, &w);
}

size_t kc_send_plain_encode(const struct kc_send_plain *sp, uint8_t *out,
			    size_t cap)
{
	struct kc_writer w;

	kc_writer_init(&w, out, cap);
	return write_send_plain(sp, &w);
}

static const struct kc_layout *inner_layout(uint8_t kind)
{
	return kc_layout_find(inner_layouts, KC_ARRAY_SIZE(inner_layouts),
			      kind);
}

int kc_inner_decode(const uint8_t *p, size_t len, struct kc_inner *out)
{
	const struct kc_layout *l;
	struct kc_reader r;

	memset(out, 0, sizeof(*out));
	kc_reader_init(&r, p, len);
	out->kind = kc_rd_u8(&r);
	if (r.err)
		return -KC_BAD_FRAME;
	l = inner_layout(out->kind);
	if (!l)
		return -KC_UNKNOWN_TYPE;
	return kc_layout_decode(l, &r, out);
}

static size_t write_inner(const struct kc_inner *in, struct kc_writer *w)
{
	const struct kc_layout *l = inner_layout(in->kind);

	if (!l)
		return 0;
	kc_wr_u8(w, in->kind);
	kc_layout_encode(l, w, in);
	return kc_writer_finish(w);
}

size_t kc_inner_size(const struct kc_inner *in)
{
	struct kc_writer w;

	kc_writer_init_count(&w);
	return write_inner(in, &w);
}

size_t kc_inner_encode(const struct kc_inner *in, uint8_t *out, size_t cap)
{
	struct kc_writer w;

	kc_writer_init(&w, out, cap);
	return write_inner(in, &w);
}
