// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loop devices, device-mapper tables, mkfs, fsck and mount for the
 * power-loss tests: see blockstack.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "blockstack.h"
#include "run_cmd.h"

#define BS_ARGS 24

static void say_failure(char *const argv[], const struct result *r)
{
	fprintf(stderr, "# blockstack: exit %d:", r->status);
	for (int i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n# %s%s", r->err ? r->err : "",
		r->out && r->out_len < 2000 ? r->out : "");
	fputc('\n', stderr);
}

static int run_vec(char *out, size_t cap, char *const argv[])
{
	struct result r;
	int status;

	if (run_argv(argv, NULL, 0, &r)) {
		result_free(&r);
		return -1;
	}
	status = r.status;
	if (status)
		say_failure(argv, &r);
	if (out && cap) {
		size_t n = r.out ? strcspn(r.out, "\n") : 0;

		n = n < cap - 1 ? n : cap - 1;
		memcpy(out, r.out ? r.out : "", n);
		out[n] = '\0';
	}
	result_free(&r);
	return status;
}

int bs_tool(char *out, size_t cap, const char *path, ...)
{
	char *argv[BS_ARGS];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = (char *)path;
	va_start(ap, path);
	while (n < BS_ARGS - 1 && (a = va_arg(ap, const char *)))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_vec(out, cap, argv);
}

int bs_modprobe(char *why, size_t cap, ...)
{
	const char *m;
	va_list ap;
	int ret = 0;

	va_start(ap, cap);
	while (!ret && (m = va_arg(ap, const char *))) {
		ret = bs_tool(NULL, 0, "/sbin/modprobe", "-q", m, NULL);
		if (ret)
			snprintf(why, cap, "cannot load module %s", m);
	}
	va_end(ap);
	return ret;
}

void bs_rig_down(struct bs_rig *r)
{
	if (r->mounted && bs_umount(r->mnt))
		bs_tool(NULL, 0, "/bin/umount", "-l", r->mnt, NULL);
	r->mounted = false;
	if (r->dm_up && !bs_dm_remove(r->dm_name))
		r->dm_up = false;
	if (r->data_dev[0] && !bs_loop_detach(r->data_dev))
		r->data_dev[0] = '\0';
	if (r->log_dev[0] && !bs_loop_detach(r->log_dev))
		r->log_dev[0] = '\0';
	if (r->work[0] && !getenv("KC_TEST_KEEP"))
		bs_tool(NULL, 0, "/bin/rm", "-rf", r->work, NULL);
}

int bs_image(const char *path, unsigned int mib)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)mib << 20))
		ret = -errno;
	close(fd);
	return ret;
}

int bs_loop_attach(const char *file, char dev[64])
{
	int ret = bs_tool(dev, 64, "/sbin/losetup", "-f", "--show", file,
			  NULL);

	return ret ? ret : (strncmp(dev, "/dev/loop", 9) ? -EPROTO : 0);
}

int bs_loop_detach(const char *dev)
{
	return bs_tool(NULL, 0, "/sbin/losetup", "-d", dev, NULL);
}

unsigned long long bs_sectors(const char *dev)
{
	unsigned long long bytes = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		bytes = 0;
	close(fd);
	return bytes >> 9;
}

/*
 * ext4 zeroes its inode tables and journal now rather than from a kernel
 * thread after the first mount: that thread's writes would land in a
 * dm-log-writes log and make every replay longer, and nothing under test.
 */
int bs_mkfs(const struct bs_fs *fs, const char *dev)
{
	if (!strcmp(fs->type, "xfs"))
		return bs_tool(NULL, 0, "/sbin/mkfs.xfs", "-q", "-f", dev,
			       NULL);
	return bs_tool(NULL, 0, "/sbin/mkfs.ext4", "-q", "-F", "-E",
		       "lazy_itable_init=0,lazy_journal_init=0", dev, NULL);
}

int bs_fsck(const struct bs_fs *fs, const char *dev)
{
	if (!strcmp(fs->type, "xfs"))
		return bs_tool(NULL, 0, "/sbin/xfs_repair", "-n", "-f", dev,
			       NULL);
	return bs_tool(NULL, 0, "/sbin/e2fsck", "-f", "-n", dev, NULL);
}

int bs_mount(const struct bs_fs *fs, const char *dev, const char *dir)
{
	char opts[128];
	bool file = strncmp(dev, "/dev/", 5) != 0;

	snprintf(opts, sizeof(opts), "%s%s%s", file ? "loop" : "",
		 file && fs->mopts[0] ? "," : "", fs->mopts);
	if (!opts[0])
		snprintf(opts, sizeof(opts), "defaults");
	return bs_tool(NULL, 0, "/bin/mount", "-t", fs->type, "-o", opts, dev,
		       dir, NULL);
}

int bs_umount(const char *dir)
{
	return bs_tool(NULL, 0, "/bin/umount", dir, NULL);
}

/*
 * Without udev (the VM lab's guest has none) dmsetup makes no
 * /dev/mapper/NAME; the kernel's own /dev/dm-N is always there.
 */
int bs_dm_create(const char *name, const char *table, char dev[64])
{
	char blk[32];
	int ret = bs_tool(NULL, 0, "/sbin/dmsetup", "create", name, "--table",
			  table, NULL);

	if (!ret)
		ret = bs_tool(blk, sizeof(blk), "/sbin/dmsetup", "info", "-c",
			      "--noheadings", "-o", "blkdevname", name, NULL);
	if (!ret && strncmp(blk, "dm-", 3))
		ret = -EPROTO;
	if (!ret)
		snprintf(dev, 64, "/dev/%s", blk);
	return ret;
}

int bs_dm_remove(const char *name)
{
	return bs_tool(NULL, 0, "/sbin/dmsetup", "remove", name, NULL);
}

int bs_dm_swap(const char *name, const char *table)
{
	int ret = bs_tool(NULL, 0, "/sbin/dmsetup", "suspend", name, NULL);

	if (!ret)
		ret = bs_tool(NULL, 0, "/sbin/dmsetup", "reload", name,
			      "--table", table, NULL);
	if (!ret)
		ret = bs_tool(NULL, 0, "/sbin/dmsetup", "resume", name, NULL);
	return ret;
}

int bs_fs_with_state(const struct bs_fs *fs, const char *dev,
		     const char *mnt, const char *src)
{
	char state[256];
	int ret;

	if (bs_mkfs(fs, dev) || bs_mount(fs, dev, mnt))
		return -EIO;
	snprintf(state, sizeof(state), "%s/state", mnt);
	ret = bs_tool(NULL, 0, "/bin/cp", "-a", src, state, NULL);
	ret = bs_umount(mnt) || ret;
	return ret ? -EIO : 0;
}

/* pread and pwrite, where copy_file_range will not. */
static ssize_t copy_plain(int in, int out, off_t pos, size_t len)
{
	static char buf[1 << 16];
	ssize_t n = pread(in, buf, len < sizeof(buf) ? len : sizeof(buf), pos);

	if (n > 0 && pwrite(out, buf, (size_t)n, pos) != n)
		return -1;
	return n;
}

/* The data extents of src only: an image is mostly holes. */
static int copy_extents(int in, int out, off_t size)
{
	bool plain = false;
	off_t pos = 0, end;

	while (pos < size) {
		pos = lseek(in, pos, SEEK_DATA);
		if (pos < 0)
			return errno == ENXIO ? 0 : -errno;
		end = lseek(in, pos, SEEK_HOLE);
		if (end < 0)
			return -errno;
		while (pos < end) {
			loff_t p_in = pos, p_out = pos;
			ssize_t n = plain ? -1 :
					    copy_file_range(in, &p_in, out,
							    &p_out,
							    (size_t)(end - pos),
							    0);

			if (n < 0 && !plain && (errno == EXDEV ||
						errno == EOPNOTSUPP ||
						errno == EINVAL)) {
				plain = true;
				continue;
			}
			if (plain)
				n = copy_plain(in, out, pos,
					       (size_t)(end - pos));
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			pos += n;
		}
	}
	return 0;
}

int bs_copy_sparse(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out, ret;
	off_t size;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	size = lseek(in, 0, SEEK_END);
	ret = size < 0 ? -errno : 0;
	if (!ret && ftruncate(out, size))
		ret = -errno;
	if (!ret)
		ret = copy_extents(in, out, size);
	close(in);
	close(out);
	return ret;
}
