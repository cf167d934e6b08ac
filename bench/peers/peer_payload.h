/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The payload every broker driver sends, and so the bounds of --size.
 *
 * The first PEER_HDR_LEN bytes are a header, little-endian:
 *   u32 magic "KCB1", u32 pair, u64 seq (1, 2, 3, ... per pair),
 *   u64 send time (CLOCK_MONOTONIC ns; in open loop the intended time,
 *   so a stalled sender is charged for its wait);
 * the rest is filler. The subscriber of pair i takes latency from the
 * header and hands (pair, seq) to the ledger (peer_run.h).
 */
#ifndef KC_PEER_PAYLOAD_H
#define KC_PEER_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PEER_HDR_LEN 24
/* Largest payload: NATS's default max_payload, so one limit fits all. */
#define PEER_MAX_SIZE (1024u * 1024u)
/* The magic's bytes as they appear on the wire (fault_shim.c looks). */
#define PEER_MAGIC_BYTES "KCB1"

struct peer_header {
	uint32_t pair;
	uint64_t seq, t_ns;
};

/* Writes h into the first PEER_HDR_LEN bytes of buf. */
void peer_header_put(unsigned char *buf, const struct peer_header *h);
/* Reads the header of one of our payloads; -EINVAL for anything else. */
int peer_header_get(const void *data, size_t len, struct peer_header *h);
/* Filler after the header: a pattern, so a payload is never all zeros. */
void peer_payload_fill(unsigned char *buf, uint64_t size, unsigned int pair);

#endif
