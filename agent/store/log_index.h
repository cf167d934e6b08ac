/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The message log's memory: every client the log knows (as a sender, its
 * counter window; as a recipient, its queue), and every message not yet
 * delivered, findable by lsn (for tombstones) and by (recipient, msg_id)
 * (for DELIVERED). Rebuilt from the segments at start; the bodies stay on
 * disk and are read back by (segment, offset) when delivered.
 *
 * Not thread-safe: the log's owner serialises every call.
 */
#ifndef KC_LOG_INDEX_H
#define KC_LOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/token_bucket.h"
#include "store/counter_window.h"
#include "store/log_segment.h"
#include "wire/wire.h"

struct kc_log_entry;

struct kc_log_client {
	char id[KC_CLIENT_ID_MAX + 1];
	bool sent; /* win means something: this client has sent */
	struct kc_counter_window win;
	struct kc_log_entry *head, *tail; /* queue as recipient, lsn order */
	uint64_t queued, queued_bytes;
	/* Messages for it in the batch being built (queue quotas). */
	uint64_t pending, pending_bytes, pending_gen;
	uint64_t batch_gen; /* the batch that saved its window last */
	/*
	 * As a sender, its send_rate bucket: the log's owner judges the
	 * rate (PROTOCOL.md step 7), and this is its one record per sender.
	 */
	struct kc_bucket send_bucket;
	struct kc_log_client *hnext;
};

struct kc_log_entry {
	uint64_t lsn; /* also the message's queue position (seq) */
	struct kc_log_seg *seg;
	uint64_t off;	  /* of its record in seg */
	uint32_t rec_len; /* the whole record */
	uint32_t inner_len;
	struct kc_log_client *sender, *recipient;
	uint8_t msg_id[KC_MSGID_LEN];
	uint8_t flags;
	bool dying; /* a batch in progress tombstones it */
	int64_t stored_at_ms;
	struct kc_log_entry *qnext, *qprev; /* the recipient's queue */
	struct kc_log_entry *lsn_next, *id_next; /* hash chains */
};

struct kc_log_index {
	struct kc_log_client **clients;
	size_t clients_mask, nclients;
	struct kc_log_entry **by_lsn, **by_id;
	size_t entries_mask, nentries;
};

int kc_index_init(struct kc_log_index *ix);
void kc_index_fini(struct kc_log_index *ix);

/* The client named id (len bytes), made on first use; NULL: no memory. */
struct kc_log_client *kc_index_client(struct kc_log_index *ix, const char *id,
				      size_t len);
/* The client named id if the log knows it, else NULL. */
struct kc_log_client *kc_index_find_client(const struct kc_log_index *ix,
					   const char *id);

/* Adds e (filled in) at the end of its recipient's queue. */
int kc_index_add(struct kc_log_index *ix, struct kc_log_entry *e);
struct kc_log_entry *kc_index_by_lsn(const struct kc_log_index *ix,
				     uint64_t lsn);
/*
 * The oldest queued message of recipient with this msg_id that no batch
 * is deleting, or NULL.
 */
struct kc_log_entry *kc_index_by_id(const struct kc_log_index *ix,
				    const struct kc_log_client *recipient,
				    const uint8_t msg_id[KC_MSGID_LEN]);
/* Takes e out of every structure; the caller frees it. */
void kc_index_remove(struct kc_log_index *ix, struct kc_log_entry *e);

/* Calls fn for every client (the checkpoint walks the windows). */
int kc_index_each_client(const struct kc_log_index *ix,
			 int (*fn)(const struct kc_log_client *c, void *arg),
			 void *arg);

#endif
