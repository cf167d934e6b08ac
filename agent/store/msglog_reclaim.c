// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deleting segments whose messages are all delivered (msglog.h).
 *
 * Two things a segment holds outlive its messages. Its MSG records carry
 * counters: a checkpoint of every window, durable before the file goes,
 * keeps them. Its TOMB records may delete messages of older segments that
 * are still there: those tombstones are written again at the end of the
 * log first, or recovery would bring the messages back.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/log_checkpoint.h"
#include "store/msglog_int.h"

static bool doomed(const struct kc_msglog *log, const struct kc_log_seg *s)
{
	return s != log->active && s->live == 0;
}

/* Tombstones of doomed segments whose messages' segments stay. */
static int collect_tombs(struct kc_msglog *log, uint64_t **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (struct kc_log_seg *s = log->oldest; s; s = s->next) {
		if (!doomed(log, s))
			continue;
		for (size_t i = 0; i < s->n_ext; i++) {
			struct kc_log_seg *t = kc_msglog_seg_of(log,
								s->ext_tombs[i]);

			if (!t || doomed(log, t))
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				uint64_t *v = reallocarray(*out, cap, sizeof(*v));

				if (!v)
					return -ENOMEM;
				*out = v;
			}
			(*out)[(*n)++] = s->ext_tombs[i];
		}
	}
	return 0;
}

/* One TOMB record with the lsns at the end of the active segment. */
static int rewrite_tombs(struct kc_msglog *log, const uint64_t *lsns, size_t n)
{
	struct kc_log_seg *here = log->active;
	uint8_t *rec;
	size_t size;
	int ret;

	if (!n)
		return 0;
	if (n > KC_REC_TOMB_MAX)
		return -E2BIG; /* the next round takes the rest */
	size = kc_rec_size(8 + 8 * n);
	rec = malloc(size);
	if (!rec)
		return -ENOMEM;
	kc_rec_put_tomb(rec, log->next_lsn, lsns, (uint32_t)n);
	log->next_lsn++;
	ret = kc_msglog_append_sync(log, rec, size);
	free(rec);
	if (ret) {
		log->next_lsn--;
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		kc_seg_add_ext_tomb(here, lsns[i]);
	return 0;
}

static int remove_doomed(struct kc_msglog *log)
{
	struct kc_log_seg **pp = &log->oldest;
	int removed = 0, ret = 0, err;

	while (*pp) {
		struct kc_log_seg *s = *pp;

		if (!doomed(log, s)) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		err = kc_seg_remove(log->dir_fd, s);
		if (err && !ret)
			ret = err;
		removed++;
	}
	if (removed && fsync(log->dir_fd) && !ret)
		ret = -errno;
	return ret ? ret : removed;
}

int kc_msglog_reclaim(struct kc_msglog *log)
{
	uint64_t *tombs;
	bool any = false;
	size_t n;
	int ret;

	if (log->failed)
		return -EIO;
	for (struct kc_log_seg *s = log->oldest; s; s = s->next)
		any |= doomed(log, s);
	if (!any)
		return 0;
	ret = collect_tombs(log, &tombs, &n);
	if (!ret)
		ret = rewrite_tombs(log, tombs, n);
	free(tombs);
	if (!ret)
		ret = kc_checkpoint_write(log->dir_fd, &log->ix, log->next_lsn);
	if (ret)
		return ret;
	log->ckpt_lsn = log->next_lsn;
	return remove_doomed(log);
}
