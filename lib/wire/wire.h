/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wire codec for PROTOCOL.md sections 3-5: frames, the SEND plaintext and
 * the end-to-end inner records, plus the exact byte strings that MACs and
 * signatures cover.
 *
 * Decoding is zero-copy: decoded structs point into the caller's buffer,
 * which must outlive them. Every length is checked against what remains
 * before it is used; nothing is allocated. Decoders return 0 or a negated
 * protocol status (-KC_BAD_FRAME, -KC_UNKNOWN_TYPE, -KC_TOO_LARGE).
 *
 * Encoders write into a caller-supplied buffer and return the number of
 * bytes written, or 0 when the buffer is too small or a field is too long
 * for its length prefix (str: 65535, blob: 2^32-1), a fixed-size field is
 * NULL, the type/kind is unknown, or a value is one its decoder refuses
 * (a SEND plaintext's counter 0 or unknown flag). kc_*_size() gives the
 * exact size beforehand, or 0 for the same reasons.
 */
#ifndef KC_WIRE_H
#define KC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define KC_SID_LEN 16
#define KC_MSGID_LEN 16
#define KC_IV_LEN 16
#define KC_MAC_LEN 32
#define KC_KEY_LEN 32
#define KC_RSA_LEN 256 /* OAEP output and PSS signature of RSA-2048 */

#define KC_FRAME_HDR_LEN 5 /* u32 len || u8 type */
#define KC_MAX_FRAME_DEFAULT (1u << 20)
#define KC_CLIENT_ID_MAX 64

enum kc_frame_type {
	KC_T_REGISTER = 0x01,
	KC_T_LOOKUP = 0x02,
	KC_T_OPEN_SESSION = 0x03,
	KC_T_SEND = 0x04,
	KC_T_DELIVERED = 0x05,
	KC_T_PING = 0x06,
	KC_T_GET_SEAL = 0x08,
	KC_T_REGISTERED = 0x81,
	KC_T_KEYS = 0x82,
	KC_T_SESSION = 0x83,
	KC_T_ACK = 0x84,
	KC_T_DELIVER = 0x85,
	KC_T_RECEIPT = 0x86,
	KC_T_PONG = 0x87,
	KC_T_SEAL = 0x88,
	KC_T_ERROR = 0x8f,
};

/* A view of bytes inside a decoded buffer (str or blob contents). */
struct kc_bytes {
	const uint8_t *p;
	size_t len;
};

struct kc_register {
	struct kc_bytes token, client_id, id_spki, enc_spki, enc_sig;
};
struct kc_lookup {
	struct kc_bytes client_id;
};
struct kc_open_session {
	const uint8_t *sid;	/* KC_SID_LEN */
	const uint8_t *wrapped; /* KC_RSA_LEN */
};
struct kc_send {
	const uint8_t *sid; /* KC_SID_LEN */
	uint64_t seq;
	const uint8_t *iv; /* KC_IV_LEN */
	struct kc_bytes ct;
	const uint8_t *mac; /* KC_MAC_LEN */
};
struct kc_delivered {
	const uint8_t *msg_id; /* KC_MSGID_LEN */
};
struct kc_ping {
	uint64_t nonce; /* PING and PONG */
};
struct kc_registered {
	struct kc_bytes client_cert, ca_cert, seal_cert;
};
struct kc_keys {
	struct kc_bytes client_id, id_cert, enc_spki, enc_sig;
};
struct kc_session {
	const uint8_t *sid;
	uint32_t ttl_s;
};
struct kc_ack {
	const uint8_t *sid;
	uint64_t seq;
	const uint8_t *msg_id;
	uint16_t status;
};
struct kc_deliver {
	struct kc_bytes from;
	const uint8_t *msg_id;
	uint64_t stored_at_ms;
	struct kc_bytes inner;
};
struct kc_receipt {
	const uint8_t *msg_id;
	struct kc_bytes recipient;
};
struct kc_seal {
	struct kc_bytes seal_cert;
};
struct kc_error {
	uint16_t code;
	struct kc_bytes text;
};

/* One decoded frame; `type` selects the union member (GET_SEAL has none). */
struct kc_frame {
	uint8_t type;
	union {
		struct kc_register reg;
		struct kc_lookup lookup;
		struct kc_open_session open;
		struct kc_send send;
		struct kc_delivered delivered;
		struct kc_ping ping;
		struct kc_registered registered;
		struct kc_keys keys;
		struct kc_session session;
		struct kc_ack ack;
		struct kc_deliver deliver;
		struct kc_receipt receipt;
		struct kc_seal seal;
		struct kc_error error;
	} u;
};

/*
 * Looks at the start of a byte stream. Returns the total length of the first
 * frame (header included) when all of it is in buf, 0 when more bytes are
 * needed, -KC_BAD_FRAME when len is 0 and -KC_TOO_LARGE when len exceeds
 * max_frame (both lose framing: the connection must close).
 */
long kc_frame_peek(const uint8_t *buf, size_t avail, uint32_t max_frame);

/*
 * Decodes one whole frame (as delimited by kc_frame_peek: len includes the
 * 4-byte len field, which must equal len - 4). Returns 0, -KC_UNKNOWN_TYPE
 * for a type not in the table, or -KC_BAD_FRAME when the body does not
 * decode exactly (short field or trailing bytes) or the len field
 * disagrees. On -KC_BAD_FRAME and -KC_UNKNOWN_TYPE, out->type is still set
 * (0 if the frame is too short to hold a type byte).
 */
int kc_frame_decode(const uint8_t *frame, size_t len, struct kc_frame *out);

size_t kc_frame_size(const struct kc_frame *f);
size_t kc_frame_encode(const struct kc_frame *f, uint8_t *out, size_t cap);

/*
 * Where the field held at offsetof(struct kc_frame, member) starts in f's
 * encoding, header included, or -1 when f's type has no such field: the
 * agent patches an ACK's status at
 * kc_frame_field_offset(&ack, offsetof(struct kc_frame, u.ack.status)).
 */
long kc_frame_field_offset(const struct kc_frame *f, size_t member);

/*
 * SEND plaintext: str to || 16 msg_id || u64 counter || u8 flags ||
 * blob inner. counter is the sender's message counter, from 1; flags
 * holds KC_SEND_NO_RECEIPT or nothing. Decoding refuses counter 0 and any
 * other flag bit with -KC_BAD_FRAME, and the encoders refuse to write
 * them (size 0), so what one side writes the other accepts.
 */
#define KC_SEND_NO_RECEIPT 0x01 /* the sender wants no RECEIPT */
#define KC_SEND_FLAGS_KNOWN KC_SEND_NO_RECEIPT
struct kc_send_plain {
	struct kc_bytes to;
	const uint8_t *msg_id;
	uint64_t counter;
	uint8_t flags;
	struct kc_bytes inner;
};
/* Counter not 0 and no flag but KC_SEND_NO_RECEIPT: what decoding demands. */
bool kc_send_plain_valid(const struct kc_send_plain *sp);
int kc_send_plain_decode(const uint8_t *p, size_t len, struct kc_send_plain *out);
size_t kc_send_plain_size(const struct kc_send_plain *sp);
size_t kc_send_plain_encode(const struct kc_send_plain *sp, uint8_t *out, size_t cap);

/* End-to-end inner records (section 5): u8 kind || body. */
enum kc_inner_kind {
	KC_INNER_SESSION_INIT = 1,
	KC_INNER_MESSAGE = 2,
};
struct kc_session_init {
	const uint8_t *sid;
	struct kc_bytes sender, recipient;
	uint64_t created_ms;
	const uint8_t *wrapped; /* KC_RSA_LEN */
	const uint8_t *sig;	/* KC_RSA_LEN */
};
struct kc_e2e_message {
	const uint8_t *sid;
	uint64_t seq;
	const uint8_t *iv;
	struct kc_bytes ct;
	const uint8_t *mac;
};
struct kc_inner {
	uint8_t kind;
	union {
		struct kc_session_init init;
		struct kc_e2e_message msg;
	} u;
};
/* Returns 0, -KC_BAD_FRAME, or -KC_UNKNOWN_TYPE for an unknown kind. */
int kc_inner_decode(const uint8_t *p, size_t len, struct kc_inner *out);
size_t kc_inner_size(const struct kc_inner *in);
size_t kc_inner_encode(const struct kc_inner *in, uint8_t *out, size_t cap);

/*
 * The bytes a MAC covers before the ciphertext itself, for the two
 * sequenced forms: label || sid || u64 seq || iv || u32 ct_len. `label` is
 * KC_LABEL_SEND or KC_LABEL_E2E. The MAC is then over aad || ct.
 * Returns the aad length, or 0 for a label longer than 32 bytes.
 */
#define KC_LABEL_SEND "kcourier/1 send"
#define KC_LABEL_E2E "kcourier/1 e2e"
#define KC_LABEL_JSON "kcourier/1 json"
#define KC_LABEL_ENC_KEY "kcourier/1 enc-key"
#define KC_LABEL_E2E_INIT "kcourier/1 e2e-init"
#define KC_LABEL_MAC_KEY "kcourier/1 mac"
#define KC_SEQ_AAD_MAX (32 + KC_SID_LEN + 8 + KC_IV_LEN + 4)
size_t kc_seq_aad(uint8_t out[KC_SEQ_AAD_MAX], const char *label,
		  const uint8_t sid[KC_SID_LEN], uint64_t seq,
		  const uint8_t iv[KC_IV_LEN], uint32_t ct_len);

/*
 * Signed messages (section 4 enc_sig, section 5 SESSION_INIT sig). Each
 * returns bytes written into out, 0 if cap is too small or a str too long.
 * With out == NULL they write nothing and return the size needed.
 */
size_t kc_enc_sig_msg(uint8_t *out, size_t cap, struct kc_bytes client_id,
		      struct kc_bytes enc_spki);
size_t kc_e2e_init_sig_msg(uint8_t *out, size_t cap,
			   const struct kc_session_init *init);

/* Client id grammar: ^[a-z0-9][a-z0-9._-]{0,63}$. Returns 1 or 0. */
int kc_client_id_valid(const uint8_t *p, size_t len);

#endif
