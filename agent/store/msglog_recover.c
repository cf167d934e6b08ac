// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery of the message log at start (msglog.h): the checkpoint's
 * counter windows, then every segment in lsn order.
 *
 * Within a segment, records carry consecutive lsns from the base in its
 * name. The first record that does not check (log_record.h), or whose lsn
 * is not the next one, ends what the segment holds: in the newest segment
 * that is the tail of a write a crash cut short (never acknowledged,
 * since the ACK waits for the fdatasync), and the bytes from there are
 * zeroed so that nothing of them can ever read as a record again; in an
 * older segment it is damage, reported with where it starts.
 *
 * Counters: records below the checkpoint's lsn_upto are already in its
 * windows; from there on each MSG record is judged as the agent judged it
 * when it wrote it. A MSG whose counter was accepted before (a write that
 * failed after reaching the disk, then a resend) is not queued twice.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "store/log_checkpoint.h"
#include "store/msglog_int.h"

#define ZERO_CHUNK (1u << 20)

static int cmp_base(const void *a, const void *b)
{
	const struct kc_log_seg *x = *(struct kc_log_seg *const *)a;
	const struct kc_log_seg *y = *(struct kc_log_seg *const *)b;

	return x->base < y->base ? -1 : x->base > y->base;
}

/* Every segment of the directory, oldest first, linked into the log. */
static int list_segments(struct kc_msglog *log, unsigned int *count)
{
	struct kc_log_seg **v = NULL, *seg;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int ret = 0, fd;
	DIR *d;

	fd = dup(log->dir_fd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while (!ret && (de = readdir(d))) {
		uint64_t base;

		if (kc_seg_parse_name(de->d_name, &base))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct kc_log_seg **nv = reallocarray(v, cap, sizeof(*v));

			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			v = nv;
		}
		ret = kc_seg_open(log->dir_fd, de->d_name, &seg);
		if (!ret)
			v[n++] = seg;
	}
	closedir(d);
	if (!ret && n)
		qsort(v, n, sizeof(*v), cmp_base);
	for (size_t i = 0; i < n; i++) {
		if (ret) {
			kc_seg_free(v[i]);
			continue;
		}
		if (i + 1 < n)
			v[i]->next = v[i + 1];
	}
	if (!ret && n) {
		log->oldest = v[0];
		log->active = v[n - 1];
	}
	*count = (unsigned int)n;
	free(v);
	return ret;
}

struct scan {
	struct kc_msglog *log;
	struct kc_msglog_report *rep;
	struct kc_log_seg *seg;
};

static int on_msg(struct scan *s, const struct kc_rec *r, uint64_t off)
{
	struct kc_msglog *log = s->log;
	struct kc_log_entry *e;
	struct kc_log_client *sender;
	struct kc_rec_msg m;

	if (kc_rec_get_msg(r, &m) || !m.counter)
		return -EBADMSG;
	s->rep->messages++;
	sender = kc_index_client(&log->ix, (const char *)m.sender.p,
				 m.sender.len);
	if (!sender)
		return -ENOMEM;
	if (r->lsn >= log->ckpt_lsn) {
		if (sender->sent &&
		    kc_window_judge(&sender->win, m.counter) != KC_WINDOW_NEW) {
			s->rep->duplicates++;
			return 0;
		}
		sender->sent = true;
		kc_window_accept(&sender->win, m.counter);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->lsn = r->lsn;
	e->seg = s->seg;
	e->off = off;
	e->rec_len = (uint32_t)r->size;
	e->inner_len = (uint32_t)m.inner.len;
	e->sender = sender;
	e->recipient = kc_index_client(&log->ix, (const char *)m.recipient.p,
				       m.recipient.len);
	memcpy(e->msg_id, m.msg_id, KC_MSGID_LEN);
	e->flags = m.flags;
	e->stored_at_ms = m.stored_at_ms;
	if (!e->recipient || kc_index_add(&log->ix, e)) {
		free(e);
		return -ENOMEM;
	}
	s->seg->live++;
	return 0;
}

static int on_tomb(struct scan *s, const struct kc_rec *r)
{
	uint32_t count;

	if (kc_rec_get_tomb(r, &count))
		return -EBADMSG;
	s->rep->tombstones += count;
	for (uint32_t i = 0; i < count; i++) {
		struct kc_log_entry *e = kc_index_by_lsn(&s->log->ix,
							 kc_rec_tomb_lsn(r, i));
		struct kc_log_seg *seg;

		/* Its message is gone already (segment deleted, duplicate). */
		if (!e)
			continue;
		seg = e->seg;
		kc_index_remove(&s->log->ix, e);
		seg->live--;
		if (seg != s->seg && kc_seg_add_ext_tomb(s->seg, e->lsn)) {
			free(e);
			return -ENOMEM;
		}
		free(e);
	}
	return 0;
}

static void note_damage(struct scan *s, uint64_t off, uint64_t bytes)
{
	struct kc_msglog_report *rep = s->rep;

	if (s->seg == s->log->active) {
		rep->torn_bytes += bytes;
		return;
	}
	if (!rep->damaged)
		snprintf(rep->first_damage, sizeof(rep->first_damage),
			 "%s at offset %llu", s->seg->name,
			 (unsigned long long)off);
	rep->damaged++;
	rep->damaged_bytes += bytes;
}

/* Bytes after off that are not zero (how much a cut throws away). */
static uint64_t nonzero_extent(const uint8_t *p, uint64_t off, uint64_t size)
{
	uint64_t end = size;

	while (end > off && !p[end - 1])
		end--;
	return end - off;
}

static int scan_records(struct scan *s, const uint8_t *p, uint64_t size)
{
	uint64_t off = 0, want = s->seg->base;
	struct kc_rec r;
	int ret = 0;

	while (!ret && off < size) {
		enum kc_rec_read rd = kc_rec_read(p + off, size - off, &r);

		if (rd == KC_REC_END)
			break;
		if (rd != KC_REC_OK || r.lsn != want) {
			note_damage(s, off, nonzero_extent(p, off, size));
			break;
		}
		s->rep->records++;
		ret = r.type == KC_REC_MSG ? on_msg(s, &r, off) : on_tomb(s, &r);
		if (ret == -EBADMSG) {
			/* Checks, yet does not decode: damage all the same. */
			note_damage(s, off, nonzero_extent(p, off, size));
			ret = 0;
			break;
		}
		off += r.size;
		want++;
	}
	s->seg->used = off;
	s->seg->next_lsn = want;
	return ret;
}

static int scan_segment(struct scan *s)
{
	struct kc_log_seg *seg = s->seg;
	uint8_t *p;
	int ret;

	if (!seg->size)
		return 0;
	p = mmap(NULL, seg->size, PROT_READ, MAP_PRIVATE, seg->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ret = scan_records(s, p, seg->size);
	munmap(p, seg->size);
	return ret;
}

/* Zeros the newest segment from where its data ends (a torn tail). */
static int zero_tail(struct kc_log_seg *seg, uint64_t bytes)
{
	static const uint8_t zeros[ZERO_CHUNK];
	uint64_t off = seg->used, end = seg->used + bytes;

	while (off < end) {
		size_t n = end - off < ZERO_CHUNK ? end - off : ZERO_CHUNK;
		ssize_t w = pwrite(seg->fd, zeros, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
	}
	return bytes && fdatasync(seg->fd) ? -errno : 0;
}

int kc_msglog_recover(struct kc_msglog *log, struct kc_msglog_report *rep)
{
	struct kc_msglog_report local;
	struct scan s = { .log = log };
	uint64_t t0 = kc_mono_ns();
	int ret;

	rep = rep ? rep : &local;
	memset(rep, 0, sizeof(*rep));
	s.rep = rep;
	ret = kc_checkpoint_read(log->dir_fd, &log->ix, &log->ckpt_lsn);
	rep->checkpoint = ret == 0;
	if (ret && ret != -ENOENT)
		return ret; /* a bad checkpoint is not guessed around */
	ret = list_segments(log, &rep->segments);
	for (s.seg = log->oldest; !ret && s.seg; s.seg = s.seg->next)
		ret = scan_segment(&s);
	if (!ret && log->active)
		ret = zero_tail(log->active, rep->torn_bytes);
	if (ret)
		return ret;
	log->next_lsn = log->active ? log->active->next_lsn : 1;
	if (log->next_lsn < log->ckpt_lsn)
		log->next_lsn = log->ckpt_lsn;
	rep->queued = log->ix.nentries;
	rep->seconds = (double)(kc_mono_ns() - t0) / 1e9;
	return 0;
}
