// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drivers' payload header (peer_payload.h), encoded byte by byte so
 * it reads the same on any host.
 */
#include <errno.h>
#include <string.h>

#include "peer_payload.h"

static void put_le(unsigned char *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void peer_header_put(unsigned char *buf, const struct peer_header *h)
{
	memcpy(buf, PEER_MAGIC_BYTES, 4);
	put_le(buf + 4, h->pair, 4);
	put_le(buf + 8, h->seq, 8);
	put_le(buf + 16, h->t_ns, 8);
}

int peer_header_get(const void *data, size_t len, struct peer_header *h)
{
	const unsigned char *p = data;

	if (!p || len < PEER_HDR_LEN || memcmp(p, PEER_MAGIC_BYTES, 4))
		return -EINVAL;
	h->pair = (uint32_t)get_le(p + 4, 4);
	h->seq = get_le(p + 8, 8);
	h->t_ns = get_le(p + 16, 8);
	return 0;
}

void peer_payload_fill(unsigned char *buf, uint64_t size, unsigned int pair)
{
	uint64_t i;

	for (i = PEER_HDR_LEN; i < size; i++)
		buf[i] = (unsigned char)(pair + i);
}
