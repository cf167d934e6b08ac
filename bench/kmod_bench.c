// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod-bench: kcourier.ko's two ways in, side by side. The same batch of
 * 64 messages (256 B, 1 KiB, 16 KiB) is sealed and opened through
 * KCOURIER_IOC_SEAL / _OPEN as an ioctl and as an io_uring
 * IORING_OP_URING_CMD (one SQE per batch, waited for at once), and it
 * prints messages per second and uring/ioctl per case. The keys are two
 * logon keys made here in a keyring of the process's own. Under TCG (the
 * VM lab) only the ratio means anything.
 *
 * Usage: kmod-bench [SECONDS]   (per case and path; default 2)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <keyutils.h>
#include <liburing.h>

#include <linux/kcourier.h>

#include "base/clock.h"
#include "crypto/crypto.h"

#define PROG "kmod-bench"
#define BATCH 64
#define AAD_LEN 40

struct bench {
	int fd;
	struct io_uring ring;
	struct kcourier_op seal[BATCH], open[BATCH];
	uint8_t aad[AAD_LEN];
	uint8_t *pt, *ct, *out;
};

/* K and Km as logon keys in a new session keyring of this process. */
static int make_keys(key_serial_t *enc, key_serial_t *mac)
{
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN];
	int ret = 0;

	kc_random(k, sizeof(k));
	if (keyctl_join_session_keyring(NULL) < 0 || kc_derive_km(k, km))
		ret = -EIO;
	*enc = add_key("logon", "kcourier:bench:enc", k, sizeof(k),
		       KEY_SPEC_SESSION_KEYRING);
	*mac = add_key("logon", "kcourier:bench:mac", km, sizeof(km),
		       KEY_SPEC_SESSION_KEYRING);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(km, sizeof(km));
	return ret ? ret : *enc < 0 || *mac < 0 ? -errno : 0;
}

/* Seal ops (pt to ct) and open ops (ct to out) of size bytes each. */
static void aim(struct bench *b, key_serial_t enc, key_serial_t mac,
		size_t size)
{
	size_t i, room = size + 16;

	for (i = 0; i < BATCH; i++) {
		struct kcourier_op op = {
			.enc_key = enc, .mac_key = mac,
			.aad = (uintptr_t)b->aad, .aad_len = AAD_LEN,
			.in = (uintptr_t)(b->pt + i * room),
			.in_len = (uint32_t)size,
			.out = (uintptr_t)(b->ct + i * room),
			.out_len = (uint32_t)room,
		};

		kc_random(op.iv, sizeof(op.iv));
		b->seal[i] = op;
	}
}

/* After a seal: open ops over what it wrote. */
static void aim_open(struct bench *b, size_t size)
{
	size_t i, room = size + 16;

	for (i = 0; i < BATCH; i++) {
		b->open[i] = b->seal[i];
		b->open[i].in = b->seal[i].out;
		b->open[i].in_len = b->seal[i].out_len;
		b->open[i].out = (uintptr_t)(b->out + i * room);
		b->open[i].out_len = (uint32_t)room;
	}
}

static int by_ioctl(struct bench *b, unsigned long cmd, struct kcourier_op *ops)
{
	struct kcourier_batch bt = { .ops = (uintptr_t)ops, .count = BATCH };

	return ioctl(b->fd, cmd, &bt) ? -errno : 0;
}

static int by_uring(struct bench *b, unsigned long cmd, struct kcourier_op *ops)
{
	struct kcourier_batch bt = { .ops = (uintptr_t)ops, .count = BATCH };
	struct kcourier_uring_cmd uc = { .arg = (uintptr_t)&bt };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = b->fd;
	sqe->cmd_op = (uint32_t)cmd;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	ret = io_uring_submit_and_wait(&b->ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&b->ring, &cqe);
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&b->ring, cqe);
	}
	return ret;
}

typedef int (*path_fn)(struct bench *b, unsigned long cmd,
		       struct kcourier_op *ops);

/* Messages per second through one path for seconds. */
static double measure(struct bench *b, path_fn path, bool seal,
		      double seconds)
{
	unsigned long cmd = seal ? KCOURIER_IOC_SEAL : KCOURIER_IOC_OPEN;
	struct kcourier_op *ops = seal ? b->seal : b->open;
	double start = kc_mono_s(), now;
	unsigned long n = 0;

	do {
		/* out_len is in and out: an open leaves the plaintext's. */
		for (size_t i = 0; !seal && i < BATCH; i++)
			ops[i].out_len = ops[i].in_len;
		if (path(b, cmd, ops) || ops[BATCH - 1].status)
			return -1;
		n += BATCH;
		now = kc_mono_s();
	} while (now - start < seconds);
	return n / (now - start);
}

static int run(struct bench *b, double seconds)
{
	static const size_t sizes[] = { 256, 1024, 16384 };
	key_serial_t enc, mac;
	double r[2];
	size_t i;
	int op, ret = make_keys(&enc, &mac);

	if (ret)
		return ret;
	printf("# kmod-bench: messages/s, batches of %d, %.1f s a case\n",
	       BATCH, seconds);
	printf("%-5s %6s %10s %10s %11s\n", "op", "bytes", "ioctl", "uring_cmd",
	       "uring/ioctl");
	for (i = 0; i < 3; i++) {
		aim(b, enc, mac, sizes[i]);
		if (by_ioctl(b, KCOURIER_IOC_SEAL, b->seal))
			return -EIO;
		aim_open(b, sizes[i]);
		for (op = 0; op < 2; op++) {
			r[0] = measure(b, by_ioctl, !op, seconds);
			r[1] = measure(b, by_uring, !op, seconds);
			if (r[0] <= 0 || r[1] <= 0)
				return -EIO;
			printf("%-5s %6zu %10.0f %10.0f %11.2f\n",
			       op ? "open" : "seal", sizes[i], r[0], r[1],
			       r[1] / r[0]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	struct bench *b = calloc(1, sizeof(*b));
	size_t room = BATCH * (16384 + 16);
	int ret;

	if (!b || seconds <= 0)
		return 2;
	b->fd = open("/dev/kcourier", O_RDWR | O_CLOEXEC);
	if (b->fd < 0) {
		printf("# kmod: not available: /dev/kcourier: %s\n",
		       strerror(errno));
		return 0;
	}
	b->pt = calloc(1, room);
	b->ct = calloc(1, room);
	b->out = calloc(1, room);
	if (!b->pt || !b->ct || !b->out || io_uring_queue_init(8, &b->ring, 0))
		return 1;
	kc_random(b->pt, room);
	kc_random(b->aad, sizeof(b->aad));
	ret = run(b, seconds);
	if (ret)
		fprintf(stderr, PROG ": %s\n", strerror(-ret));
	io_uring_queue_exit(&b->ring);
	close(b->fd);
	return ret ? 1 : 0;
}
