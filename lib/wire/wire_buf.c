// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bounds-checked big-endian reader and writer (see wire_buf.h for why these
 * are hand-written rather than taken from a library).
 */
#include <string.h>

#include "wire/wire_buf.h"

void kc_reader_init(struct kc_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->left = p ? len : 0;
	r->err = !p && len;
}

/*
 * The only place the read position moves: n is checked against what is
 * left before anything else, so a hostile n cannot overflow r->p.
 */
static const uint8_t *take(struct kc_reader *r, size_t n)
{
	const uint8_t *at = r->p;

	if (r->err || n > r->left) {
		r->err = true;
		return NULL;
	}
	if (n) {
		r->p += n;
		r->left -= n;
	}
	return at;
}

static uint64_t read_be(struct kc_reader *r, size_t width)
{
	const uint8_t *b = take(r, width);
	uint64_t v = 0;
	size_t i;

	if (!b)
		return 0;
	for (i = 0; i < width; i++)
		v = v << 8 | b[i];
	return v;
}

uint8_t kc_rd_u8(struct kc_reader *r)
{
	return (uint8_t)read_be(r, 1);
}

uint16_t kc_rd_u16(struct kc_reader *r)
{
	return (uint16_t)read_be(r, 2);
}

uint32_t kc_rd_u32(struct kc_reader *r)
{
	return (uint32_t)read_be(r, 4);
}

uint64_t kc_rd_u64(struct kc_reader *r)
{
	return read_be(r, 8);
}

const uint8_t *kc_rd_fixed(struct kc_reader *r, size_t n)
{
	return take(r, n);
}

static struct kc_bytes read_prefixed(struct kc_reader *r, size_t len)
{
	struct kc_bytes b = { take(r, len), len };

	if (r->err)
		b = (struct kc_bytes){ NULL, 0 };
	return b;
}

struct kc_bytes kc_rd_str(struct kc_reader *r)
{
	return read_prefixed(r, kc_rd_u16(r));
}

struct kc_bytes kc_rd_blob(struct kc_reader *r)
{
	return read_prefixed(r, kc_rd_u32(r));
}

bool kc_reader_done(const struct kc_reader *r)
{
	return !r->err && r->left == 0;
}

/* A NULL out is a buffer of capacity 0, never counting mode. */
void kc_writer_init(struct kc_writer *w, uint8_t *out, size_t cap)
{
	w->p = out;
	w->cap = out ? cap : 0;
	w->len = 0;
	w->err = false;
}

void kc_writer_init_count(struct kc_writer *w)
{
	w->p = NULL;
	w->cap = SIZE_MAX;
	w->len = 0;
	w->err = false;
}

static bool counting(const struct kc_writer *w)
{
	return !w->p && w->cap == SIZE_MAX;
}

void kc_wr_fixed(struct kc_writer *w, const void *src, size_t n)
{
	if (w->err)
		return;
	if ((!src && n) || n > w->cap - w->len) {
		w->err = true;
		return;
	}
	if (!counting(w) && n)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void write_be(struct kc_writer *w, uint64_t v, size_t width)
{
	uint8_t b[8];
	size_t i;

	for (i = width; i-- > 0; v >>= 8)
		b[i] = (uint8_t)v;
	kc_wr_fixed(w, b, width);
}

void kc_wr_u8(struct kc_writer *w, uint8_t v)
{
	write_be(w, v, 1);
}

void kc_wr_u16(struct kc_writer *w, uint16_t v)
{
	write_be(w, v, 2);
}

void kc_wr_u32(struct kc_writer *w, uint32_t v)
{
	write_be(w, v, 4);
}

void kc_wr_u64(struct kc_writer *w, uint64_t v)
{
	write_be(w, v, 8);
}

void kc_wr_str(struct kc_writer *w, struct kc_bytes b)
{
	if (b.len > UINT16_MAX) {
		w->err = true;
		return;
	}
	kc_wr_u16(w, (uint16_t)b.len);
	kc_wr_fixed(w, b.p, b.len);
}

void kc_wr_blob(struct kc_writer *w, struct kc_bytes b)
{
	if ((uint64_t)b.len > UINT32_MAX) {
		w->err = true;
		return;
	}
	kc_wr_u32(w, (uint32_t)b.len);
	kc_wr_fixed(w, b.p, b.len);
}

size_t kc_writer_finish(const struct kc_writer *w)
{
	return w->err ? 0 : w->len;
}
