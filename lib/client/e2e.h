/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The end-to-end layer of PROTOCOL.md section 5, opaque to the agent.
 *
 * One struct kc_e2e holds a client's E2E sessions:
 *   outgoing  one per recipient: sid, K, the last seq used. A new one is
 *             started (SESSION_INIT) when there is none, after
 *             KC_E2E_ROTATE_MSGS messages or KC_E2E_ROTATE_MS of age.
 *   incoming  keyed by (sender, sid): K and the highest seq accepted.
 * plus the recent (sender, msg_id) pairs seen, so redelivered messages are
 * dropped (PROTOCOL.md section 4, "Delivery and receipts": a message may
 * be delivered again after a reconnect).
 *
 * K lives in locked memory (secmem.h) and in the crypto tier, which does
 * every CBC and MAC; it leaves only through kc_e2e_state_*() (e2e_state.c)
 * on its way into the sealed state file.
 *
 * Returns: 0 or -errno for local failures (-ENOMEM, -EIO, -ENOENT when
 * there is no outgoing session). kc_e2e_open() returns a non-negative
 * enum kc_e2e_result for anything the peer sent, good or bad.
 *
 * Not thread-safe: one owner.
 */
#ifndef KC_E2E_H
#define KC_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/crypto_ops.h"
#include "wire/wire.h"

#define KC_E2E_ROTATE_MSGS 1000
#define KC_E2E_ROTATE_MS (24ull * 3600 * 1000)
/*
 * Incoming sessions kept per sender. Beyond that the oldest is dropped and
 * its created_ms becomes the sender's floor: a SESSION_INIT created at or
 * before the floor is refused, so a dropped session cannot be replayed.
 */
#define KC_E2E_IN_PER_SENDER 64
/* (sender, msg_id) pairs remembered for dropping duplicates. */
#define KC_E2E_SEEN_MAX 4096

struct kc_e2e;

/*
 * self is the client id; id_priv signs SESSION_INITs, enc_priv unwraps
 * the K of incoming ones. Both keys are borrowed and must outlive e.
 */
int kc_e2e_create(struct kc_crypto *c, const char *self, EVP_PKEY *id_priv,
		  EVP_PKEY *enc_priv, struct kc_e2e **out);
void kc_e2e_free(struct kc_e2e *e);

/* Outgoing. */

/* True when the next message to `to` needs a new session first. */
bool kc_e2e_needs_init(const struct kc_e2e *e, const char *to,
		       uint64_t now_ms);
/*
 * Starts a new session to `to` (replacing any older one) and returns its
 * SESSION_INIT record in *init (malloc'ed). to_enc_pub must be the
 * recipient's enc key, checked by the caller (enc_sig, certificate).
 */
int kc_e2e_start(struct kc_e2e *e, const char *to, EVP_PKEY *to_enc_pub,
		 uint64_t now_ms, uint8_t **init, size_t *init_len);
/* A MESSAGE record with the next seq of the session to `to`. */
int kc_e2e_seal(struct kc_e2e *e, const char *to, const uint8_t *pt,
		size_t pt_len, uint8_t **inner, size_t *inner_len);
/* Forgets the session to `to` (its SESSION_INIT was not accepted). */
void kc_e2e_forget(struct kc_e2e *e, const char *to);

/* Incoming. */

enum kc_e2e_result {
	KC_E2E_MESSAGE = 0,	/* *pt holds the application's bytes */
	KC_E2E_SESSION_OPENED,	/* a SESSION_INIT was accepted */
	KC_E2E_MALFORMED,	/* not a section 5 record */
	KC_E2E_NOT_FOR_ME,	/* SESSION_INIT names another recipient */
	KC_E2E_WRONG_SENDER,	/* sender differs from DELIVER's from */
	KC_E2E_NO_KEY,		/* no verified id certificate for sender */
	KC_E2E_BAD_SIGNATURE,
	KC_E2E_SESSION_REUSED,	/* (sender, sid) known, or below floor */
	KC_E2E_UNKNOWN_SESSION,
	KC_E2E_REPLAY,		/* seq not above the highest accepted */
	KC_E2E_BAD_MAC,
};

/* Human text for an enum kc_e2e_result. */
const char *kc_e2e_result_text(int result);

/*
 * Supplies the sender's id public key from a certificate that chains to
 * the pinned CA with CN = sender. `fresh` asks to bypass any cache: the
 * opener calls once more with it set when a signature fails under the
 * cached key. Returns 0 with *pub (caller frees); -ENOKEY, -ENOENT or
 * -EKEYREJECTED when the sender has no acceptable key (the record is then
 * rejected as KC_E2E_NO_KEY); any other -errno is a local failure (the
 * agent could not be asked) that kc_e2e_open() passes back, so the caller
 * can keep the record for later instead of dropping it.
 */
typedef int (*kc_e2e_key_fn)(void *arg, const char *sender, bool fresh,
			     EVP_PKEY **pub);

/*
 * Judges one DELIVER's inner record. For KC_E2E_MESSAGE, *pt is malloc'ed
 * (wipe it before freeing); otherwise *pt is NULL. A negative return is a
 * local failure (out of memory, library error), not the peer's doing.
 */
int kc_e2e_open(struct kc_e2e *e, struct kc_bytes from, const uint8_t *inner,
		size_t inner_len, kc_e2e_key_fn key_fn, void *key_arg,
		uint8_t **pt, size_t *pt_len);

/* Duplicates: true if (from, msg_id) was remembered. */
bool kc_e2e_seen(const struct kc_e2e *e, struct kc_bytes from,
		 const uint8_t msg_id[KC_MSGID_LEN]);
void kc_e2e_remember(struct kc_e2e *e, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN]);

/*
 * State for the sealed file (e2e_state.c). The outgoing and incoming
 * halves are separate so `send` and `recv` can run at the same time, each
 * owning one file. Export returns a new JSON object holding K in base64:
 * serialise it, then release it with kc_e2e_json_free(), never
 * json_decref() alone. Import adds to what e already holds; -EBADMSG for
 * a document that is not a state of that half.
 */
int kc_e2e_export_out(const struct kc_e2e *e, json_t **out);
int kc_e2e_export_in(const struct kc_e2e *e, json_t **out);
int kc_e2e_import_out(struct kc_e2e *e, const json_t *doc);
int kc_e2e_import_in(struct kc_e2e *e, const json_t *doc);

/*
 * Jansson keeps copies of every string it parses or builds, K included.
 * This installs allocation functions that wipe each block before freeing
 * it (process-wide, idempotent); kc_e2e_json_free() is then a plain
 * json_decref().
 */
void kc_e2e_json_wipe_on_free(void);
void kc_e2e_json_free(json_t *doc);

#endif
