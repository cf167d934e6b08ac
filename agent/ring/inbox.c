// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cross-worker notifications: see inbox.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/inbox.h"
#include "ring/ring.h"

struct kc_payload *kc_payload_new(size_t frame_len)
{
	struct kc_payload *p = malloc(sizeof(*p) + frame_len);

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->tag = 0;
	p->seq = 0;
	p->len = frame_len;
	return p;
}

struct kc_payload *kc_payload_get(struct kc_payload *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void kc_payload_put(struct kc_payload *p)
{
	if (p &&
	    atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		free(p);
}

void kc_inbox_init(struct kc_inbox *in)
{
	pthread_mutex_init(&in->lock, NULL);
	in->ring_fd = -1;
	in->head = NULL;
	in->tail = &in->head;
	in->armed = false;
}

void kc_inbox_fini(struct kc_inbox *in)
{
	struct kc_note *n = kc_inbox_take(in);

	while (n) {
		struct kc_note *next = n->next;

		kc_note_free(n);
		n = next;
	}
	pthread_mutex_destroy(&in->lock);
}

int kc_inbox_push(struct kc_inbox *in, uint32_t slot, uint32_t gen,
		  struct kc_payload *payload)
{
	struct kc_note *n = malloc(sizeof(*n));
	int wake;

	if (!n)
		return -ENOMEM;
	n->next = NULL;
	n->slot = slot;
	n->gen = gen;
	n->payload = kc_payload_get(payload);
	pthread_mutex_lock(&in->lock);
	*in->tail = n;
	in->tail = &n->next;
	wake = !in->armed;
	in->armed = true;
	pthread_mutex_unlock(&in->lock);
	return wake;
}

int kc_inbox_post(struct kc_inbox *to, struct kc_ring *from, uint32_t slot,
		  uint32_t gen, struct kc_payload *payload)
{
	struct io_uring_sqe *sqe;
	int ret = kc_inbox_push(to, slot, gen, payload);

	if (ret != 1)
		return ret;
	sqe = kc_ring_sqe(from);
	if (!sqe)
		return 0;
	kc_ring_prep_wake(sqe, to->ring_fd);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	return 0;
}

struct kc_note *kc_inbox_take(struct kc_inbox *in)
{
	struct kc_note *n;

	pthread_mutex_lock(&in->lock);
	n = in->head;
	in->head = NULL;
	in->tail = &in->head;
	in->armed = false;
	pthread_mutex_unlock(&in->lock);
	return n;
}

void kc_note_free(struct kc_note *n)
{
	if (!n)
		return;
	kc_payload_put(n->payload);
	free(n);
}
