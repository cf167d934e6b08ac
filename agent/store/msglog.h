/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The message log (docs/DESIGN.md "Storage"): the agent's queued messages
 * as an append-only log of segment files, with each sender's counter
 * window. A message's life is append, deliver, tombstone; a segment whose
 * messages are all delivered is deleted, so the disk holds the undelivered
 * backlog, not the traffic.
 *
 * Writing is in batches, one write and one fdatasync each, issued by the
 * owner (the agent's committer does it on its io_uring; tools and tests
 * call kc_msglog_write_sync):
 *
 *   kc_msglog_batch_begin(log, b)
 *   for each SEND:  kc_msglog_judge() then, if new, kc_msglog_add_msg()
 *   for each DELIVERED: kc_msglog_find() then kc_msglog_add_tomb()
 *   kc_msglog_place(log, b, &w)       where the bytes go (may make a segment)
 *   ... write w.len bytes of w.buf at w.off of w.fd, then fdatasync ...
 *   kc_msglog_batch_end(log, b, err)  0: in the index; else undone
 *
 * Until batch_end the batch's messages are not in any queue, but their
 * counters already count for kc_msglog_judge (a second SEND with the same
 * counter in the same batch is a duplicate); a failed batch gives them
 * back. After a write or fsync error the log takes no more batches
 * (-EIO): what reached the disk is unknown until recovery reads it at the
 * next start. A full disk when a segment must be made is -ENOSPC and
 * leaves everything as it was: the log takes batches again once there is
 * room.
 *
 * Recovery (kc_msglog_open): every segment is read in order; a record
 * that does not check ends that segment (the tail of the last one is a
 * torn write, cut there and zeroed; anywhere else it is damage, reported
 * and skipped); queues are rebuilt and counter windows come from the
 * checkpoint plus the records after it.
 *
 * Not thread-safe: one owner, or a lock around every call.
 */
#ifndef KC_MSGLOG_H
#define KC_MSGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/counter_window.h"
#include "store/log_index.h"
#include "store/log_record.h"

#define KC_MSGLOG_SEGMENT_DEFAULT (64ull << 20)

struct kc_msglog;

/*
 * Limits (docs/OPERATIONS.md "Limits and hardening"), each 0 for none:
 * the segments' allocated bytes together, and each recipient's queue.
 */
struct kc_msglog_limits {
	uint64_t max_bytes;
	uint64_t queue_max_msgs, queue_max_bytes;
};

struct kc_msglog_opts {
	uint64_t segment_bytes; /* 0: KC_MSGLOG_SEGMENT_DEFAULT */
	struct kc_msglog_limits lim;
};

/* What recovery found (and how long it took). */
struct kc_msglog_report {
	unsigned int segments;
	uint64_t records, messages, tombstones;
	uint64_t queued; /* messages waiting for delivery */
	uint64_t duplicates; /* MSG records whose counter was accepted before */
	uint64_t torn_bytes; /* cut from the end of the last segment */
	unsigned int damaged; /* segments with a bad record before their end */
	uint64_t damaged_bytes; /* skipped after those bad records */
	char first_damage[96]; /* "SEGMENT at OFFSET", or "" */
	bool checkpoint; /* a checkpoint was loaded */
	double seconds;
};

int kc_msglog_open(const char *dir, const struct kc_msglog_opts *o,
		   struct kc_msglog **out, struct kc_msglog_report *rep);
void kc_msglog_close(struct kc_msglog *log);

struct kc_log_batch {
	uint8_t *buf;
	size_t len, cap;
	uint64_t first_lsn;
	struct kc_log_entry **msgs; /* entries to index on success */
	size_t nmsgs, msgs_cap;
	struct kc_log_entry **tombs; /* entries to delete on success */
	size_t ntombs, tombs_cap;
	uint64_t *tomb_lsns;
	struct kc_window_undo *undo; /* windows as they were before */
	size_t nundo, undo_cap;
	struct kc_log_seg *seg; /* where it was placed */
	uint64_t off;
	bool placed;
	/*
	 * Not 0: the batch must fit in this many bytes (its TOMB record
	 * included), the room left in the active segment when no new one
	 * can be made (kc_msglog_room): a message that does not fit is
	 * refused on its own (-ENOSPC from kc_msglog_add_msg).
	 */
	size_t limit;
};

/* Where and what to write: len bytes of buf at off of fd. */
struct kc_log_write {
	int fd;
	uint64_t off;
	const uint8_t *buf;
	size_t len;
};

void kc_msglog_batch_init(struct kc_log_batch *b);
void kc_msglog_batch_fini(struct kc_log_batch *b);
/* Starts an empty batch (b must not hold a pending one). */
int kc_msglog_batch_begin(struct kc_msglog *log, struct kc_log_batch *b);

/* Step 6 of SEND: the verdict on sender's counter, this batch included. */
enum kc_window_verdict kc_msglog_judge(struct kc_msglog *log,
				       const char *sender, uint64_t counter);
/* The log's record of client id, made on first use; NULL: no memory. */
struct kc_log_client *kc_msglog_client(struct kc_msglog *log, const char *id);
/*
 * Appends a message whose counter was judged new and accepts the counter.
 * *lsn is its queue position. 0, -ENOMEM, -EINVAL (bad field), -EDQUOT
 * (its recipient's queue is at its quota, this batch included), -ENOSPC
 * (it does not fit the batch's limit). On an error nothing changed.
 */
int kc_msglog_add_msg(struct kc_msglog *log, struct kc_log_batch *b,
		      const struct kc_rec_msg *m, uint64_t *lsn);

/*
 * DELIVERED: the oldest message queued for recipient with msg_id that no
 * batch is deleting yet, or NULL (not queued: the agent ignores it).
 */
struct kc_log_entry *kc_msglog_find(struct kc_msglog *log,
				    const char *recipient,
				    const uint8_t msg_id[KC_MSGID_LEN]);
/* Deletes e with this batch (a tombstone record is written). */
int kc_msglog_add_tomb(struct kc_msglog *log, struct kc_log_batch *b,
		       struct kc_log_entry *e);

bool kc_msglog_batch_empty(const struct kc_log_batch *b);
/*
 * Room in the active segment for a batch (0 without one): the limit a
 * batch gets after kc_msglog_place said -ENOSPC, so that what fits still
 * goes (the caller ends the failed batch and builds it again).
 */
size_t kc_msglog_room(const struct kc_msglog *log);
/*
 * Seals the batch and says where it goes, making a new segment (fallocate
 * and directory fsync) when the active one has no room: 0, -ENOSPC (no
 * room for a segment: end the batch with that error), -EIO (the log has
 * failed before), -errno.
 */
int kc_msglog_place(struct kc_msglog *log, struct kc_log_batch *b,
		    struct kc_log_write *w);
/*
 * err 0: the write and fdatasync succeeded: messages join their queues,
 * tombstoned ones leave them. Otherwise everything of the batch is undone;
 * -ENOSPC and -EAGAIN mean nothing of it was written, any other error
 * after kc_msglog_place makes the log fail (see the top of this file).
 * An empty batch, which needs no write, ends with err 0 unplaced.
 */
void kc_msglog_batch_end(struct kc_msglog *log, struct kc_log_batch *b,
			 int err);
/* place, pwrite, fdatasync, batch_end. */
int kc_msglog_write_sync(struct kc_msglog *log, struct kc_log_batch *b);

/*
 * Deletes the segments whose messages are all delivered (never the active
 * one): tombstones they hold that still matter are written again, a
 * checkpoint of the counter windows is made durable, then the files go.
 * Call between batches. Returns how many segments went, or -errno.
 */
int kc_msglog_reclaim(struct kc_msglog *log);

/* A recipient's queue, oldest first (entries stay valid until removed). */
struct kc_log_entry *kc_msglog_queue_head(struct kc_msglog *log,
					  const char *recipient);
/* Reads and checks e's record into buf (cap >= e->rec_len). */
int kc_msglog_read(struct kc_msglog *log, const struct kc_log_entry *e,
		   uint8_t *buf, size_t cap, struct kc_rec_msg *m);

struct kc_msglog_stats {
	unsigned int segments;
	uint64_t disk_bytes; /* allocated by the segments */
	uint64_t queued, queued_bytes;
	uint64_t next_lsn;
	bool failed;
};
void kc_msglog_stats(const struct kc_msglog *log, struct kc_msglog_stats *s);

#endif
