/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bpf/kcourier_lat.bpf.c and tools/kcourier-lat share: the stages
 * it times and the layout of a histogram in its map. Plain C types only,
 * as both the BPF target and the tool include it.
 */
#ifndef KC_LAT_H
#define KC_LAT_H

/*
 * From the stage times of kcourier:msg_done (agent/proto/commit.h), its
 * DELIVER (kcourier:msg_deliver) and its DELIVERED (kcourier:msg_delivered),
 * and each round's fdatasync (kcourier:commit_done).
 */
enum kl_stage {
	KL_CHECK,  /* SEND read .. its checks passed, in the group */
	KL_GROUP,  /* in the group .. handed to the committer */
	KL_COMMIT, /* handed in .. its round durable */
	KL_RETURN, /* durable .. the worker patched its ACK */
	KL_ACK,	   /* SEND read .. ACK released: the agent's whole part */
	KL_ROUTE,  /* durable .. its DELIVER queued to the recipient */
	KL_CLIENT, /* DELIVER queued .. its DELIVERED read */
	KL_FSYNC,  /* one round's write and fdatasync */
	KL_NSTAGES
};

/* log2 buckets of microseconds, as funclatency: slot i is [2^i, 2^(i+1)). */
#define KL_SLOTS 32

struct kl_hist {
	unsigned long long slots[KL_SLOTS];
	unsigned long long count;
	unsigned long long sum_ns;
};

#endif
