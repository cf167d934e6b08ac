/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourier-lat's BPF side in the kernel: checks that it can work here
 * (root, BTF, a binary with the kcourier probes), loads the CO-RE object
 * (its skeleton, generated into the build folder) and attaches its
 * programs to the agent's USDT probes; detach unloads all of it.
 */
#ifndef KC_LAT_ATTACH_H
#define KC_LAT_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

#include "kcourier_lat.h"

struct kcourier_lat;

struct lat_bpf {
	struct kcourier_lat *skel;
	int hists_fd;
};

/* Not root: -EPERM and why, in words. */
int lat_check_root(char *why, size_t why_len);
/*
 * What else stands in the way, in words, into why: 0 when nothing does,
 * else -ENOTSUP (no BTF), -ENOENT (no such binary) or -ENODATA (no
 * kcourier probes in it).
 */
int lat_check(const char *binary, char *why, size_t why_len);

/* pid -1: every process running binary. 0 or -errno (why says). */
int lat_attach(struct lat_bpf *b, const char *binary, pid_t pid, char *why,
	       size_t why_len);
/* Every stage's histogram as the map holds it now. 0 or -errno. */
int lat_read(const struct lat_bpf *b, struct kl_hist h[KL_NSTAGES]);
/* Detaches and unloads; nothing of it stays in the kernel. */
void lat_detach(struct lat_bpf *b);

#endif
