// SPDX-License-Identifier: GPL-2.0-only
/*
 * Provided buffer ring registered by hand (see bufring.h for why).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ring/bufring.h"

static size_t ring_bytes(uint32_t nbufs)
{
	return (size_t)nbufs * sizeof(struct io_uring_buf);
}

static size_t mem_bytes(uint32_t nbufs, uint32_t buf_size)
{
	return (size_t)nbufs * buf_size;
}

/* The kernel wants the ring page-aligned: anonymous mmap gives that. */
static int map_memory(struct kc_bufring *br)
{
	void *p;

	p = mmap(NULL, ring_bytes(br->nbufs), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	br->ring = p;
	p = mmap(NULL, mem_bytes(br->nbufs, br->buf_size),
		 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	br->mem = p;
	return 0;
}

static int register_ring(struct kc_bufring *br, struct io_uring *ring)
{
	struct io_uring_buf_reg reg;

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)br->ring;
	reg.ring_entries = br->nbufs;
	reg.bgid = br->bgid;
	return io_uring_register_buf_ring(ring, &reg, 0);
}

int kc_bufring_init(struct kc_bufring *br, struct io_uring *ring, uint16_t bgid,
		    uint32_t nbufs, uint32_t buf_size)
{
	int err;

	memset(br, 0, sizeof(*br));
	if (!nbufs || nbufs > 32768 || (nbufs & (nbufs - 1)) || !buf_size)
		return -EINVAL;
	br->nbufs = nbufs;
	br->buf_size = buf_size;
	br->bgid = bgid;
	err = map_memory(br);
	if (err)
		goto err_unmap;
	io_uring_buf_ring_init(br->ring);
	err = register_ring(br, ring);
	if (err)
		goto err_unmap;
	for (uint32_t bid = 0; bid < nbufs; bid++)
		kc_bufring_put(br, (uint16_t)bid);
	kc_bufring_publish(br);
	return 0;
err_unmap:
	kc_bufring_fini(br, NULL);
	return err;
}

void kc_bufring_fini(struct kc_bufring *br, struct io_uring *ring)
{
	if (ring && br->ring)
		io_uring_unregister_buf_ring(ring, br->bgid);
	if (br->mem)
		munmap(br->mem, mem_bytes(br->nbufs, br->buf_size));
	if (br->ring)
		munmap(br->ring, ring_bytes(br->nbufs));
	memset(br, 0, sizeof(*br));
}

void kc_bufring_put(struct kc_bufring *br, uint16_t bid)
{
	uint8_t *buf = br->mem + (size_t)bid * br->buf_size;

	io_uring_buf_ring_add(br->ring, buf, br->buf_size, bid,
			      io_uring_buf_ring_mask(br->nbufs), br->pending);
	br->pending++;
}

void kc_bufring_publish(struct kc_bufring *br)
{
	if (!br->pending)
		return;
	io_uring_buf_ring_advance(br->ring, br->pending);
	br->pending = 0;
}
