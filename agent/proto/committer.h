/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The committer (docs/DESIGN.md "Storage"): one thread with an io_uring
 * of its own that owns the message log. Workers hand it their groups at
 * the end of every loop turn and go on serving; it never makes a worker
 * wait for a disk.
 *
 * A round takes every group handed in since the last one and judges its
 * SENDs in the order they came (PROTOCOL.md section 4, steps 6-8): a
 * counter already accepted from the sender is OK and not stored again; one
 * at or below the bottom of the sender's window is REPLAY; otherwise the
 * worker's step-7 verdict stands, and a message that passed is appended.
 * The DELIVEREDs become tombstones. The round's records go to the log in
 * one write linked to one fdatasync on the committer's ring. When both
 * complete, the round is durable: the groups go back to their workers
 * with every ACK's status (all TRY_LATER if the write or the sync
 * failed), new messages are routed to their recipients' connections and
 * receipts to their senders, in commit order. One round is in flight at
 * a time, so a SEND that repeats a counter of the round in flight is
 * judged after that round, as the protocol asks.
 *
 * It also answers the connections' queue loads (kc_committer_load): the
 * part of a client's queue after a position, read from the log and posted
 * to the connection. Loads and routing both happen on this thread, so a
 * connection sees every message once, in queue order (delivery.h).
 */
#ifndef KC_COMMITTER_H
#define KC_COMMITTER_H

#include <stdbool.h>
#include <stdint.h>

#include "conn/tls_peer.h"

struct kc_commit;
struct kc_committer;
struct kc_inbox;
struct kc_loop;
struct kc_msglog;
struct kc_proto;
struct kc_ring;

/* A connection asking for the next part of its client's queue. */
struct kc_load_req {
	struct kc_inbox *inbox; /* the connection's worker's */
	uint32_t slot, gen;
	char id[KC_TLS_ID_SIZE];
	uint64_t after; /* the last queue position it has */
	bool first;	/* also the receipts waiting for this client */
};

/*
 * Starts the thread; it owns log from now on. loop's workers must exist
 * (their inboxes and rings) before the first group comes. 0 or -errno.
 */
int kc_committer_start(struct kc_proto *p, struct kc_loop *loop,
		       struct kc_msglog *log, struct kc_committer **out);
/*
 * After the workers have stopped: finishes every round and load handed in,
 * stops the thread, closes the log. NULL is ok.
 */
void kc_committer_stop(struct kc_committer *cm);

/* A worker hands in its group, waking the committer through `from`. */
void kc_committer_submit(struct kc_committer *cm, struct kc_commit *b,
			 struct kc_ring *from);
/* A connection's queue load. 0 or -ENOMEM. */
int kc_committer_load(struct kc_committer *cm, const struct kc_load_req *r,
		      struct kc_ring *from);

/* Counters for the stats log line (read without a lock: approximate). */
struct kc_committer_stats {
	uint64_t rounds, records, bytes, failed_rounds;
	uint64_t duplicates, replays;
	uint64_t rate_limited, over_quota, no_room; /* SENDs refused */
	uint64_t reclaims; /* rounds after which segments were deleted */
};
void kc_committer_stats(const struct kc_committer *cm,
			struct kc_committer_stats *s);

/*
 * The log's segments, disk use and queue as the committer last published
 * them (a few times a second at most, and at least once a second): any
 * thread may ask.
 */
struct kc_committer_log {
	uint64_t segments, disk_bytes, queued, queued_bytes;
};
void kc_committer_log_stats(struct kc_committer *cm,
			    struct kc_committer_log *s);

#endif
