/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's durable store (docs/DESIGN.md "Storage"), as the rest of the
 * agent sees it, whatever keeps it. It has two parts:
 *   directory  registered clients, enrollment tokens, revocations and the
 *              receipts not yet written to their sender;
 *   queue      the messages waiting for their recipient, and the
 *              (sender, msg_id) pairs seen, which make a resent message
 *              an OK without a second copy (PROTOCOL.md section 4).
 * One SQLite file holds both today (sqlite.h). An implementation fills
 * the ops tables of store_int.h; nothing of it shows here.
 *
 * Writes to the queue and to receipts happen only in a group
 * (kc_store_apply): all of a group is durable when the call returns 0,
 * and nothing of it is stored when it fails. An ACK OK may be sent for a
 * message of a group (new or duplicate alike) only after that. The other
 * writes (register, tokens, revoke, prune) are atomic on their own.
 *
 * Errors: 0 or -errno. -ENOSPC is a full disk (or the cap of
 * kc_store_set_max_bytes), -EIO any other write or read failure, -EBUSY
 * another process held the store past its busy timeout, -ENOMEM, -EPROTO
 * a store written by a newer kcourierd. The calls that judge a client's
 * request return its negated protocol status instead (-KC_BAD_TOKEN, ...;
 * those numbers overlap errno values, so the caller lists the statuses).
 *
 * Threads and blocking: a struct kc_store is not thread-safe; its user
 * serialises every call (the agent: store_lock, see daemon.h). Any thread
 * may make the call. Every call may block on the disk, kc_store_apply
 * and the other writes for an fsync, and any call for up to the busy
 * timeout while another process (`kcourierd token`, `kcourierd revoke`)
 * holds the file. A reader (kc_store_reader_open) is the exception: it
 * belongs to one thread and needs no lock, not even against the store's
 * own commits.
 *
 * Memory: strings are NUL-terminated client ids already valid by the id
 * grammar; blobs are pointer and length, read only during the call. What
 * a walk hands to its callback is the store's, valid during the callback
 * only; what kc_store_client_get returns is the caller's.
 */
#ifndef KC_STORE_H
#define KC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"
#include "wire/wire.h"

/* Seen (sender, msg_id) pairs are kept at least this long (PROTOCOL.md 4). */
#define KC_SEEN_KEEP_MS (7LL * 86400 * 1000)

struct kc_store;
struct kc_store_reader;

/* Finishes what the store has open and frees it. NULL is ok. */
void kc_store_close(struct kc_store *st);

/*
 * Caps the store at about max_bytes (0: no cap); writes beyond it fail
 * with -ENOSPC, which the agent answers with TRY_LATER ("quota reached").
 */
int kc_store_set_max_bytes(struct kc_store *st, uint64_t max_bytes);

/* --- directory: tokens and clients --- */

/*
 * count new tokens, valid until now_ms + ttl_s seconds, all stored or
 * none: writes each token's text into tokens[i] (wiped on failure).
 */
int kc_store_tokens_new(struct kc_store *st, int64_t now_ms, uint32_t ttl_s,
			size_t count, char (*tokens)[KC_TOKEN_TEXT_LEN + 1]);

/*
 * Whether token could register now, without using it up: 0,
 * -KC_BAD_TOKEN (unknown or used) or -KC_EXPIRED. Lets the agent refuse
 * before signing a certificate. An expired token answers -KC_EXPIRED
 * until kc_store_prune forgets it, KC_SEEN_KEEP_MS after its expiry.
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
 * REGISTER, atomically: uses up the token and adds the client, or
 * changes nothing. Returns 0, -KC_BAD_TOKEN (unknown or used),
 * -KC_EXPIRED, -KC_EXISTS (id taken; the token stays usable), or -errno.
 */
int kc_store_register(struct kc_store *st, struct kc_bytes token,
		      int64_t now_ms, const struct kc_client_reg *reg);

/* A client's record, the caller's: released with kc_stored_client_free. */
struct kc_stored_client {
	uint8_t *cert;
	size_t cert_len;
	uint8_t *enc_spki;
	size_t enc_spki_len;
	uint8_t *enc_sig;
	size_t enc_sig_len;
	bool revoked;
	int64_t created_ms;
};

/* Returns 0, -ENOENT for an unknown id, or -errno (then *out is empty). */
int kc_store_client_get(struct kc_store *st, const char *id,
			struct kc_stored_client *out);
/* Frees what kc_store_client_get filled in and empties c; NULL is ok. */
void kc_stored_client_free(struct kc_stored_client *c);

/*
 * Whether id is a registered client that is not revoked: 0, -ENOENT
 * (unknown or revoked), or -errno. Reads one flag, copies nothing.
 */
int kc_store_client_live(struct kc_store *st, const char *id);

/*
 * Marks id revoked (idempotent); clients are never deleted, so their
 * queued messages and receipts keep naming them. 0, -ENOENT, or -errno.
 */
int kc_store_revoke(struct kc_store *st, const char *id);

/* --- walks --- */

/*
 * A walk calls fn once per row, in order, on the caller's thread, before
 * it returns. The row and what it points to are the store's and valid
 * during that call only. fn must not call the store (it is in the middle
 * of the walk). fn returns 0 to go on; anything else ends the walk and is
 * what the walk returns. Otherwise the walk returns 0 after the last row
 * or -errno when the store failed (the rows before stay visited).
 */
struct kc_stored_msg {
	int64_t seq; /* queue position: never reused, seq order = ACK order */
	const char *sender;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	int64_t stored_at_ms;
	const uint8_t *inner;
	size_t inner_len;
};
typedef int (*kc_stored_msg_fn)(const struct kc_stored_msg *m, void *arg);

/*
 * Up to limit (0: all) messages queued for recipient with seq above
 * after_seq, in seq order: after_seq is where the previous walk stopped.
 */
int kc_store_queue_walk(struct kc_store *st, const char *recipient,
			int64_t after_seq, unsigned int limit,
			kc_stored_msg_fn fn, void *arg);

struct kc_stored_receipt {
	int64_t id;	       /* for kc_store_group.receipts_done */
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	const char *recipient;
};
typedef int (*kc_stored_receipt_fn)(const struct kc_stored_receipt *r,
				    void *arg);

/* The receipts pending for sender, oldest first. */
int kc_store_receipts_walk(struct kc_store *st, const char *sender,
			   kc_stored_receipt_fn fn, void *arg);

/* --- the group: every write to the queue and to receipts --- */

enum kc_store_put_result {
	KC_STORE_STORED,    /* queued now, at seq */
	KC_STORE_SEEN,	    /* (sender, msg_id) seen before: stored once */
	KC_STORE_NO_CLIENT, /* sender or recipient never registered */
};

/* SEND: a message to queue, unless its (sender, msg_id) was seen. */
struct kc_store_put {
	const char *sender;
	const char *recipient;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	const uint8_t *inner;
	size_t inner_len;
	/* Results. */
	enum kc_store_put_result result;
	int64_t seq; /* when STORED */
};

/*
 * DELIVERED: the oldest message msg_id queued for recipient (should two
 * senders have picked the same msg_id) leaves the queue, and a receipt
 * for its sender takes its place. Nothing happens when no such message
 * is queued (taken is false): the agent ignores the request.
 */
struct kc_store_take {
	const char *recipient;
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	/* Results. */
	bool taken;
	char sender[KC_CLIENT_ID_MAX + 1];
	int64_t receipt_id; /* to forget once written to a connection */
};

struct kc_store_group {
	struct kc_store_put *puts; /* applied in this order, then ... */
	size_t nputs;
	struct kc_store_take *takes; /* ... these, in this order */
	size_t ntakes;
	/*
	 * Receipts written to a connection, to forget (best effort: one
	 * that cannot be forgotten stays pending and is written again).
	 */
	const int64_t *receipts_done;
	size_t nreceipts_done;
};

/*
 * Applies the group atomically at now_ms (each put's stored_at_ms) and
 * makes it durable. A put refused with NO_CLIENT stores nothing and
 * leaves its pair unseen; the rest of the group goes on. (A revoked
 * client counts as registered here: the agent refuses revoked
 * recipients before the group.) Returns 0 with every result filled in,
 * or -errno: then nothing of the group is stored and the results mean
 * nothing. The caller owns g and every buffer it points to; the store
 * writes only the result fields.
 */
int kc_store_apply(struct kc_store *st, struct kc_store_group *g,
		   int64_t now_ms);

/* --- upkeep --- */

/*
 * Forgets, atomically, seen pairs older than KC_SEEN_KEEP_MS whose
 * message is no longer queued (a pair stays while its message waits,
 * however long) and tokens that expired more than KC_SEEN_KEEP_MS ago.
 */
int kc_store_prune(struct kc_store *st, int64_t now_ms);

/* --- readers: directory reads from another thread --- */

/*
 * A reader of st's directory for one thread, with its own connection to
 * where st keeps it, so its reads wait neither for store_lock nor for a
 * group's fsync. It sees what was committed. Opening it is a call on st
 * like any other (serialised); its own calls are not. Free it with
 * kc_store_reader_close before st.
 */
int kc_store_reader_open(struct kc_store *st, struct kc_store_reader **out);
/* As kc_store_client_live. */
int kc_store_reader_client_live(struct kc_store_reader *r, const char *id);
/* NULL is ok. */
void kc_store_reader_close(struct kc_store_reader *r);

#endif
