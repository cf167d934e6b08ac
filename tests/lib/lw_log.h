/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a dm-log-writes log and replaying it onto a device or an image
 * file, forward only: the log is read once, entry after entry, and a
 * caller that wants to look at the device at several points applies up to
 * the first, looks (at a copy), and goes on from there.
 *
 * The on-disk form, as the kernel's dm-log-writes writes it: sector 0 of
 * the log holds a little-endian super (magic, version 1, the number of
 * entries, the data device's logical block size, our "sector" below).
 * From the second sector on, each entry is one header sector (sector,
 * count, flags, data length; a mark's name follows the header in the
 * same sector) and, unless it is a discard, count sectors of the data that
 * was written. Writes appear in the log once a flush has covered them,
 * so replaying up to any entry gives what the disk held at that point of
 * a power loss.
 */
#ifndef KC_TEST_LW_LOG_H
#define KC_TEST_LW_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LW_FLUSH (1u << 0)
#define LW_FUA (1u << 1)
#define LW_DISCARD (1u << 2)
#define LW_MARK (1u << 3)
#define LW_META (1u << 4)

#define LW_MARK_MAX 480 /* a mark name fits in the header's sector */

struct lw_log {
	int fd;
	uint32_t sectorsize;
	uint64_t nr_entries;
	uint64_t next; /* index of the entry lw_next() reads */
	off_t pos;     /* its offset in the log */
};

struct lw_entry {
	uint64_t index;
	uint64_t sector, nr_sectors; /* in the log's sectorsize */
	uint64_t flags;
	off_t data_pos; /* where a write's data starts in the log */
	char mark[LW_MARK_MAX + 1];
};

/* Opens a log (device or file) and checks its super. 0 or -errno. */
int lw_open(struct lw_log *lg, const char *path);
void lw_close(struct lw_log *lg);
/* The next entry: 0, 1 past the last one, -errno (-EPROTO: malformed). */
int lw_next(struct lw_log *lg, struct lw_entry *e);
/*
 * Applies one entry to dev_fd: a write's data at its place, a discard as
 * zeroes (a hole in a file), nothing for flushes and marks. 0 or -errno.
 */
int lw_apply(const struct lw_log *lg, const struct lw_entry *e, int dev_fd);
/*
 * Applies entries up to and including the one stop() accepts (or to the
 * end when stop is NULL); that entry is left in *e. 0 when stop found
 * one, 1 at the end of the log, -errno.
 */
int lw_replay_until(struct lw_log *lg, int dev_fd,
		    bool (*stop)(const struct lw_entry *e, void *arg),
		    void *arg, struct lw_entry *e);

#endif
