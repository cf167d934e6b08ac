// SPDX-License-Identifier: GPL-2.0-only
/*
 * Log records: see log_record.h for the layout.
 *
 * The checksum is ISA-L's crc32_iscsi (Debian's libisal), which picks the
 * CPU's CRC32 instruction where there is one: a record is checked once
 * when written and again at every start, so its cost counts.
 */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>

#include "store/log_record.h"

uint32_t kc_crc32c(const void *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	const uint8_t *b = p;

	/* crc32_iscsi takes an int length: feed it in slices below that. */
	while (len) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;

		crc = crc32_iscsi((unsigned char *)b, n, crc);
		b += n;
		len -= (size_t)n;
	}
	return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Header and padding around a payload already at dst + KC_REC_HDR_LEN. */
static size_t seal(uint8_t *dst, uint64_t lsn, uint8_t type, size_t len)
{
	size_t size = kc_rec_size(len);

	put_le32(dst + 4, (uint32_t)len);
	put_le64(dst + 8, lsn);
	memset(dst + 16, 0, 8);
	dst[16] = type;
	memset(dst + KC_REC_HDR_LEN + len, 0, size - KC_REC_HDR_LEN - len);
	put_le32(dst, kc_crc32c(dst + 4, KC_REC_HDR_LEN - 4 + len));
	return size;
}

size_t kc_rec_msg_payload_len(const struct kc_rec_msg *m)
{
	return KC_REC_MSG_FIXED + m->sender.len + m->recipient.len + 4 +
	       m->inner.len;
}

size_t kc_rec_put_msg(uint8_t *dst, uint64_t lsn, const struct kc_rec_msg *m)
{
	uint8_t *p = dst + KC_REC_HDR_LEN;

	if (!m->sender.len || m->sender.len > KC_CLIENT_ID_MAX ||
	    !m->recipient.len || m->recipient.len > KC_CLIENT_ID_MAX ||
	    m->inner.len > KC_REC_INNER_MAX)
		return 0;
	put_le64(p, m->counter);
	put_le64(p + 8, (uint64_t)m->stored_at_ms);
	p[16] = m->flags;
	p[17] = (uint8_t)m->sender.len;
	p[18] = (uint8_t)m->recipient.len;
	p[19] = 0;
	memcpy(p + 20, m->msg_id, KC_MSGID_LEN);
	p += KC_REC_MSG_FIXED;
	memcpy(p, m->sender.p, m->sender.len);
	p += m->sender.len;
	memcpy(p, m->recipient.p, m->recipient.len);
	p += m->recipient.len;
	put_le32(p, (uint32_t)m->inner.len);
	if (m->inner.len)
		memcpy(p + 4, m->inner.p, m->inner.len);
	return seal(dst, lsn, KC_REC_MSG, kc_rec_msg_payload_len(m));
}

size_t kc_rec_put_tomb(uint8_t *dst, uint64_t lsn, const uint64_t *lsns,
		       uint32_t count)
{
	uint8_t *p = dst + KC_REC_HDR_LEN;

	if (!count || count > KC_REC_TOMB_MAX)
		return 0;
	put_le32(p, count);
	put_le32(p + 4, 0);
	for (uint32_t i = 0; i < count; i++)
		put_le64(p + 8 + 8 * (size_t)i, lsns[i]);
	return seal(dst, lsn, KC_REC_TOMB, 8 + 8 * (size_t)count);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return !acc;
}

enum kc_rec_read kc_rec_read(const uint8_t *p, size_t avail,
			     struct kc_rec *r)
{
	uint32_t len;

	if (avail < KC_REC_HDR_LEN)
		return avail && !all_zero(p, avail) ? KC_REC_SHORT : KC_REC_END;
	if (all_zero(p, KC_REC_HDR_LEN))
		return KC_REC_END;
	len = get_le32(p + 4);
	if (len > KC_REC_INNER_MAX + KC_REC_MSG_FIXED + 2 * KC_CLIENT_ID_MAX + 4 ||
	    !all_zero(p + 17, 7) ||
	    (p[16] != KC_REC_MSG && p[16] != KC_REC_TOMB))
		return KC_REC_BAD;
	if (kc_rec_size(len) > avail)
		return KC_REC_SHORT;
	if (get_le32(p) != kc_crc32c(p + 4, KC_REC_HDR_LEN - 4 + len))
		return KC_REC_BAD;
	r->lsn = get_le64(p + 8);
	r->type = p[16];
	r->payload = p + KC_REC_HDR_LEN;
	r->len = len;
	r->size = kc_rec_size(len);
	return KC_REC_OK;
}

int kc_rec_get_msg(const struct kc_rec *r, struct kc_rec_msg *m)
{
	const uint8_t *p = r->payload;
	size_t ids, inner_at;

	if (r->type != KC_REC_MSG || r->len < KC_REC_MSG_FIXED + 4)
		return -EBADMSG;
	m->counter = get_le64(p);
	m->stored_at_ms = (int64_t)get_le64(p + 8);
	m->flags = p[16];
	m->sender.len = p[17];
	m->recipient.len = p[18];
	m->msg_id = p + 20;
	ids = m->sender.len + m->recipient.len;
	inner_at = KC_REC_MSG_FIXED + ids;
	if (!m->sender.len || !m->recipient.len || inner_at + 4 > r->len)
		return -EBADMSG;
	m->sender.p = p + KC_REC_MSG_FIXED;
	m->recipient.p = m->sender.p + m->sender.len;
	m->inner.len = get_le32(p + inner_at);
	m->inner.p = p + inner_at + 4;
	return inner_at + 4 + m->inner.len == r->len ? 0 : -EBADMSG;
}

int kc_rec_get_tomb(const struct kc_rec *r, uint32_t *count)
{
	if (r->type != KC_REC_TOMB || r->len < 8)
		return -EBADMSG;
	*count = get_le32(r->payload);
	if (!*count || *count > KC_REC_TOMB_MAX ||
	    r->len != 8 + 8 * (size_t)*count)
		return -EBADMSG;
	return 0;
}

uint64_t kc_rec_tomb_lsn(const struct kc_rec *r, uint32_t i)
{
	return get_le64(r->payload + 8 + 8 * (size_t)i);
}
