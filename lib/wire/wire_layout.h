/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarative record layouts for the wire codec.
 *
 * Each frame type and inner record kind of PROTOCOL.md sections 4-5 is
 * described once, as a list of fields (kind, size for fixed runs, offset
 * of the struct member that holds it). Decoding, sizing and encoding all
 * walk the same list, so they cannot disagree about the layout, and a
 * new frame type is one table line rather than three functions.
 *
 * The field macros check at compile time that the member has the C type
 * the field kind expects (a `str` field must land in a struct kc_bytes,
 * a fixed run in a const uint8_t pointer, and so on).
 */
#ifndef KC_WIRE_LAYOUT_H
#define KC_WIRE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire_buf.h"

#define KC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum kc_field_kind {
	KC_F_END = 0, /* unused slots of a layout are zero: the list ends */
	KC_F_U8,
	KC_F_U16,
	KC_F_U32,
	KC_F_U64,
	KC_F_FIXED, /* exactly `size` bytes; member is const uint8_t * */
	KC_F_STR,   /* u16 length || bytes; member is struct kc_bytes */
	KC_F_BLOB,  /* u32 length || bytes; member is struct kc_bytes */
};

struct kc_field {
	uint8_t kind;
	uint16_t size;
	uint16_t off;
};

#define KC_LAYOUT_MAX_FIELDS 6 /* SESSION_INIT */

struct kc_layout {
	uint8_t tag; /* frame type or inner kind; unused for untagged records */
	struct kc_field f[KC_LAYOUT_MAX_FIELDS];
};

/* Evaluates to 0, or fails to compile if `member` is not a `T`. */
#define KC_MEMBER_IS(T, type, member)                                          \
	(0 * sizeof((T *){ &((type *)0)->member }))

#define KC_FIELD_OF(kind, T, size, type, member)                               \
	{                                                                      \
		kind, size,                                                    \
			offsetof(type, member) + KC_MEMBER_IS(T, type, member) \
	}
#define KC_U8(type, m) KC_FIELD_OF(KC_F_U8, uint8_t, 0, type, m)
#define KC_U16(type, m) KC_FIELD_OF(KC_F_U16, uint16_t, 0, type, m)
#define KC_U32(type, m) KC_FIELD_OF(KC_F_U32, uint32_t, 0, type, m)
#define KC_U64(type, m) KC_FIELD_OF(KC_F_U64, uint64_t, 0, type, m)
#define KC_FIXED(type, m, n)                                                   \
	KC_FIELD_OF(KC_F_FIXED, const uint8_t *, n, type, m)
#define KC_STR(type, m) KC_FIELD_OF(KC_F_STR, struct kc_bytes, 0, type, m)
#define KC_BLOB(type, m) KC_FIELD_OF(KC_F_BLOB, struct kc_bytes, 0, type, m)

const struct kc_layout *kc_layout_find(const struct kc_layout *tab, size_t n,
				       uint8_t tag);

/*
 * Reads every field of l into obj and requires the reader to end exactly
 * there. Returns 0 or -KC_BAD_FRAME (short field or trailing bytes).
 */
int kc_layout_decode(const struct kc_layout *l, struct kc_reader *r, void *obj);

/* Writes every field of obj; failures stay in the writer's error flag. */
void kc_layout_encode(const struct kc_layout *l, struct kc_writer *w,
		      const void *obj);

/*
 * Where the field held at byte offset `member` of obj starts in l's
 * encoding of obj, counted from its first field, or -1 when no field of l
 * is held there. The fields before it are sized as kc_layout_encode
 * writes them (a str or blob by its length in obj).
 */
long kc_layout_field_offset(const struct kc_layout *l, const void *obj,
			    size_t member);

#endif
