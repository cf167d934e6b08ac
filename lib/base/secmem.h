/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Locked memory for secrets (session keys K and Km in the user crypto tier):
 * fixed-size slots carved from mmap'ed chunks that are mlock'ed (never
 * swapped) and excluded from core dumps (MADV_DONTDUMP).
 *
 * Slots are named by index and never move: the pool grows by adding
 * chunks, so a pointer from kc_secmem_slot() stays valid until that slot is
 * freed. A freed slot is wiped (explicit_bzero) at once; destroying the
 * pool wipes everything. When mlock is refused (EPERM, or ENOMEM from
 * RLIMIT_MEMLOCK) the pool keeps working unlocked and says so through
 * kc_secmem_locked().
 *
 * Not thread-safe: the owner serialises calls (the user tier has a mutex
 * for alloc and free).
 */
#ifndef KC_SECMEM_H
#define KC_SECMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kc_secmem;

/*
 * A pool of slots of slot_size bytes (1..4096, rounded up to 16), at most
 * max_slots of them. Nothing is mapped until the first allocation.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int kc_secmem_create(size_t slot_size, uint32_t max_slots,
		     struct kc_secmem **out);
/* Wipes, unlocks and unmaps every chunk. Accepts NULL. */
void kc_secmem_destroy(struct kc_secmem *m);

/*
 * A zeroed slot. Returns 0, -ENOSPC when max_slots are in use, -ENOMEM, or
 * the -errno of mmap/mlock other than the tolerated EPERM/ENOMEM.
 */
int kc_secmem_alloc(struct kc_secmem *m, uint32_t *idx);
/* Wipes the slot and makes it available again; ignores unallocated ones. */
void kc_secmem_free(struct kc_secmem *m, uint32_t idx);
/* The slot's memory, or NULL if idx is not allocated. */
void *kc_secmem_slot(const struct kc_secmem *m, uint32_t idx);

/* Slots currently mapped (allocated or free); indexes are below this. */
uint32_t kc_secmem_capacity(const struct kc_secmem *m);
/* False once any chunk could not be locked. */
bool kc_secmem_locked(const struct kc_secmem *m);

#endif
