/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The message log's records, as they lie in a segment file
 * (docs/DESIGN.md "Storage"). Little-endian, each record 8-byte aligned:
 *
 *   off  size  field
 *     0     4  crc     CRC32C (Castagnoli) of bytes 4 .. 24 + len
 *     4     4  len     payload bytes
 *     8     8  lsn     log sequence number: +1 per record, never reused
 *    16     1  type    KC_REC_MSG or KC_REC_TOMB
 *    17     7  zero
 *    24   len  payload, then zeros up to the next multiple of 8
 *
 * A header of all zeros is the end of a segment's data: segments are
 * allocated ahead with fallocate(2), so unwritten space reads as zeros.
 * Anything else that does not check (CRC, lengths, type, reserved bytes,
 * lsn out of sequence) is a torn or damaged record: the reader stops there.
 *
 * KC_REC_MSG payload: u64 counter, i64 stored_at_ms, u8 flags, u8
 * sender_len, u8 recipient_len, u8 zero, 16 msg_id, sender, recipient,
 * u32 inner_len, inner (the message's sealed end-to-end bytes).
 * KC_REC_TOMB payload: u32 count, u32 zero, count x u64 lsn of messages
 * that are delivered (DELIVERED) and so deleted.
 */
#ifndef KC_LOG_RECORD_H
#define KC_LOG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define KC_REC_HDR_LEN 24u
#define KC_REC_ALIGN 8u
/* Fixed part of a MSG payload before sender, recipient and inner. */
#define KC_REC_MSG_FIXED (8u + 8u + 4u + KC_MSGID_LEN)
/* The largest record: an id pair and an inner of up to this many bytes. */
#define KC_REC_INNER_MAX (16u << 20)
#define KC_REC_TOMB_MAX 65536u /* lsns in one tombstone record */

enum kc_rec_type {
	KC_REC_MSG = 1,
	KC_REC_TOMB = 2,
};

/* A message as the log keeps it. The pointers are views. */
struct kc_rec_msg {
	uint64_t counter;
	int64_t stored_at_ms;
	uint8_t flags;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	struct kc_bytes sender, recipient;
	struct kc_bytes inner;
};

/* A decoded header; payload points into the buffer it was read from. */
struct kc_rec {
	uint64_t lsn;
	uint8_t type;
	const uint8_t *payload;
	uint32_t len;
	size_t size; /* the whole record with padding: where the next starts */
};

/* Bytes a record with a payload of len takes, padding included. */
static inline size_t kc_rec_size(size_t payload_len)
{
	return (KC_REC_HDR_LEN + payload_len + KC_REC_ALIGN - 1) &
	       ~(size_t)(KC_REC_ALIGN - 1);
}

size_t kc_rec_msg_payload_len(const struct kc_rec_msg *m);
/*
 * Writes a whole record (header, payload, padding) at dst, which has room
 * for kc_rec_size(payload length). Returns the bytes written, 0 when a
 * field does not fit its length.
 */
size_t kc_rec_put_msg(uint8_t *dst, uint64_t lsn, const struct kc_rec_msg *m);
size_t kc_rec_put_tomb(uint8_t *dst, uint64_t lsn, const uint64_t *lsns,
		       uint32_t count);

enum kc_rec_read {
	KC_REC_OK = 0,
	KC_REC_END,	/* all-zero header: no more data in this segment */
	KC_REC_SHORT,	/* the record runs past the bytes given */
	KC_REC_BAD,	/* CRC, type, reserved bytes or a length do not check */
};
/* Reads the record at p (avail bytes there) into r. */
enum kc_rec_read kc_rec_read(const uint8_t *p, size_t avail,
			     struct kc_rec *r);

/* Payload decoders: 0, or -EBADMSG when the payload is malformed. */
int kc_rec_get_msg(const struct kc_rec *r, struct kc_rec_msg *m);
int kc_rec_get_tomb(const struct kc_rec *r, uint32_t *count);
uint64_t kc_rec_tomb_lsn(const struct kc_rec *r, uint32_t i);

/* CRC32C (iSCSI polynomial, RFC 3720 B.4) of len bytes. */
uint32_t kc_crc32c(const void *p, size_t len);

#endif
