/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `dmsetup message NAME 0 TEXT` without the process: one DM_TARGET_MSG
 * ioctl on /dev/mapper/control. A test that marks every acknowledged
 * message in a dm-log-writes log cannot afford a fork and exec per ACK
 * (50-130 ms apiece from 9p in the VM lab).
 */
#ifndef KC_TEST_DM_MSG_H
#define KC_TEST_DM_MSG_H

/* Opens /dev/mapper/control: an fd or -errno. */
int dm_control_open(void);
/* Sends text to sector 0's target of device name. 0 or -errno. */
int dm_message(int ctl, const char *name, const char *text);

#endif
