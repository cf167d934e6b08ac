// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-lat's BPF side (CO-RE): programs on the agent's USDT probes
 * (agent/ring/probes.h) that add each message's stage times to log2
 * histograms, one per stage, in the array map `hists`; tools/kcourier-lat
 * reads and prints them. A DELIVER and its DELIVERED happen on different
 * threads, often different workers: `delivering` pairs them by queue
 * position, so the agent keeps no state for the probes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "kcourier_lat.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_NSTAGES);
	__type(key, __u32);
	__type(value, struct kl_hist);
} hists SEC(".maps");

/* Queue position -> when its DELIVER was queued. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} delivering SEC(".maps");

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void record_ns(__u32 stage, __u64 ns)
{
	struct kl_hist *h = bpf_map_lookup_elem(&hists, &stage);
	__u32 slot;

	if (!h)
		return;
	slot = log2_u64(ns / 1000);
	if (slot >= KL_SLOTS)
		slot = KL_SLOTS - 1;
	/*
	 * clang tests a copy and indexes with the original, which the
	 * verifier then finds unbounded: the empty asm keeps one register.
	 */
	asm volatile("" : "+r"(slot));
	slot &= KL_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
}

/* A stage whose two times are known and in order. */
static __always_inline void record(__u32 stage, __u64 from, __u64 to)
{
	if (from && to >= from)
		record_ns(stage, to - from);
}

SEC("usdt")
int BPF_USDT(msg_done, __u64 received, __u64 opened, __u64 submitted,
	     __u64 stored, __u64 acked)
{
	record(KL_CHECK, received, opened);
	record(KL_GROUP, opened, submitted);
	record(KL_COMMIT, submitted, stored);
	record(KL_RETURN, stored, acked);
	record(KL_ACK, received, acked);
	return 0;
}

SEC("usdt")
int BPF_USDT(msg_deliver, __u64 seq, __u64 stored, __u64 now)
{
	record(KL_ROUTE, stored, now);
	bpf_map_update_elem(&delivering, &seq, &now, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(msg_delivered, __u64 seq, __u64 received)
{
	__u64 *sent = bpf_map_lookup_elem(&delivering, &seq);

	if (!sent)
		return 0;
	record(KL_CLIENT, *sent, received);
	bpf_map_delete_elem(&delivering, &seq);
	return 0;
}

SEC("usdt")
int BPF_USDT(commit_done, __u64 msgs, __u64 bytes, __u64 sync_ns)
{
	record_ns(KL_FSYNC, sync_ns);
	return 0;
}
