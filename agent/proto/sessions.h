/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Agent-side sessions of OPEN_SESSION (PROTOCOL.md section 4).
 *
 * Two levels:
 * - kc_sid_set: every sid live anywhere on the agent, shared by all
 *   workers behind one mutex, so a second OPEN_SESSION with a live sid
 *   gets EXISTS whichever connection or worker it arrives on;
 * - kc_session_list: the sessions of one connection (a session belongs to
 *   the connection that opened it), with the crypto handle holding K and
 *   Km, the highest seq that passed the MAC, and the expiry time. Only the
 *   owning worker touches a list.
 * A session ends when its connection closes or at expiry; the crypto tier
 * then forgets K and Km (kc_session_drop) and the sid is free again.
 */
#ifndef KC_SESSIONS_H
#define KC_SESSIONS_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/token_bucket.h"
#include "crypto/crypto_ops.h"

struct kc_keyring;

struct kc_sid_set;

int kc_sid_set_create(struct kc_sid_set **out);
void kc_sid_set_destroy(struct kc_sid_set *s);
/* Returns 0 when the sid was free and is now taken, -EEXIST or -ENOMEM. */
int kc_sid_claim(struct kc_sid_set *s, const uint8_t sid[KC_SID_LEN]);
void kc_sid_release(struct kc_sid_set *s, const uint8_t sid[KC_SID_LEN]);

/* Connections that open more sessions than this get TRY_LATER. */
#define KC_SESSIONS_PER_CONN 256

struct kc_conn_session {
	uint8_t sid[KC_SID_LEN];
	kc_handle_t handle;
	uint64_t max_seq;    /* highest seq that passed the MAC; 0 = none */
	uint64_t expires_ms; /* SESSION time + ttl_s */
};

struct kc_conn_sessions {
	struct kc_conn_session *v;
	uint32_t n, cap;
	const char *owner;	/* the connection's client id, at first open */
	struct kc_bucket opens; /* open_rate_conn */
};

struct kc_client_limits;

/* Everything needed to create or end a session on one worker. */
struct kc_session_ctx {
	struct kc_sid_set *sids;
	struct kc_crypto *crypto;
	/*
	 * The seal key, and the one a rotation replaced while clients may
	 * still wrap to it (KC_HANDLE_NONE: none); the main thread changes
	 * them (seal_rotate.h), the worker reads them per OPEN_SESSION.
	 */
	_Atomic kc_handle_t unwrap_key;
	_Atomic kc_handle_t old_key;
	/* Wrapped keys that did not unwrap, all workers together (stats). */
	atomic_ulong *bad_keys;
	/* RSA work budgets (client_limits.h): per client, per connection. */
	struct kc_client_limits *limits;
	struct kc_bucket_rate conn_rate;
	/* The worker's keyring (its quota counter), or NULL. */
	const struct kc_keyring *keyring;
};

/*
 * Takes a token from the connection's and the client's OPEN_SESSION
 * buckets (whatever comes of it: a failed unwrap costs the same RSA
 * work), claims the sid and unwraps K under the seal key. Returns 0 or a
 * negated protocol status, each decided whatever `wrapped` holds:
 * -KC_RATE_LIMITED (no token), -KC_EXISTS (sid live somewhere),
 * -KC_TRY_LATER (too many sessions on this connection or of this client,
 * or the tier's key store is full), -KC_INTERNAL. `client` is the
 * connection's id, the same on every call for one list. A `wrapped` without a
 * 32-byte key in it is not an error (PROTOCOL.md section 4): the session
 * is made with a random K, so each of its SENDs fails the MAC, and only
 * *bad_keys tells.
 */
int kc_conn_session_open(struct kc_conn_sessions *l,
			 const struct kc_session_ctx *ctx, const char *client,
			 const uint8_t sid[KC_SID_LEN],
			 const uint8_t wrapped[KC_RSA_LEN], uint64_t now_ms,
			 uint64_t expires_ms);
/* The live session with this sid, or NULL (also when it has expired). */
struct kc_conn_session *kc_conn_session_find(struct kc_conn_sessions *l,
					     const uint8_t sid[KC_SID_LEN],
					     uint64_t now_ms);
/* Ends every session whose time is up; returns how many ended. */
unsigned int kc_conn_sessions_expire(struct kc_conn_sessions *l,
				     const struct kc_session_ctx *ctx,
				     uint64_t now_ms);
/* Ends all sessions and frees the list (connection close). */
void kc_conn_sessions_drop_all(struct kc_conn_sessions *l,
			       const struct kc_session_ctx *ctx);

#endif
