/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The log's checkpoint, DIR/checkpoint: every sender's counter window as
 * of a point in the log (lsn_upto: records below it are in the windows).
 * Counter windows are otherwise rebuilt from the MSG records; once a
 * segment is deleted its records are gone, so a checkpoint that covers
 * them must be durable first.
 *
 * Layout (little-endian): "KCLOGCK1", u64 lsn_upto, u32 count, then count
 * times (u8 id_len, id, u64 hi, 512 bytes of window bits), then u32
 * CRC32C of everything before it. Written to checkpoint.tmp, synced,
 * renamed over checkpoint, directory synced: it is never half there.
 */
#ifndef KC_LOG_CHECKPOINT_H
#define KC_LOG_CHECKPOINT_H

#include <stdint.h>

#include "store/log_index.h"

int kc_checkpoint_write(int dir_fd, const struct kc_log_index *ix,
			uint64_t lsn_upto);
/*
 * Loads DIR/checkpoint into ix's windows: 0 with *lsn_upto set, -ENOENT
 * when there is none (*lsn_upto 0), -EBADMSG when it does not check.
 */
int kc_checkpoint_read(int dir_fd, struct kc_log_index *ix,
		       uint64_t *lsn_upto);

#endif
