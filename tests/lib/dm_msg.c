// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device-mapper target messages by ioctl: see dm_msg.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdalign.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dm_msg.h"

#define DM_MSG_MAX 512

int dm_control_open(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dm_message(int ctl, const char *name, const char *text)
{
	/* The header, then struct dm_target_msg with the text after it. */
	alignas(8) char buf[sizeof(struct dm_ioctl) +
			    sizeof(struct dm_target_msg) + DM_MSG_MAX];
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_msg *msg;
	size_t len = strlen(text);

	if (strlen(name) >= DM_NAME_LEN || len >= DM_MSG_MAX)
		return -ENAMETOOLONG;
	memset(buf, 0, sizeof(buf));
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = DM_VERSION_MINOR;
	io->version[2] = DM_VERSION_PATCHLEVEL;
	io->data_size = sizeof(buf);
	io->data_start = sizeof(struct dm_ioctl);
	strcpy(io->name, name);
	msg = (struct dm_target_msg *)(buf + io->data_start);
	msg->sector = 0;
	memcpy(msg->message, text, len + 1);
	return ioctl(ctl, DM_TARGET_MSG, buf) ? -errno : 0;
}
