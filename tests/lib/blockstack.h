/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The block devices and file systems under a power-loss test, through
 * the system's own tools (losetup, dmsetup, mkfs, fsck, mount): loop
 * devices over image files, ext4 in its ordered or writeback data mode or
 * xfs on them, and sparse copies of images. Each helper runs one tool
 * directly (no shell) and, when it fails, prints the command and what it
 * said to stderr.
 */
#ifndef KC_TEST_BLOCKSTACK_H
#define KC_TEST_BLOCKSTACK_H

#include <stdbool.h>
#include <stddef.h>

/* The file system under test. */
struct bs_fs {
	const char *type;  /* "ext4" or "xfs" */
	const char *mopts; /* mount options, e.g. "data=writeback" */
	unsigned int mib;  /* image size (xfs wants 300 MiB at least) */
};

/*
 * Runs path (absolute) with the NULL-terminated arguments after it: its
 * exit status, -1 when it could not run. out (cap bytes) gets its first
 * line of output when not NULL.
 */
int bs_tool(char *out, size_t cap, const char *path, ...);
/* modprobe each of the NULL-terminated modules; why says which failed. */
int bs_modprobe(char *why, size_t cap, ...);
/*
 * What a test puts up, for bs_rig_down to take down in reverse order
 * whatever got up: the mount, the device-mapper device, the loop
 * devices, the work directory (kept when KC_TEST_KEEP is set).
 */
struct bs_rig {
	char work[64], mnt[96];
	char data_dev[64], log_dev[64], dm_name[48];
	bool dm_up, mounted;
};

void bs_rig_down(struct bs_rig *r);
/* A sparse file of mib MiB. 0 or -errno. */
int bs_image(const char *path, unsigned int mib);
/* losetup: the device attached to file into dev. 0 or nonzero. */
int bs_loop_attach(const char *file, char dev[64]);
int bs_loop_detach(const char *dev);
/* The size of a block device in 512-byte sectors, 0 on error. */
unsigned long long bs_sectors(const char *dev);
int bs_mkfs(const struct bs_fs *fs, const char *dev);
/* e2fsck -fn or xfs_repair -n: 0 when the file system is consistent. */
int bs_fsck(const struct bs_fs *fs, const char *dev);
/* mount with the file system's options; loop when dev is a file. */
int bs_mount(const struct bs_fs *fs, const char *dev, const char *dir);
int bs_umount(const char *dir);
/* dmsetup create name with a one-line table, its /dev/dm-N in dev. */
int bs_dm_create(const char *name, const char *table, char dev[64]);
/* dmsetup remove. */
int bs_dm_remove(const char *name);
/* dmsetup suspend, reload with table, resume. */
int bs_dm_swap(const char *name, const char *table);
/*
 * A fresh file system on dev holding a copy of directory src as
 * "state" (the agent's initial state directory), mounted at mnt for the
 * copy and unmounted again. 0 or -EIO.
 */
int bs_fs_with_state(const struct bs_fs *fs, const char *dev,
		     const char *mnt, const char *src);
/* Copies src to dst, holes as holes. 0 or -errno. */
int bs_copy_sparse(const char *src, const char *dst);

#endif
