// SPDX-License-Identifier: GPL-2.0-only
/*
 * The message log: batches, placement in segments, the index after a
 * commit, reads. See msglog.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "store/msglog_int.h"

/*
 * The log's folder; a new one is made durable in its parent too, so a
 * power cut cannot lose the folder with the segments it holds. (ext4 and
 * xfs commit the creation with the first segment's own fsync anyway; a
 * file system that does not order metadata so would not.)
 */
static int make_dir(const char *dir)
{
	char parent[PATH_MAX];

	if (mkdir(dir, 0700))
		return errno == EEXIST ? 0 : -errno;
	if (strlen(dir) >= sizeof(parent))
		return -ENAMETOOLONG;
	strcpy(parent, dir);
	return kc_file_sync_dir(dirname(parent));
}

int kc_msglog_open(const char *dir, const struct kc_msglog_opts *o,
		   struct kc_msglog **out, struct kc_msglog_report *rep)
{
	struct kc_msglog *log;
	int ret;

	ret = make_dir(dir);
	if (ret)
		return ret;
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->seg_bytes = o && o->segment_bytes ? o->segment_bytes
					       : KC_MSGLOG_SEGMENT_DEFAULT;
	if (o)
		log->lim = o->lim;
	log->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dir_fd < 0) {
		ret = -errno;
		free(log);
		return ret;
	}
	ret = kc_index_init(&log->ix);
	if (!ret)
		ret = kc_msglog_recover(log, rep);
	if (ret) {
		kc_msglog_close(log);
		return ret;
	}
	*out = log;
	return 0;
}

void kc_msglog_close(struct kc_msglog *log)
{
	struct kc_log_seg *seg, *next;

	if (!log)
		return;
	for (seg = log->oldest; seg; seg = next) {
		next = seg->next;
		kc_seg_free(seg);
	}
	kc_index_fini(&log->ix);
	if (log->dir_fd >= 0)
		close(log->dir_fd);
	free(log);
}

struct kc_log_seg *kc_msglog_seg_of(const struct kc_msglog *log, uint64_t lsn)
{
	for (struct kc_log_seg *s = log->oldest; s; s = s->next)
		if (lsn >= s->base && lsn < s->next_lsn)
			return s;
	return NULL;
}

/* --- batches --- */

void kc_msglog_batch_init(struct kc_log_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void kc_msglog_batch_fini(struct kc_log_batch *b)
{
	for (size_t i = 0; i < b->nmsgs; i++)
		free(b->msgs[i]);
	free(b->buf);
	free(b->msgs);
	free(b->tombs);
	free(b->tomb_lsns);
	free(b->undo);
	memset(b, 0, sizeof(*b));
}

int kc_msglog_batch_begin(struct kc_msglog *log, struct kc_log_batch *b)
{
	if (log->failed)
		return -EIO;
	b->len = 0;
	b->nmsgs = 0;
	b->ntombs = 0;
	b->nundo = 0;
	b->placed = false;
	b->limit = 0;
	b->first_lsn = log->next_lsn;
	log->batch_gen++;
	return 0;
}

bool kc_msglog_batch_empty(const struct kc_log_batch *b)
{
	return !b->nmsgs && !b->ntombs;
}

/* Room for one more of size bytes in *v (which holds n of cap). */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 64;
	p = reallocarray(*v, ncap, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

static int buf_room(struct kc_log_batch *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 64 * 1024;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

enum kc_window_verdict kc_msglog_judge(struct kc_msglog *log,
				       const char *sender, uint64_t counter)
{
	const struct kc_log_client *c = kc_index_find_client(&log->ix, sender);

	return c && c->sent ? kc_window_judge(&c->win, counter)
			    : KC_WINDOW_NEW;
}

struct kc_log_client *kc_msglog_client(struct kc_msglog *log, const char *id)
{
	return kc_index_client(&log->ix, id, strlen(id));
}

/* The window as it was before this batch, for batch_end to put back. */
static int save_window(struct kc_msglog *log, struct kc_log_batch *b,
		       struct kc_log_client *c)
{
	struct kc_window_undo *u;

	if (c->batch_gen == log->batch_gen)
		return 0;
	if (grow((void **)&b->undo, &b->undo_cap, b->nundo, sizeof(*u)))
		return -ENOMEM;
	u = &b->undo[b->nundo++];
	u->c = c;
	u->sent = c->sent;
	u->win = c->win;
	c->batch_gen = log->batch_gen;
	return 0;
}

static struct kc_log_entry *new_entry(struct kc_msglog *log,
				      const struct kc_rec_msg *m, uint64_t lsn)
{
	struct kc_log_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->sender = kc_index_client(&log->ix, (const char *)m->sender.p,
				    m->sender.len);
	e->recipient = kc_index_client(&log->ix, (const char *)m->recipient.p,
				       m->recipient.len);
	if (!e->sender || !e->recipient) {
		free(e);
		return NULL;
	}
	e->lsn = lsn;
	e->inner_len = (uint32_t)m->inner.len;
	memcpy(e->msg_id, m->msg_id, KC_MSGID_LEN);
	e->flags = m->flags;
	e->stored_at_ms = m->stored_at_ms;
	return e;
}

static size_t tomb_size(size_t ntombs)
{
	return ntombs ? kc_rec_size(8 + 8 * ntombs) : 0;
}

/* Within the batch's limit, with room kept for its TOMB record. */
static bool batch_fits(const struct kc_log_batch *b, size_t size)
{
	return !b->limit || b->len + size + tomb_size(b->ntombs) <= b->limit;
}

/* The recipient's queue quota, counting what this batch adds. */
static bool under_quota(struct kc_msglog *log, struct kc_log_client *r,
			size_t inner_len)
{
	const struct kc_msglog_limits *lim = &log->lim;

	if (r->pending_gen != log->batch_gen) {
		r->pending_gen = log->batch_gen;
		r->pending = 0;
		r->pending_bytes = 0;
	}
	if (lim->queue_max_msgs && r->queued + r->pending >= lim->queue_max_msgs)
		return false;
	return !lim->queue_max_bytes ||
	       r->queued_bytes + r->pending_bytes + inner_len <=
		       lim->queue_max_bytes;
}

/* Refusals that leave the batch as it was: quota and room. */
static int may_add(struct kc_msglog *log, const struct kc_log_batch *b,
		   const struct kc_rec_msg *m, size_t size)
{
	struct kc_log_client *r = kc_index_client(&log->ix,
						  (const char *)m->recipient.p,
						  m->recipient.len);

	if (!r)
		return -ENOMEM;
	if (!under_quota(log, r, m->inner.len))
		return -EDQUOT;
	return batch_fits(b, size) ? 0 : -ENOSPC;
}

int kc_msglog_add_msg(struct kc_msglog *log, struct kc_log_batch *b,
		      const struct kc_rec_msg *m, uint64_t *lsn)
{
	size_t size = kc_rec_size(kc_rec_msg_payload_len(m));
	struct kc_log_entry *e;
	int ret;

	if (!m->counter || m->inner.len > KC_REC_INNER_MAX)
		return -EINVAL;
	ret = may_add(log, b, m, size);
	if (ret)
		return ret;
	if (buf_room(b, size) ||
	    grow((void **)&b->msgs, &b->msgs_cap, b->nmsgs, sizeof(e)))
		return -ENOMEM;
	e = new_entry(log, m, log->next_lsn);
	if (!e)
		return -ENOMEM;
	if (save_window(log, b, e->sender)) {
		free(e);
		return -ENOMEM;
	}
	if (!kc_rec_put_msg(b->buf + b->len, e->lsn, m)) {
		free(e);
		return -EINVAL;
	}
	e->off = b->len; /* within the batch until placed */
	e->rec_len = (uint32_t)size;
	b->len += size;
	b->msgs[b->nmsgs++] = e;
	e->recipient->pending++;
	e->recipient->pending_bytes += e->inner_len;
	e->sender->sent = true;
	kc_window_accept(&e->sender->win, m->counter);
	*lsn = log->next_lsn++;
	return 0;
}

struct kc_log_entry *kc_msglog_find(struct kc_msglog *log,
				    const char *recipient,
				    const uint8_t msg_id[KC_MSGID_LEN])
{
	const struct kc_log_client *r = kc_index_find_client(&log->ix,
							     recipient);

	/* Two senders may pick one msg_id: the oldest not yet going. */
	return r ? kc_index_by_id(&log->ix, r, msg_id) : NULL;
}

int kc_msglog_add_tomb(struct kc_msglog *log, struct kc_log_batch *b,
		       struct kc_log_entry *e)
{
	if (e->dying || b->ntombs >= KC_REC_TOMB_MAX)
		return -EINVAL;
	if (b->limit && b->len + tomb_size(b->ntombs + 1) > b->limit)
		return -ENOSPC;
	if (grow((void **)&b->tombs, &b->tombs_cap, b->ntombs, sizeof(e)))
		return -ENOMEM;
	e->dying = true;
	b->tombs[b->ntombs++] = e;
	return 0;
}

/* The batch's one TOMB record, after its messages. */
static int seal_tombs(struct kc_msglog *log, struct kc_log_batch *b)
{
	size_t size = tomb_size(b->ntombs);

	if (!b->ntombs)
		return 0;
	if (buf_room(b, size))
		return -ENOMEM;
	b->tomb_lsns = reallocarray(b->tomb_lsns, b->ntombs, sizeof(uint64_t));
	if (!b->tomb_lsns)
		return -ENOMEM;
	for (size_t i = 0; i < b->ntombs; i++)
		b->tomb_lsns[i] = b->tombs[i]->lsn;
	kc_rec_put_tomb(b->buf + b->len, log->next_lsn++, b->tomb_lsns,
			(uint32_t)b->ntombs);
	b->len += size;
	return 0;
}

static uint64_t disk_bytes(const struct kc_msglog *log)
{
	uint64_t sum = 0;

	for (const struct kc_log_seg *seg = log->oldest; seg; seg = seg->next)
		sum += seg->size;
	return sum;
}

/*
 * A fresh segment for a batch that does not fit the active one; under
 * max_bytes a segment that would pass the cap is a full disk too.
 */
static int roll(struct kc_msglog *log, uint64_t base, size_t need)
{
	uint64_t size = log->seg_bytes > need ? log->seg_bytes : need;
	struct kc_log_seg *seg;
	int ret;

	if (log->lim.max_bytes && disk_bytes(log) + size > log->lim.max_bytes)
		return -ENOSPC;
	ret = kc_seg_create(log->dir_fd, base, size, &seg);

	if (ret)
		return ret;
	if (log->active)
		log->active->next = seg;
	else
		log->oldest = seg;
	log->active = seg;
	return 0;
}

static bool fits(const struct kc_log_seg *seg, uint64_t base, size_t len)
{
	return seg && seg->next_lsn == base && seg->used + len <= seg->size;
}

size_t kc_msglog_room(const struct kc_msglog *log)
{
	const struct kc_log_seg *seg = log->active;

	return seg && seg->next_lsn == log->next_lsn ? seg->size - seg->used
						      : 0;
}

int kc_msglog_place(struct kc_msglog *log, struct kc_log_batch *b,
		    struct kc_log_write *w)
{
	int ret;

	if (log->failed)
		return -EIO;
	ret = seal_tombs(log, b);
	if (!ret && !fits(log->active, b->first_lsn, b->len))
		ret = roll(log, b->first_lsn, b->len);
	if (ret)
		return ret;
	b->seg = log->active;
	b->off = log->active->used;
	b->placed = true;
	w->fd = b->seg->fd;
	w->off = b->off;
	w->buf = b->buf;
	w->len = b->len;
	return 0;
}

static void undo(struct kc_msglog *log, struct kc_log_batch *b)
{
	for (size_t i = b->nundo; i-- > 0;) {
		b->undo[i].c->sent = b->undo[i].sent;
		b->undo[i].c->win = b->undo[i].win;
	}
	for (size_t i = 0; i < b->ntombs; i++)
		b->tombs[i]->dying = false;
	for (size_t i = 0; i < b->nmsgs; i++)
		free(b->msgs[i]);
}

/*
 * -ENOSPC and -EAGAIN say nothing of the batch reached the disk: its lsns
 * are given back. Any other error after placing may have left part of it
 * there: the log takes no more batches (msglog.h).
 */
static void fail_batch(struct kc_msglog *log, struct kc_log_batch *b,
		       int err)
{
	bool unwritten = !b->placed || err == -ENOSPC || err == -EAGAIN;

	undo(log, b);
	if (unwritten)
		log->next_lsn = b->first_lsn;
	else
		log->failed = true;
}

static void apply_tomb(struct kc_msglog *log, struct kc_log_seg *here,
		       struct kc_log_entry *e)
{
	struct kc_log_seg *seg = e->seg;

	kc_index_remove(&log->ix, e);
	seg->live--;
	/* Remembered while its message's segment exists. */
	if (seg != here)
		kc_seg_add_ext_tomb(here, e->lsn);
	free(e);
}

static void commit_batch(struct kc_msglog *log, struct kc_log_batch *b)
{
	struct kc_log_seg *seg = b->seg;

	for (size_t i = 0; i < b->nmsgs; i++) {
		struct kc_log_entry *e = b->msgs[i];

		e->seg = seg;
		e->off += b->off;
		if (kc_index_add(&log->ix, e))
			free(e); /* out of memory: delivered after a restart */
		else
			seg->live++;
	}
	for (size_t i = 0; i < b->ntombs; i++)
		apply_tomb(log, seg, b->tombs[i]);
	seg->used = b->off + b->len;
	seg->next_lsn = log->next_lsn;
}

void kc_msglog_batch_end(struct kc_msglog *log, struct kc_log_batch *b,
			 int err)
{
	/* A batch that was never placed wrote nothing: no index to update. */
	if (err || !b->placed)
		fail_batch(log, b, err ? err : -EAGAIN);
	else
		commit_batch(log, b);
	b->nmsgs = 0;
	b->ntombs = 0;
	b->nundo = 0;
	b->len = 0;
	b->placed = false;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int kc_msglog_write_sync(struct kc_msglog *log, struct kc_log_batch *b)
{
	struct kc_log_write w;
	int ret = kc_msglog_place(log, b, &w);

	if (!ret)
		ret = pwrite_all(w.fd, w.buf, w.len, w.off);
	if (!ret && fdatasync(w.fd))
		ret = -errno;
	/* A write that failed after placing is a failed log, not ENOSPC. */
	if ((ret == -ENOSPC || ret == -EAGAIN) && b->placed)
		ret = -EIO;
	kc_msglog_batch_end(log, b, ret);
	return ret;
}

int kc_msglog_append_sync(struct kc_msglog *log, const uint8_t *buf,
			  size_t len)
{
	struct kc_log_seg *seg = log->active;
	int ret;

	if (!seg || seg->used + len > seg->size)
		return -ENOSPC;
	ret = pwrite_all(seg->fd, buf, len, seg->used);
	if (!ret && fdatasync(seg->fd))
		ret = -errno;
	if (ret) {
		log->failed = true;
		return ret;
	}
	seg->used += len;
	seg->next_lsn = log->next_lsn;
	return 0;
}

/* --- reading --- */

struct kc_log_entry *kc_msglog_queue_head(struct kc_msglog *log,
					  const char *recipient)
{
	const struct kc_log_client *r = kc_index_find_client(&log->ix,
							     recipient);

	return r ? r->head : NULL;
}

int kc_msglog_read(struct kc_msglog *log, const struct kc_log_entry *e,
		   uint8_t *buf, size_t cap, struct kc_rec_msg *m)
{
	struct kc_rec r;
	size_t got = 0;

	if (cap < e->rec_len)
		return -ENOBUFS;
	while (got < e->rec_len) {
		ssize_t n = pread(e->seg->fd, buf + got, e->rec_len - got,
				  (off_t)(e->off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	/* Damage after start is caught here, never delivered. */
	if (kc_rec_read(buf, got, &r) != KC_REC_OK || r.lsn != e->lsn ||
	    kc_rec_get_msg(&r, m))
		return -EBADMSG;
	return 0;
}

void kc_msglog_stats(const struct kc_msglog *log, struct kc_msglog_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (const struct kc_log_seg *seg = log->oldest; seg; seg = seg->next)
		s->segments++;
	s->disk_bytes = disk_bytes(log);
	s->queued = log->ix.nentries;
	s->next_lsn = log->next_lsn;
	s->failed = log->failed;
	for (size_t i = 0; i <= log->ix.clients_mask; i++)
		for (const struct kc_log_client *c = log->ix.clients[i]; c;
		     c = c->hnext)
			s->queued_bytes += c->queued_bytes;
}
