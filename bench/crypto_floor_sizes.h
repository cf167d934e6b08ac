/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte counts of one kcourier message as the agent handles it, for the
 * crypto floor (crypto_floor.c): what each layer adds to an application
 * payload of s bytes. Every field list below is PROTOCOL.md's, in order;
 * tests/test_crypto_floor.c holds the sums against lib/'s real sealing
 * and codec and against the agent's TLS engine, so a protocol change that
 * forgets this file fails there rather than skewing the benchmark.
 */
#ifndef KC_BENCH_CRYPTO_FLOOR_SIZES_H
#define KC_BENCH_CRYPTO_FLOOR_SIZES_H

#include <stddef.h>

#include "crypto/crypto.h"
#include "wire/wire.h"

#define CF_STR_HDR 2  /* str: u16 length */
#define CF_BLOB_HDR 4 /* blob: u32 length */
#define CF_U64 8
#define CF_U16 2
#define CF_U8 1

/* RFC 8446 5.1: at most 2^14 plaintext bytes per record. */
#define CF_TLS_RECORD_MAX 16384
/* RFC 8446 5.2: opaque_type, legacy_record_version, length. */
#define CF_TLS_HDR_LEN 5
#define CF_TLS_TAG_LEN 16 /* AES-GCM and ChaCha20-Poly1305 alike */
/* Encrypted per record beyond the content: the inner content type byte. */
#define CF_TLS_INNER_TYPE_LEN 1

/* Section 5, kind 2 MESSAGE: u8 kind, 16 sid, u64 seq, 16 iv, blob ct, 32 mac.
 */
static inline size_t cf_inner_len(size_t s)
{
	return 1 + KC_SID_LEN + CF_U64 + KC_IV_LEN + CF_BLOB_HDR +
	       kc_cbc_ct_len(s) + KC_MAC_LEN;
}

/*
 * Section 4, SEND plaintext: str to, 16 msg_id, u64 counter, u8 flags,
 * blob inner.
 */
static inline size_t cf_send_plain_len(size_t s, size_t to_len)
{
	return CF_STR_HDR + to_len + KC_MSGID_LEN + CF_U64 + CF_U8 +
	       CF_BLOB_HDR + cf_inner_len(s);
}

/* SEND frame: header, 16 sid, u64 seq, 16 iv, blob ct, 32 mac. */
static inline size_t cf_send_frame_len(size_t s, size_t to_len)
{
	return KC_FRAME_HDR_LEN + KC_SID_LEN + CF_U64 + KC_IV_LEN +
	       CF_BLOB_HDR + kc_cbc_ct_len(cf_send_plain_len(s, to_len)) +
	       KC_MAC_LEN;
}

/* DELIVER frame: header, str from, 16 msg_id, u64 stored_at_ms, blob inner. */
static inline size_t cf_deliver_frame_len(size_t s, size_t from_len)
{
	return KC_FRAME_HDR_LEN + CF_STR_HDR + from_len + KC_MSGID_LEN +
	       CF_U64 + CF_BLOB_HDR + cf_inner_len(s);
}

/* ACK frame: header, 16 sid, u64 seq, 16 msg_id, u16 status. */
static inline size_t cf_ack_frame_len(void)
{
	return KC_FRAME_HDR_LEN + KC_SID_LEN + CF_U64 + KC_MSGID_LEN + CF_U16;
}

/* DELIVERED frame: header, 16 msg_id. */
static inline size_t cf_delivered_frame_len(void)
{
	return KC_FRAME_HDR_LEN + KC_MSGID_LEN;
}

/* RECEIPT frame: header, 16 msg_id, str recipient. */
static inline size_t cf_receipt_frame_len(size_t recipient_len)
{
	return KC_FRAME_HDR_LEN + KC_MSGID_LEN + CF_STR_HDR + recipient_len;
}

/* TLS 1.3 records a frame of len bytes needs when it is sent on its own. */
static inline size_t cf_tls_records(size_t len)
{
	return (len + CF_TLS_RECORD_MAX - 1) / CF_TLS_RECORD_MAX;
}

/* Those records on the wire: content plus header, type byte and tag each. */
static inline size_t cf_tls_wire_len(size_t len)
{
	return len +
	       cf_tls_records(len) * (CF_TLS_HDR_LEN + CF_TLS_INNER_TYPE_LEN +
				      CF_TLS_TAG_LEN);
}

#endif
