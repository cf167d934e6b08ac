/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a directory implementation provides (store.h is what the agent
 * uses): a struct that starts with struct kc_store, whose ops point at
 * its table. store.c turns the public calls into these; it hashes tokens,
 * so an implementation sees token hashes only. A second implementation
 * (PostgreSQL is planned) fills the same table; the message log is not
 * part of it (msglog.h).
 *
 * Every op follows store.h's rules (errors, threads, memory) and is
 * atomic on its own.
 */
#ifndef KC_STORE_INT_H
#define KC_STORE_INT_H

#include "store/live_cache.h"
#include "store/store.h"

struct kc_store_ops;
struct kc_store_reader_ops;

struct kc_store {
	const struct kc_store_ops *ops;
};

struct kc_store_reader {
	const struct kc_store_reader_ops *ops;
	struct kc_live_cache live; /* answers since the last change */
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
	/* n receipts, all or none. */
	int (*receipts_add)(struct kc_store *st,
			    const struct kc_store_receipt_in *r, size_t n);
	/* Best effort: a receipt that stays is sent again. */
	void (*receipts_forget)(struct kc_store *st, const int64_t *ids,
				size_t n);
	/* Tokens that expired before before_ms. */
	int (*prune)(struct kc_store *st, int64_t before_ms);
};

struct kc_store_ops {
	const struct kc_store_dir_ops *dir;
	int (*set_max_bytes)(struct kc_store *st, uint64_t max_bytes);
	int (*reader_open)(struct kc_store *st, struct kc_store_reader **out);
	void (*close)(struct kc_store *st);
};

struct kc_store_reader_ops {
	int (*client_live)(struct kc_store_reader *r, const char *id);
	/* Whether the directory changed since the last call: 1, 0, -errno. */
	int (*changed)(struct kc_store_reader *r);
	void (*close)(struct kc_store_reader *r);
};

#endif
