/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Notifications for connections on another worker (docs/DESIGN.md "Router"):
 * a DELIVER or RECEIPT frame, encoded once, shared by reference between
 * every connection it goes to, and queued on the target worker's inbox.
 *
 * The inbox is a mutex-protected FIFO. The pusher learns whether the inbox
 * went from empty to non-empty and then wakes the owner with MSG_RING;
 * later pushes before the owner drains add no more wake-ups. Notes come
 * out in the order they went in, which is seq order for DELIVERs because
 * the router pushes them while holding the store lock.
 */
#ifndef KC_INBOX_H
#define KC_INBOX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An encoded frame plus what the receiving connection needs to judge it. */
struct kc_payload {
	atomic_uint refs;
	uint32_t tag; /* what it is, for the layer above (the ring never looks) */
	uint64_t seq; /* DELIVER: the message's queue position; else 0 */
	uint64_t stamp_ns; /* live DELIVER: when its round was durable */
	size_t len;
	uint8_t frame[];
};

struct kc_payload *kc_payload_new(size_t frame_len);
struct kc_payload *kc_payload_get(struct kc_payload *p);
void kc_payload_put(struct kc_payload *p);

/* One payload for one connection (slot and generation on the target). */
struct kc_note {
	struct kc_note *next;
	uint32_t slot, gen;
	struct kc_payload *payload; /* holds one reference */
};

struct kc_ring;

struct kc_inbox {
	pthread_mutex_t lock;
	int ring_fd; /* the owner's ring for MSG_RING, once it is up */
	struct kc_note *head, **tail;
	bool armed; /* a wake-up is on its way: no need for another */
};

void kc_inbox_init(struct kc_inbox *in);
/* Frees what is still queued. */
void kc_inbox_fini(struct kc_inbox *in);
/*
 * Queues a note (taking a reference to payload). Returns 1 when the owner
 * must be woken, 0 when a wake-up is already pending, -ENOMEM.
 */
int kc_inbox_push(struct kc_inbox *in, uint32_t slot, uint32_t gen,
		  struct kc_payload *payload);
/*
 * kc_inbox_push from another worker's thread, waking the owner through
 * `from`, the caller's own ring. 0 or -ENOMEM; without a wake-up (no SQE)
 * the note still goes out at the owner's next tick.
 */
int kc_inbox_post(struct kc_inbox *to, struct kc_ring *from, uint32_t slot,
		  uint32_t gen, struct kc_payload *payload);
/* Takes the whole queue, oldest first; the caller frees each note. */
struct kc_note *kc_inbox_take(struct kc_inbox *in);
void kc_note_free(struct kc_note *n);

#endif
