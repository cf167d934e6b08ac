/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The provided buffer ring a worker's multishot recvs draw from.
 *
 * liburing 2.3 has io_uring_register_buf_ring and the io_uring_buf_ring_*
 * helpers but not io_uring_setup_buf_ring, so the ring memory is mapped
 * here by hand. The kernel picks a buffer per completion and reports its
 * id in the CQE; the worker copies the bytes out (into the TLS engine) in
 * the same turn and gives the buffer back with kc_bufring_put, so a small
 * ring serves many connections.
 */
#ifndef KC_BUFRING_H
#define KC_BUFRING_H

#include <stdint.h>

#include <liburing.h>

struct kc_bufring {
	struct io_uring_buf_ring *ring; /* shared with the kernel */
	uint8_t *mem;			/* nbufs * buf_size bytes */
	uint32_t nbufs;			/* power of two */
	uint32_t buf_size;
	uint16_t bgid;
	unsigned int pending; /* buffers added but not yet published */
};

/* Maps and registers nbufs buffers of buf_size bytes as group bgid. */
int kc_bufring_init(struct kc_bufring *br, struct io_uring *ring, uint16_t bgid,
		    uint32_t nbufs, uint32_t buf_size);
/* Unregisters and unmaps; safe on a zeroed or failed kc_bufring. */
void kc_bufring_fini(struct kc_bufring *br, struct io_uring *ring);

/* Buffer id and length from a recv CQE (only valid with IORING_CQE_F_BUFFER).
 */
static inline uint16_t kc_bufring_cqe_bid(uint32_t cqe_flags)
{
	return (uint16_t)(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
}

static inline const uint8_t *kc_bufring_data(const struct kc_bufring *br,
					     uint16_t bid)
{
	return br->mem + (size_t)bid * br->buf_size;
}

/*
 * Gives a buffer back. Returns are batched: kc_bufring_publish makes them
 * visible to the kernel with one release store per turn.
 */
void kc_bufring_put(struct kc_bufring *br, uint16_t bid);
void kc_bufring_publish(struct kc_bufring *br);

#endif
