// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one interpreter of the field tables in wire_layout.h: frames, the
 * SEND plaintext and the inner records all decode and encode through here.
 */
#include "wire/wire_layout.h"

const struct kc_layout *kc_layout_find(const struct kc_layout *tab, size_t n,
				       uint8_t tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].tag == tag)
			return &tab[i];
	return NULL;
}

static void decode_field(const struct kc_field *f, struct kc_reader *r,
			 uint8_t *obj)
{
	void *m = obj + f->off;

	switch (f->kind) {
	case KC_F_U8:
		*(uint8_t *)m = kc_rd_u8(r);
		break;
	case KC_F_U16:
		*(uint16_t *)m = kc_rd_u16(r);
		break;
	case KC_F_U32:
		*(uint32_t *)m = kc_rd_u32(r);
		break;
	case KC_F_U64:
		*(uint64_t *)m = kc_rd_u64(r);
		break;
	case KC_F_FIXED:
		*(const uint8_t **)m = kc_rd_fixed(r, f->size);
		break;
	case KC_F_STR:
		*(struct kc_bytes *)m = kc_rd_str(r);
		break;
	case KC_F_BLOB:
		*(struct kc_bytes *)m = kc_rd_blob(r);
		break;
	}
}

int kc_layout_decode(const struct kc_layout *l, struct kc_reader *r, void *obj)
{
	size_t i;

	for (i = 0; i < KC_LAYOUT_MAX_FIELDS && l->f[i].kind != KC_F_END; i++)
		decode_field(&l->f[i], r, obj);
	return kc_reader_done(r) ? 0 : -KC_BAD_FRAME;
}

static void encode_field(const struct kc_field *f, struct kc_writer *w,
			 const uint8_t *obj)
{
	const void *m = obj + f->off;

	switch (f->kind) {
	case KC_F_U8:
		kc_wr_u8(w, *(const uint8_t *)m);
		break;
	case KC_F_U16:
		kc_wr_u16(w, *(const uint16_t *)m);
		break;
	case KC_F_U32:
		kc_wr_u32(w, *(const uint32_t *)m);
		break;
	case KC_F_U64:
		kc_wr_u64(w, *(const uint64_t *)m);
		break;
	case KC_F_FIXED:
		/* A NULL pointer here is refused by kc_wr_fixed (size > 0). */
		kc_wr_fixed(w, *(const uint8_t *const *)m, f->size);
		break;
	case KC_F_STR:
		kc_wr_str(w, *(const struct kc_bytes *)m);
		break;
	case KC_F_BLOB:
		kc_wr_blob(w, *(const struct kc_bytes *)m);
		break;
	}
}

void kc_layout_encode(const struct kc_layout *l, struct kc_writer *w,
		      const void *obj)
{
	size_t i;

	for (i = 0; i < KC_LAYOUT_MAX_FIELDS && l->f[i].kind != KC_F_END; i++)
		encode_field(&l->f[i], w, obj);
}

static size_t field_size(const struct kc_field *f, const uint8_t *obj)
{
	const void *m = obj + f->off;

	switch (f->kind) {
	case KC_F_U8:
		return 1;
	case KC_F_U16:
		return 2;
	case KC_F_U32:
		return 4;
	case KC_F_U64:
		return 8;
	case KC_F_FIXED:
		return f->size;
	case KC_F_STR:
		return 2 + ((const struct kc_bytes *)m)->len;
	case KC_F_BLOB:
		return 4 + ((const struct kc_bytes *)m)->len;
	}
	return 0;
}

long kc_layout_field_offset(const struct kc_layout *l, const void *obj,
			    size_t member)
{
	size_t i, at = 0;

	for (i = 0; i < KC_LAYOUT_MAX_FIELDS && l->f[i].kind != KC_F_END; i++) {
		if (l->f[i].off == member)
			return (long)at;
		at += field_size(&l->f[i], obj);
	}
	return -1;
}
