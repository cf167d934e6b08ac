/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every load message carries at the front of its application payload,
 * inside the end-to-end encryption, so the receiver can check it and time
 * it: a magic, the stream (sender) number, the message number in that
 * stream and the (intended) send time on CLOCK_MONOTONIC. Sender and
 * receiver run in one process, so one clock serves both.
 */
#ifndef KC_LOAD_PAYLOAD_H
#define KC_LOAD_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAYLOAD_HDR_LEN 24
#define PAYLOAD_MAGIC "KCLD"

struct payload_hdr {
	uint32_t stream;
	uint64_t seq;
	uint64_t t0_ns;
};

static inline void payload_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t payload_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void payload_write(uint8_t *p, const struct payload_hdr *h)
{
	memcpy(p, PAYLOAD_MAGIC, 4);
	p[4] = (uint8_t)(h->stream >> 24);
	p[5] = (uint8_t)(h->stream >> 16);
	p[6] = (uint8_t)(h->stream >> 8);
	p[7] = (uint8_t)h->stream;
	payload_put64(p + 8, h->seq);
	payload_put64(p + 16, h->t0_ns);
}

static inline bool payload_read(const uint8_t *p, size_t len,
				struct payload_hdr *h)
{
	if (len < PAYLOAD_HDR_LEN || memcmp(p, PAYLOAD_MAGIC, 4))
		return false;
	h->stream = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		    (uint32_t)p[6] << 8 | p[7];
	h->seq = payload_get64(p + 8);
	h->t0_ns = payload_get64(p + 16);
	return true;
}

#endif
