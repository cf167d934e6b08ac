/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the message log: the state msglog.c, msglog_recover.c and
 * msglog_reclaim.c share. Not for use elsewhere.
 */
#ifndef KC_MSGLOG_INT_H
#define KC_MSGLOG_INT_H

#include "store/msglog.h"

struct kc_window_undo {
	struct kc_log_client *c;
	bool sent;
	struct kc_counter_window win;
};

struct kc_msglog {
	int dir_fd;
	uint64_t seg_bytes;
	struct kc_msglog_limits lim;
	struct kc_log_seg *oldest, *active; /* oldest ... active, by ->next */
	uint64_t next_lsn;
	uint64_t ckpt_lsn; /* lsn_upto of the durable checkpoint */
	uint64_t batch_gen;
	bool failed; /* a write or fsync failed: no more batches */
	struct kc_log_index ix;
};

/* Recovery (msglog_recover.c): reads every segment into the log. */
int kc_msglog_recover(struct kc_msglog *log, struct kc_msglog_report *rep);

/* The segment holding lsn, or NULL when it is gone. */
struct kc_log_seg *kc_msglog_seg_of(const struct kc_msglog *log, uint64_t lsn);

/* Writes buf at the end of the active segment and syncs (reclaim). */
int kc_msglog_append_sync(struct kc_msglog *log, const uint8_t *buf,
			  size_t len);

#endif
