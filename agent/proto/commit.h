/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Group commit (docs/DESIGN.md "Loop turn", step 4): every SEND that
 * reached step 7 of PROTOCOL.md's SEND checks during one loop turn, every
 * DELIVERED and every receipt written to a connection goes into one store
 * transaction, made durable with one fsync. Only then do the held ACKs
 * get their status: OK for stored (or already stored) messages, NOT_FOUND
 * for a recipient that went away, TRY_LATER for everything when the
 * commit failed.
 */
#ifndef KC_COMMIT_H
#define KC_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/tls.h"
#include "store/store.h"
#include "wire/wire.h"

/*
 * Stage times of one message, monotonic ns, collected as it passes:
 * received (send.c, when its SEND is handled), opened (when it joins the
 * group, its checks passed), stored and acked (both the same instant,
 * right after the group's commit in proto.c, whatever its outcome).
 * Nothing reads them yet.
 */
struct kc_msg_times {
	uint64_t received_ns, opened_ns, stored_ns, acked_ns;
};

struct kc_commit_msg {
	uint32_t slot, gen; /* the sender's connection */
	size_t status_off;  /* of the held ACK's status in that conn's out */
	char sender[KC_TLS_ID_SIZE];
	char recipient[KC_TLS_ID_SIZE];
	uint8_t msg_id[KC_MSGID_LEN];
	uint8_t *inner; /* owned copy */
	size_t inner_len;
	struct kc_msg_times t;
	/* Results. */
	int status; /* KC_OK, KC_NOT_FOUND, KC_TRY_LATER */
	bool fresh; /* stored now (not a duplicate): route it */
	int64_t seq;
	int64_t stored_at_ms;
};

struct kc_commit_delivered {
	char recipient[KC_TLS_ID_SIZE]; /* the client that got the message */
	uint8_t msg_id[KC_MSGID_LEN];
	/* Results: the receipt to route, when the message was queued. */
	bool receipt;
	char sender[KC_TLS_ID_SIZE];
	int64_t receipt_id; /* forgotten once written to a connection */
};

struct kc_commit {
	struct kc_commit_msg *msgs;
	size_t nmsgs, msgs_cap;
	struct kc_commit_delivered *dels;
	size_t ndels, dels_cap;
	int64_t *receipts_done; /* receipt ids written to connections */
	size_t nreceipts, receipts_cap;
	/* The store's view of the group, rebuilt by each kc_commit_run. */
	struct kc_store_put *puts;
	size_t puts_cap;
	struct kc_store_take *takes;
	size_t takes_cap;
};

void kc_commit_init(struct kc_commit *b);
void kc_commit_fini(struct kc_commit *b);
bool kc_commit_empty(const struct kc_commit *b);

/* Each returns 0 or -ENOMEM; the message copies inner. */
int kc_commit_add_msg(struct kc_commit *b, const struct kc_commit_msg *m,
		      const uint8_t *inner);
int kc_commit_add_delivered(struct kc_commit *b, const char *recipient,
			    const uint8_t msg_id[KC_MSGID_LEN]);
int kc_commit_add_receipt_done(struct kc_commit *b, int64_t receipt_id);

/*
 * Runs the group on st (the caller holds the store lock): fills every
 * message's status and seq and every DELIVERED's receipt. Returns 0 or
 * the -errno of a commit that failed (then every status is TRY_LATER and
 * no receipt is set).
 */
int kc_commit_run(struct kc_commit *b, struct kc_store *st, int64_t now_ms);

/*
 * Empties the messages and DELIVEREDs for the next turn (keeping the
 * memory). Receipt ids added after kc_commit_run stay for the next group:
 * the router adds them while routing this one.
 */
void kc_commit_reset(struct kc_commit *b);

#endif
