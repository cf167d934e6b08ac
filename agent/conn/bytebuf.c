// SPDX-License-Identifier: GPL-2.0-only
/*
 * Growable byte buffer: see bytebuf.h for the head/len convention.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn/bytebuf.h"

#define MIN_CAP 256

/* Slides the live bytes to the front, wiping the stale tail they leave. */
static void compact(struct kc_bytebuf *b)
{
	size_t live = kc_bytebuf_size(b);

	if (!b->head)
		return;
	memmove(b->p, b->p + b->head, live);
	explicit_bzero(b->p + live, b->len - live);
	b->head = 0;
	b->len = live;
}

/*
 * Grows by copying rather than realloc so the old block can be wiped:
 * realloc would free it with decrypted frames still inside.
 */
static int grow(struct kc_bytebuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : MIN_CAP;
	uint8_t *p;

	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (b->p) {
		memcpy(p, b->p, b->len);
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

uint8_t *kc_bytebuf_reserve(struct kc_bytebuf *b, size_t n)
{
	if (n > SIZE_MAX - b->len)
		return NULL;
	if (b->cap - b->len >= n)
		return b->p + b->len;
	compact(b);
	if (b->cap - b->len < n && grow(b, b->len + n))
		return NULL;
	return b->p + b->len;
}

void kc_bytebuf_commit(struct kc_bytebuf *b, size_t n)
{
	b->len += n;
}

int kc_bytebuf_append(struct kc_bytebuf *b, const void *src, size_t n)
{
	uint8_t *dst = kc_bytebuf_reserve(b, n);

	if (!dst)
		return -ENOMEM;
	if (n)
		memcpy(dst, src, n);
	b->len += n;
	return 0;
}

/*
 * Emptied, a buffer gives its memory back: an idle connection then holds
 * none of its five (docs/BENCHMARKS.md, "Idle authenticated
 * connections: memory"). A busy one
 * pays a malloc per burst, small beside the record it carries.
 */
void kc_bytebuf_consume(struct kc_bytebuf *b, size_t n)
{
	b->head += n;
	if (b->head == b->len)
		kc_bytebuf_free(b);
}

void kc_bytebuf_reset(struct kc_bytebuf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->len);
	b->head = 0;
	b->len = 0;
}

void kc_bytebuf_free(struct kc_bytebuf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}
