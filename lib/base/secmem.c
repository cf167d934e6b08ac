// SPDX-License-Identifier: GPL-2.0-only
/*
 * Locked slot pool for secrets; see secmem.h for the contract.
 *
 * Invariants: chunks[0..nchunks) are CHUNK_BYTES mappings that never move;
 * slot i lives in chunk i / per_chunk; used[i] says whether slot i is
 * handed out, and free_idx[0..nfree) lists exactly the slots that are not,
 * lowest index on top so a fresh pool fills from the start.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/secmem.h"

#define CHUNK_BYTES (64u * 1024u)
#define SLOT_ALIGN 16u
#define SLOT_MAX 4096u

struct kc_secmem {
	size_t slot_size;
	uint32_t per_chunk;
	uint32_t max_slots;
	uint32_t capacity; /* slots in all chunks, at most max_slots */
	uint32_t nchunks;
	uint8_t **chunks;
	uint8_t *used;
	uint32_t *free_idx;
	uint32_t nfree;
	bool unlocked;
};

int kc_secmem_create(size_t slot_size, uint32_t max_slots,
		     struct kc_secmem **out)
{
	struct kc_secmem *m;

	*out = NULL;
	if (slot_size == 0 || slot_size > SLOT_MAX || max_slots == 0)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->slot_size = (slot_size + SLOT_ALIGN - 1) & ~(size_t)(SLOT_ALIGN - 1);
	m->per_chunk = CHUNK_BYTES / m->slot_size;
	m->max_slots = max_slots;
	*out = m;
	return 0;
}

/* munmap drops the lock with the mapping (mlock(2)). */
static void chunk_unmap(uint8_t *chunk)
{
	explicit_bzero(chunk, CHUNK_BYTES);
	munmap(chunk, CHUNK_BYTES);
}

void kc_secmem_destroy(struct kc_secmem *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->nchunks; i++)
		chunk_unmap(m->chunks[i]);
	free(m->chunks);
	free(m->used);
	free(m->free_idx);
	free(m);
}

/* Makes the bookkeeping arrays big enough for one more chunk. */
static int grow_arrays(struct kc_secmem *m, uint32_t new_cap)
{
	uint8_t **chunks;
	uint8_t *used;
	uint32_t *free_idx;

	chunks = realloc(m->chunks, (m->nchunks + 1) * sizeof(*chunks));
	if (!chunks)
		return -ENOMEM;
	m->chunks = chunks;
	used = realloc(m->used, new_cap);
	if (!used)
		return -ENOMEM;
	memset(used + m->capacity, 0, new_cap - m->capacity);
	m->used = used;
	free_idx = realloc(m->free_idx, new_cap * sizeof(*free_idx));
	if (!free_idx)
		return -ENOMEM;
	m->free_idx = free_idx;
	return 0;
}

/*
 * Unlocked secrets can be swapped to disk, which an operator must hear
 * about; but once per process is enough, not once per chunk or pool.
 */
static void warn_unlocked(int err)
{
	static atomic_bool warned;

	if (atomic_exchange(&warned, true))
		return;
	fprintf(stderr,
		"kcourier: WARNING: mlock failed (%s): secret keys in this "
		"process can be swapped to disk; raise RLIMIT_MEMLOCK "
		"(LimitMEMLOCK= in the unit, ulimit -l)\n",
		strerror(-err));
}

static int map_chunk(struct kc_secmem *m, uint8_t **out)
{
	uint8_t *chunk = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	if (chunk == MAP_FAILED)
		return -errno;
	if (mlock(chunk, CHUNK_BYTES)) {
		/* Unprivileged or over RLIMIT_MEMLOCK: still usable. */
		err = -errno;
		if (err != -EPERM && err != -ENOMEM) {
			munmap(chunk, CHUNK_BYTES);
			return err;
		}
		m->unlocked = true;
		warn_unlocked(err);
	}
	/* Best effort: kernels before 3.4 lack it and nothing else breaks. */
	madvise(chunk, CHUNK_BYTES, MADV_DONTDUMP);
	*out = chunk;
	return 0;
}

static int add_chunk(struct kc_secmem *m)
{
	uint32_t new_cap, i;
	uint8_t *chunk = NULL;
	int ret;

	if (m->capacity >= m->max_slots)
		return -ENOSPC;
	new_cap = m->capacity + m->per_chunk;
	if (new_cap > m->max_slots || new_cap < m->capacity)
		new_cap = m->max_slots;
	ret = grow_arrays(m, new_cap);
	if (ret)
		return ret;
	ret = map_chunk(m, &chunk);
	if (ret)
		return ret;
	m->chunks[m->nchunks++] = chunk;
	for (i = new_cap; i > m->capacity; i--)
		m->free_idx[m->nfree++] = i - 1;
	m->capacity = new_cap;
	return 0;
}

int kc_secmem_alloc(struct kc_secmem *m, uint32_t *idx)
{
	int ret;

	if (m->nfree == 0) {
		ret = add_chunk(m);
		if (ret)
			return ret;
	}
	*idx = m->free_idx[--m->nfree];
	m->used[*idx] = 1;
	return 0;
}

static uint8_t *slot_ptr(const struct kc_secmem *m, uint32_t idx)
{
	return m->chunks[idx / m->per_chunk] +
	       (size_t)(idx % m->per_chunk) * m->slot_size;
}

void kc_secmem_free(struct kc_secmem *m, uint32_t idx)
{
	if (!m || idx >= m->capacity || !m->used[idx])
		return;
	explicit_bzero(slot_ptr(m, idx), m->slot_size);
	m->used[idx] = 0;
	m->free_idx[m->nfree++] = idx;
}

void *kc_secmem_slot(const struct kc_secmem *m, uint32_t idx)
{
	if (idx >= m->capacity || !m->used[idx])
		return NULL;
	return slot_ptr(m, idx);
}

uint32_t kc_secmem_capacity(const struct kc_secmem *m)
{
	return m->capacity;
}

bool kc_secmem_locked(const struct kc_secmem *m)
{
	return !m->unlocked;
}
