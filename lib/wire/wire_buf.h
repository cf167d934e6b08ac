/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounds-checked big-endian reader and writer for the wire codec.
 *
 * Hand-written on purpose: what we need is a dozen lines per direction
 * (fixed-width integers, fixed-size byte runs, u16/u32 length-prefixed
 * runs), and no library makes that smaller or easier to audit than this.
 *
 * Both sides keep a sticky error flag: after the first failure every
 * further call is a no-op that yields zero values, so a codec can run a
 * whole field list and check the flag once at the end.
 *
 * Reader: every length read from the wire is compared with what remains
 * before any pointer moves, so no length (however close to 2^32) can make
 * it read past the end or wrap an addition.
 *
 * Writer: either fills a caller buffer of fixed capacity (error on
 * overflow) or, in counting mode, only adds up sizes so that *_size() and
 * *_encode() share one code path. str refuses more than 65535 bytes, blob
 * more than UINT32_MAX, whatever the capacity.
 */
#ifndef KC_WIRE_BUF_H
#define KC_WIRE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

struct kc_reader {
	const uint8_t *p;
	size_t left;
	bool err;
};

void kc_reader_init(struct kc_reader *r, const uint8_t *p, size_t len);
uint8_t kc_rd_u8(struct kc_reader *r);
uint16_t kc_rd_u16(struct kc_reader *r);
uint32_t kc_rd_u32(struct kc_reader *r);
uint64_t kc_rd_u64(struct kc_reader *r);
/* Returns a pointer to the next n bytes; check err before using it. */
const uint8_t *kc_rd_fixed(struct kc_reader *r, size_t n);
struct kc_bytes kc_rd_str(struct kc_reader *r);
struct kc_bytes kc_rd_blob(struct kc_reader *r);
/* True when no error occurred and every byte was consumed. */
bool kc_reader_done(const struct kc_reader *r);

struct kc_writer {
	uint8_t *p; /* NULL in counting mode */
	size_t cap;
	size_t len;
	bool err;
};

void kc_writer_init(struct kc_writer *w, uint8_t *out, size_t cap);
void kc_writer_init_count(struct kc_writer *w);
void kc_wr_u8(struct kc_writer *w, uint8_t v);
void kc_wr_u16(struct kc_writer *w, uint16_t v);
void kc_wr_u32(struct kc_writer *w, uint32_t v);
void kc_wr_u64(struct kc_writer *w, uint64_t v);
/* src may be NULL only when n is 0; otherwise NULL is an error. */
void kc_wr_fixed(struct kc_writer *w, const void *src, size_t n);
void kc_wr_str(struct kc_writer *w, struct kc_bytes b);
void kc_wr_blob(struct kc_writer *w, struct kc_bytes b);
/* Bytes written (or counted), or 0 after any error. */
size_t kc_writer_finish(const struct kc_writer *w);

#endif
