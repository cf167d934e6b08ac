/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a store implementation provides (store.h is what the agent uses):
 * a struct that starts with struct kc_store, whose ops point at one
 * table for the directory and one for the queue, plus the store-wide
 * transaction that a group and a prune run in. store.c turns the public
 * calls into these: it hashes tokens, so an implementation sees token
 * hashes only, and it runs kc_store_apply and kc_store_prune as
 *   begin; the queue's steps; the directory's steps; commit
 * (rollback instead as soon as a step fails).
 *
 * The parts can come from different implementations. One that keeps
 * SQLite's directory and queues messages elsewhere embeds struct
 * kc_sqlite first (sqlite_int.h), points .dir at kc_sqlite_dir_ops, and
 * brings its own .queue and transaction: begin opens both; commit makes
 * its queue durable first and then commits SQLite, and the queue's
 * outcome is the group's, so a failed or interrupted SQLite commit after
 * it loses receipts (best effort), never a message. Its queue's put
 * checks sender and recipient with the directory, which SQLite's own
 * queue leaves to a foreign key.
 *
 * Every op follows store.h's rules (errors, threads, memory). "In a
 * group" means between begin and commit or rollback, on the same thread.
 */
#ifndef KC_STORE_INT_H
#define KC_STORE_INT_H

#include "store/store.h"

struct kc_store_ops;
struct kc_store_reader_ops;

struct kc_store {
	const struct kc_store_ops *ops;
};

struct kc_store_reader {
	const struct kc_store_reader_ops *ops;
};

struct kc_store_dir_ops {
	/* n tokens by their hashes, all or none, each valid until then. */
	int (*tokens_add)(struct kc_store *st,
			  const char (*hashes)[KC_TOKEN_HASH_LEN + 1], size_t n,
			  int64_t expires_ms);
	/* kc_store_token_check on the token's hash. */
	int (*token_state)(struct kc_store *st, const char *hash,
			   int64_t now_ms);
	/* kc_store_register on the token's hash, in its own transaction. */
	int (*register_client)(struct kc_store *st, const char *hash,
			       int64_t now_ms, const struct kc_client_reg *reg);
	/* As store.h; out is allocated with malloc (kc_stored_client_free). */
	int (*client_get)(struct kc_store *st, const char *id,
			  struct kc_stored_client *out);
	int (*client_live)(struct kc_store *st, const char *id);
	int (*revoke)(struct kc_store *st, const char *id);
	int (*receipts_walk)(struct kc_store *st, const char *sender,
			     kc_stored_receipt_fn fn, void *arg);
	/* In a group: a receipt for each take that was taken (receipt_id). */
	int (*receipts_add)(struct kc_store *st, struct kc_store_take *takes,
			    size_t n);
	/* In a group, best effort: a receipt that stays is sent again. */
	void (*receipts_forget)(struct kc_store *st, const int64_t *ids,
				size_t n);
	/* In a prune: tokens that expired before before_ms. */
	int (*prune)(struct kc_store *st, int64_t before_ms);
};

struct kc_store_queue_ops {
	int (*walk)(struct kc_store *st, const char *recipient,
		    int64_t after_seq, unsigned int limit, kc_stored_msg_fn fn,
		    void *arg);
	/*
	 * In a group: each put's result and seq, in order; a pair seen
	 * earlier in the same group is SEEN. -errno loses the group.
	 */
	int (*put)(struct kc_store *st, struct kc_store_put *puts, size_t n,
		   int64_t now_ms);
	/* In a group: each take's taken and sender, in order. */
	int (*take)(struct kc_store *st, struct kc_store_take *takes, size_t n);
	/* In a prune: seen pairs older than before_ms, not still queued. */
	int (*prune)(struct kc_store *st, int64_t before_ms);
};

struct kc_store_ops {
	const struct kc_store_dir_ops *dir;
	const struct kc_store_queue_ops *queue;
	/* The store-wide transaction of a group or a prune. */
	int (*begin)(struct kc_store *st);
	/* Durable on 0; on failure nothing is stored and the group is over. */
	int (*commit)(struct kc_store *st);
	void (*rollback)(struct kc_store *st);
	int (*set_max_bytes)(struct kc_store *st, uint64_t max_bytes);
	int (*reader_open)(struct kc_store *st, struct kc_store_reader **out);
	void (*close)(struct kc_store *st);
};

struct kc_store_reader_ops {
	int (*client_live)(struct kc_store_reader *r, const char *id);
	void (*close)(struct kc_store_reader *r);
};

#endif
