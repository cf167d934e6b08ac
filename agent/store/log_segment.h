/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Segment files of the message log: DIR/<base lsn, 16 hex digits>.log,
 * allocated whole when created (fallocate), so that a full disk shows as
 * a segment that cannot be made, never as a write that half happened, and
 * unwritten space reads as zeros (the end marker of log_record.h).
 *
 * Durability: a new segment's directory entry is made durable (fsync of
 * the directory) before the segment is handed out, so no acknowledged
 * record can sit in a file that a power cut would unlink; a deleted one
 * is gone for good only after the next directory fsync, and until then it
 * may come back, which recovery treats like any other segment.
 */
#ifndef KC_LOG_SEGMENT_H
#define KC_LOG_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#define KC_SEG_NAME_LEN 20 /* 16 hex digits + ".log" */

struct kc_log_seg {
	uint64_t base;	   /* lsn of its first record */
	uint64_t next_lsn; /* lsn of the record after its last */
	int fd;
	uint64_t size;	   /* bytes allocated */
	uint64_t used;	   /* bytes of records (where the next one goes) */
	uint64_t live;	   /* messages in it that are not yet delivered */
	/*
	 * Tombstones in this segment for messages of older segments: when
	 * this one goes, those that still matter are written again.
	 */
	uint64_t *ext_tombs;
	size_t n_ext, cap_ext;
	struct kc_log_seg *next; /* the next newer segment */
	char name[KC_SEG_NAME_LEN + 1];
};

/* Creates DIR/<base>.log of size bytes and fsyncs dir_fd. */
int kc_seg_create(int dir_fd, uint64_t base, uint64_t size,
		  struct kc_log_seg **out);
/* Opens an existing segment found by name (its base is in the name). */
int kc_seg_open(int dir_fd, const char *name, struct kc_log_seg **out);
/* The base lsn a segment name carries; -EINVAL for any other name. */
int kc_seg_parse_name(const char *name, uint64_t *base);
/* Unlinks the file (the caller fsyncs the directory) and frees seg. */
int kc_seg_remove(int dir_fd, struct kc_log_seg *seg);
void kc_seg_free(struct kc_log_seg *seg);
int kc_seg_add_ext_tomb(struct kc_log_seg *seg, uint64_t lsn);

#endif
