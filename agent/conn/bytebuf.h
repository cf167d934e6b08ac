/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A growable byte buffer for the agent's per-connection queues (plaintext
 * frames waiting for TLS, ciphertext waiting for a send, frame assembly).
 *
 * Data lives in [head, len): consuming from the front only moves head, and
 * the bytes are moved down lazily when more room is needed, so a stream of
 * small frames costs no memmove per frame. Contents may be secrets
 * (decrypted frames): kc_bytebuf_free and kc_bytebuf_reset wipe them.
 */
#ifndef KC_BYTEBUF_H
#define KC_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

struct kc_bytebuf {
	uint8_t *p;
	size_t head; /* first unconsumed byte */
	size_t len;  /* end of data */
	size_t cap;
};

/* An empty buffer may hold no memory at all: then NULL, never NULL + 0. */
static inline const uint8_t *kc_bytebuf_data(const struct kc_bytebuf *b)
{
	return b->p ? b->p + b->head : NULL;
}

static inline size_t kc_bytebuf_size(const struct kc_bytebuf *b)
{
	return b->len - b->head;
}

/* Room for n more bytes at the end; returns a pointer there or NULL. */
uint8_t *kc_bytebuf_reserve(struct kc_bytebuf *b, size_t n);
/* Marks n bytes written at the pointer kc_bytebuf_reserve returned. */
void kc_bytebuf_commit(struct kc_bytebuf *b, size_t n);
int kc_bytebuf_append(struct kc_bytebuf *b, const void *src, size_t n);
/* Drops n bytes from the front; once empty, the memory is freed. */
void kc_bytebuf_consume(struct kc_bytebuf *b, size_t n);
/* Empties the buffer (wiping what it held) but keeps the memory. */
void kc_bytebuf_reset(struct kc_bytebuf *b);
/* Wipes and frees; the struct is left empty and reusable. */
void kc_bytebuf_free(struct kc_bytebuf *b);

#endif
