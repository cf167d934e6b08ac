/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker's group (docs/DESIGN.md "Loop turn", step 4): the SENDs that
 * passed steps 1-5 of PROTOCOL.md's SEND checks during one loop turn
 * (with the worker's verdict on step 7), and the DELIVEREDs. At the end of
 * the turn the worker hands the group to the committer (committer.h) and
 * starts a new one; it never waits for it. The committer judges steps 6
 * to 8, makes what it stores durable with one write and one fdatasync for
 * every worker's groups of a round, routes, and hands the group back with
 * every message's ACK status; the worker then patches the held ACKs and
 * releases their connections' holds.
 */
#ifndef KC_COMMIT_H
#define KC_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/tls_peer.h"
#include "wire/wire.h"

/*
 * Stage times of one message, monotonic ns, collected as it passes:
 * received (send.c, when its SEND is handled), opened (when it joins the
 * group, its checks passed), handed to the committer (the group's
 * submitted_ns), stored (the committer, when the round's fdatasync
 * completed), acked (the worker, when the status is patched). The probe
 * kcourier:msg_done reports them (ring/probes.h).
 */
struct kc_msg_times {
	uint64_t received_ns, opened_ns, stored_ns, acked_ns;
};

struct kc_commit_msg {
	uint32_t slot, gen; /* the sender's connection on the group's worker */
	uint64_t status_pos; /* the held ACK's status in its output stream */
	char sender[KC_TLS_ID_SIZE];
	char recipient[KC_TLS_ID_SIZE];
	uint8_t msg_id[KC_MSGID_LEN];
	uint64_t counter;
	uint8_t flags;
	uint16_t verdict; /* step 7 as the worker saw it: KC_OK or the refusal */
	uint8_t *inner;	  /* owned copy */
	size_t inner_len;
	struct kc_msg_times t;
	/* Results, from the committer. */
	uint16_t status; /* the ACK's */
	bool paid;	 /* took its send_rate token (judged once a round) */
	bool fresh;	 /* stored now: the committer routed it */
	uint64_t seq;	 /* its queue position, when fresh */
};

struct kc_commit_delivered {
	char recipient[KC_TLS_ID_SIZE]; /* the client that got the message */
	uint8_t msg_id[KC_MSGID_LEN];
	uint64_t received_ns; /* when its worker read it */
};

/* A connection holding output for this group (released when it returns). */
struct kc_commit_hold {
	uint32_t slot, gen;
};

struct kc_proto_worker;

struct kc_commit {
	struct kc_proto_worker *owner; /* the worker whose group it is */
	uint64_t gen; /* which of its worker's groups (held_gen: context.h) */
	uint64_t submitted_ns; /* handed to the committer */
	struct kc_commit *next; /* in the committer's queue, or a free list */
	struct kc_commit_msg *msgs;
	size_t nmsgs, msgs_cap;
	struct kc_commit_delivered *dels;
	size_t ndels, dels_cap;
	struct kc_commit_hold *holds;
	size_t nholds, holds_cap;
};

struct kc_commit *kc_commit_new(struct kc_proto_worker *owner);
void kc_commit_free(struct kc_commit *b);
bool kc_commit_empty(const struct kc_commit *b);

/* Each returns 0 or -ENOMEM; the message copies inner. */
int kc_commit_add_msg(struct kc_commit *b, const struct kc_commit_msg *m,
		      const uint8_t *inner);
int kc_commit_add_delivered(struct kc_commit *b, const char *recipient,
			    const uint8_t msg_id[KC_MSGID_LEN]);
int kc_commit_add_hold(struct kc_commit *b, uint32_t slot, uint32_t gen);

/* Empties the group for reuse (keeping the memory), wiping the inners. */
void kc_commit_reset(struct kc_commit *b);

#endif
