// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segment files: see log_segment.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/log_segment.h"

static void seg_name(uint64_t base, char out[KC_SEG_NAME_LEN + 1])
{
	snprintf(out, KC_SEG_NAME_LEN + 1, "%016" PRIx64 ".log", base);
}

int kc_seg_parse_name(const char *name, uint64_t *base)
{
	uint64_t v = 0;
	int i;

	if (strlen(name) != KC_SEG_NAME_LEN || strcmp(name + 16, ".log"))
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*base = v;
	return 0;
}

static struct kc_log_seg *seg_new(uint64_t base, int fd)
{
	struct kc_log_seg *seg = calloc(1, sizeof(*seg));

	if (!seg)
		return NULL;
	seg->base = base;
	seg->next_lsn = base;
	seg->fd = fd;
	seg_name(base, seg->name);
	return seg;
}

int kc_seg_create(int dir_fd, uint64_t base, uint64_t size,
		  struct kc_log_seg **out)
{
	char name[KC_SEG_NAME_LEN + 1];
	struct kc_log_seg *seg;
	int fd, ret;

	seg_name(base, name);
	fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = posix_fallocate(fd, 0, (off_t)size);
	if (!ret && (fsync(fd) || fsync(dir_fd)))
		ret = errno;
	if (ret)
		goto err_unlink;
	seg = seg_new(base, fd);
	if (!seg) {
		ret = ENOMEM;
		goto err_unlink;
	}
	seg->size = size;
	*out = seg;
	return 0;
err_unlink:
	close(fd);
	unlinkat(dir_fd, name, 0);
	return -ret;
}

int kc_seg_open(int dir_fd, const char *name, struct kc_log_seg **out)
{
	struct kc_log_seg *seg;
	struct stat st;
	uint64_t base;
	int fd;

	if (kc_seg_parse_name(name, &base))
		return -EINVAL;
	fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	seg = seg_new(base, fd);
	if (!seg) {
		close(fd);
		return -ENOMEM;
	}
	seg->size = (uint64_t)st.st_size;
	*out = seg;
	return 0;
}

void kc_seg_free(struct kc_log_seg *seg)
{
	if (!seg)
		return;
	if (seg->fd >= 0)
		close(seg->fd);
	free(seg->ext_tombs);
	free(seg);
}

int kc_seg_remove(int dir_fd, struct kc_log_seg *seg)
{
	int ret = unlinkat(dir_fd, seg->name, 0) ? -errno : 0;

	kc_seg_free(seg);
	return ret;
}

int kc_seg_add_ext_tomb(struct kc_log_seg *seg, uint64_t lsn)
{
	if (seg->n_ext == seg->cap_ext) {
		size_t cap = seg->cap_ext ? 2 * seg->cap_ext : 16;
		uint64_t *v = reallocarray(seg->ext_tombs, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		seg->ext_tombs = v;
		seg->cap_ext = cap;
	}
	seg->ext_tombs[seg->n_ext++] = lsn;
	return 0;
}
