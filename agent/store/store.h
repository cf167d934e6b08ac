/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's directory (docs/DESIGN.md "Storage"), as the rest of the
 * agent sees it, whatever keeps it: registered clients, enrollment
 * tokens, revocations and the receipts not yet written to their sender.
 * The queued messages and the senders' counter windows are not here:
 * they are the message log's (msglog.h), which the committer owns.
 * SQLite keeps the directory today (sqlite.h). An implementation fills
 * the ops table of store_int.h; nothing of it shows here.
 *
 * Every write is atomic on its own: all of it is stored when the call
 * returns 0, nothing of it when it fails.
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

/* An expired token answers EXPIRED this long, then it is forgotten. */
#define KC_TOKEN_KEEP_MS (7LL * 86400 * 1000)

struct kc_store;
struct kc_store_reader;

/* Finishes what the store has open and frees it. NULL is ok. */
void kc_store_close(struct kc_store *st);

/*
 * Caps the store at about max_bytes (0: no cap); writes beyond it fail
 * with -ENOSPC, which the agent answers with TRY_LATER ("quota reached").
 */
int kc_store_set_max_bytes(struct kc_store *st, uint64_t max_bytes);

/*
 * max_store_mb (kcourierd.conf) split between the two stores: an eighth
 * for the directory (clients, tokens, receipts: small rows), the rest for
 * the message log's segments. 0: no cap.
 */
static inline uint64_t kc_store_cap_dir(uint32_t max_store_mb)
{
	return ((uint64_t)max_store_mb << 20) / 8;
}

static inline uint64_t kc_store_cap_log(uint32_t max_store_mb)
{
	return ((uint64_t)max_store_mb << 20) - kc_store_cap_dir(max_store_mb);
}

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
struct kc_stored_receipt {
	int64_t id;	       /* for kc_store_receipts_forget */
	const uint8_t *msg_id; /* KC_MSGID_LEN */
	const char *recipient;
};
typedef int (*kc_stored_receipt_fn)(const struct kc_stored_receipt *r,
				    void *arg);

/* The receipts pending for sender, oldest first. */
int kc_store_receipts_walk(struct kc_store *st, const char *sender,
			   kc_stored_receipt_fn fn, void *arg);

/* --- receipts waiting for their sender --- */

/* One receipt to keep: its sender (who gets it) and what it says. */
struct kc_store_receipt_in {
	char sender[KC_CLIENT_ID_MAX + 1];
	char recipient[KC_CLIENT_ID_MAX + 1];
	uint8_t msg_id[KC_MSGID_LEN];
};

/* Adds n receipts, all or none. */
int kc_store_receipts_add(struct kc_store *st,
			  const struct kc_store_receipt_in *r, size_t n);
/*
 * Forgets receipts once written to a connection (best effort: one that
 * cannot be forgotten stays pending and is written again).
 */
void kc_store_receipts_forget(struct kc_store *st, const int64_t *ids,
			      size_t n);

/* --- upkeep --- */

/* Forgets tokens that expired more than KC_TOKEN_KEEP_MS ago. */
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
/*
 * As kc_store_client_live, from memory when the reader asked about id
 * since the directory last changed (live_cache.h).
 */
int kc_store_reader_client_live(struct kc_store_reader *r, const char *id);
/* Forgets the answers if the directory changed (the agent: every 100 ms). */
void kc_store_reader_sync(struct kc_store_reader *r);
/* NULL is ok. */
void kc_store_reader_close(struct kc_store_reader *r);

#endif
