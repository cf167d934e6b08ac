/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's durable store (docs/DESIGN.md "Storage") on SQLite 3: registered
 * clients, enrollment tokens, the message queue, the (sender, msg_id)
 * pairs already seen, and pending receipts.
 *
 * Durability: WAL journal with synchronous=FULL, so every COMMIT is one
 * fsync of the WAL and a committed transaction survives a crash or power
 * loss. Messages are written in groups: kc_store_begin(), any number of
 * kc_store_put_message(), kc_store_commit(). An ACK OK may be sent for a
 * message of the group (new or duplicate alike) only after
 * kc_store_commit() returned 0. If any call of the group fails with
 * -ENOSPC, -EIO, -EBUSY or -ENOMEM, the group is lost: call
 * kc_store_rollback() and answer TRY_LATER for every message in it.
 *
 * Errors: 0 or -errno. -ENOSPC is a full disk (or the size limit of
 * kc_store_set_max_bytes), -EIO any other write or read failure, -EBUSY
 * another process held the database past the busy timeout, -ENOMEM,
 * -EPROTO a store written by a newer kcourierd. Functions that judge
 * client input return the negated protocol status (-KC_BAD_TOKEN, ...).
 *
 * Threads: one struct kc_store is one SQLite connection; it is not
 * thread-safe and the caller serialises every call on it with its own
 * mutex (or gives each thread its own kc_store on the same file). Other
 * processes (`kcourierd token`, `kcourierd revoke`) may use the same file
 * at the same time; SQLite's locking and the busy timeout cover that.
 *
 * Strings (client ids) are NUL-terminated and already valid by the
 * client id grammar; blobs come as pointer and length.
 */
#ifndef KC_AGENT_STORE_H
#define KC_AGENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

/* Token text: 32 random bytes in lowercase hex. */
#define KC_TOKEN_BYTES 32
#define KC_TOKEN_TEXT_LEN (2 * KC_TOKEN_BYTES)
/* Seen (sender, msg_id) pairs are kept at least this long (PROTOCOL.md 4). */
#define KC_SEEN_KEEP_MS (7LL * 86400 * 1000)
#define KC_STORE_SCHEMA_VERSION 1

struct kc_store;

/*
 * Opens the store at path; with create, makes the file (mode 0600) and its
 * schema when missing, else a missing file is -ENOENT.
 */
int kc_store_open(const char *path, bool create, struct kc_store **out);
/* Finalises statements and closes; rolls back an open group. NULL is ok. */
void kc_store_close(struct kc_store *st);

/*
 * Caps the database at about max_bytes (0: no cap); writes beyond it fail
 * with -ENOSPC, which the agent answers with TRY_LATER ("quota reached").
 */
int kc_store_set_max_bytes(struct kc_store *st, uint64_t max_bytes);

/* --- groups (transactions) --- */

/* Starts a write transaction (BEGIN IMMEDIATE); -EBUSY if one is open. */
int kc_store_begin(struct kc_store *st);
/*
 * Makes the group durable. On failure nothing of it is stored (the
 * transaction is rolled back here) and the error is returned.
 */
int kc_store_commit(struct kc_store *st);
/* Drops the group; harmless when none is open. */
void kc_store_rollback(struct kc_store *st);

/* --- tokens and clients --- */

/*
 * A new token, valid until now_ms + ttl_s seconds: writes the text into
 * token (NUL-terminated) and stores only its SHA-256 (hex).
 */
int kc_store_token_new(struct kc_store *st, int64_t now_ms, uint32_t ttl_s,
		       char token[KC_TOKEN_TEXT_LEN + 1]);

/*
 * Whether token could register now, without using it up: 0,
 * -KC_BAD_TOKEN (unknown or used) or -KC_EXPIRED. Lets the agent refuse
 * before signing a certificate.
 */
int kc_store_token_check(struct kc_store *st, struct kc_bytes token,
			 int64_t now_ms);

struct kc_client_reg {
	const char *id;
	struct kc_bytes cert; /* DER, issued by the agent CA */
	struct kc_bytes enc_spki;
	struct kc_bytes enc_sig;
};

/*
 * REGISTER, in one transaction: uses up the token and adds the client, or
 * changes nothing. Returns 0, -KC_BAD_TOKEN (unknown or used),
 * -KC_EXPIRED, -KC_EXISTS (id taken; the token stays usable), or -errno.
 * Inside an open group it joins that group (then commit decides).
 */
int kc_store_register(struct kc_store *st, struct kc_bytes token,
		      int64_t now_ms, const struct kc_client_reg *reg);

/* A client's record; owned by the caller, released with kc_client_free. */
struct kc_client {
	uint8_t *cert;
	size_t cert_len;
	uint8_t *enc_spki;
	size_t enc_spki_len;
	uint8_t *enc_sig;
	size_t enc_sig_len;
	bool revoked;
	int64_t created_ms;
};

/* Returns 0, -ENOENT for an unknown id, or -errno. */
int kc_store_client_get(struct kc_store *st, const char *id,
			struct kc_client *out);
void kc_client_free(struct kc_client *c);

/*
 * Whether id is a registered client that is not revoked: 0, -ENOENT
 * (unknown or revoked), or -errno.
 */
int kc_store_client_live(struct kc_store *st, const char *id);
/* Marks id revoked (idempotent). Returns 0, -ENOENT, or -errno. */
int kc_store_revoke(struct kc_store *st, const char *id);

/* --- messages --- */

/*
 * Queues a message inside an open group (-EINVAL without one, so a
 * message can never be half-written outside a transaction). Returns 0 and
 * its queue position in *seq, 1 when (sender, msg_id) was seen before
 * (nothing stored, *seq untouched), -ENOENT when recipient or sender is
 * not a registered client (nothing stored, the group goes on), or -errno.
 */
int kc_store_put_message(struct kc_store *st, const char *sender,
			 const uint8_t msg_id[KC_MSGID_LEN],
			 const char *recipient, int64_t now_ms,
			 const uint8_t *inner, size_t inner_len, int64_t *seq);

/* A queued message; pointers are valid only during the callback. */
struct kc_stored_msg {
	int64_t seq;
	const char *sender;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	int64_t stored_at_ms;
	const uint8_t *inner;
	size_t inner_len;
};

/*
 * Calls fn for up to limit messages queued for recipient with seq above
 * after_seq, in seq (= ACK) order. fn returns 0 to go on; anything else
 * stops the walk and is returned. Otherwise returns 0 or -errno.
 */
typedef int (*kc_msg_fn)(const struct kc_stored_msg *m, void *arg);
int kc_store_queue_iter(struct kc_store *st, const char *recipient,
			int64_t after_seq, unsigned int limit, kc_msg_fn fn,
			void *arg);

/*
 * DELIVERED: deletes the message msg_id only if it is queued for
 * recipient (the oldest one, should two senders have picked the same
 * msg_id) and adds a receipt for its sender, atomically. Writes the
 * sender into sender_out and, unless receipt_id is NULL, the new
 * receipt's id into it, so the receipt can be forgotten once written to
 * a connection. Returns 0, -ENOENT (not queued for recipient: the agent
 * ignores the request), or -errno.
 */
int kc_store_delivered(struct kc_store *st, const char *recipient,
		       const uint8_t msg_id[KC_MSGID_LEN],
		       char sender_out[KC_CLIENT_ID_MAX + 1],
		       int64_t *receipt_id);

/* --- receipts --- */

struct kc_stored_receipt {
	int64_t id;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	const char *recipient;
};

/* Pending receipts for sender, oldest first; fn as for queue_iter. */
typedef int (*kc_receipt_fn)(const struct kc_stored_receipt *r, void *arg);
int kc_store_receipts_iter(struct kc_store *st, const char *sender,
			   kc_receipt_fn fn, void *arg);
/* Forgets a receipt once it was written to a connection (best effort). */
int kc_store_receipt_done(struct kc_store *st, int64_t receipt_id);

/*
 * Forgets seen pairs older than KC_SEEN_KEEP_MS whose message is no longer
 * queued (a pair stays while its message waits, however long), and tokens
 * that expired more than KC_SEEN_KEEP_MS ago (until then an expired token
 * still answers EXPIRED rather than BAD_TOKEN).
 */
int kc_store_prune(struct kc_store *st, int64_t now_ms);

#endif
