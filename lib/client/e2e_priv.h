/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside struct kc_e2e: shared by e2e.c and e2e_open.c (the protocol),
 * e2e_seen.c (the duplicate filter) and e2e_state.c (the state file).
 * Nothing else includes this.
 */
#ifndef KC_E2E_PRIV_H
#define KC_E2E_PRIV_H

#include "client/e2e.h"
#include "base/secmem.h"

struct e2e_session {
	char peer[KC_CLIENT_ID_MAX + 1]; /* recipient (out) or sender (in) */
	uint8_t sid[KC_SID_LEN];
	uint64_t seq;	      /* out: last used; in: highest accepted */
	uint64_t created_ms;
	uint32_t key_slot;    /* K, in e->keys */
	kc_handle_t h;	      /* K and Km in the crypto tier */
};

struct e2e_table {
	struct e2e_session *s;
	size_t n, cap;
};

/* A sender's floor (see KC_E2E_IN_PER_SENDER). */
struct e2e_floor {
	char peer[KC_CLIENT_ID_MAX + 1];
	uint64_t created_ms;
};

/*
 * The duplicate filter (e2e_seen.c): the last KC_E2E_SEEN_MAX distinct
 * (sender, msg_id) pairs in a ring, the oldest forgotten first, with a
 * hash index over the ring so a lookup walks one short chain instead of
 * the whole ring. Chains link ring indices, newest first.
 */
#define E2E_SEEN_BUCKET_BITS 13
#define E2E_SEEN_BUCKETS (1u << E2E_SEEN_BUCKET_BITS)

struct e2e_seen {
	char peer[KC_CLIENT_ID_MAX + 1];
	uint8_t peer_len;
	uint8_t msg_id[KC_MSGID_LEN];
	uint32_t bucket;
};

struct e2e_seen_set {
	struct e2e_seen *ring;	/* KC_E2E_SEEN_MAX entries */
	int32_t *head;		/* per bucket: newest ring index or -1 */
	int32_t *link;		/* per slot: next older in bucket or -1 */
	uint32_t next;		/* slot the next pair goes to */
	uint32_t count;
	uint64_t key[2];	/* bucket hash secret, see e2e_seen.c */
};

struct kc_e2e {
	struct kc_crypto *crypto;
	char self[KC_CLIENT_ID_MAX + 1];
	EVP_PKEY *id_priv, *enc_priv;
	struct kc_secmem *keys;
	struct e2e_table out, in;
	struct e2e_floor *floors;
	size_t n_floors;
	struct e2e_seen_set seen;
};

/*
 * Adds a session holding K (copied into locked memory and installed in
 * the tier). Returns the new entry through *out, or -errno.
 */
int kc_e2e_add_session(struct kc_e2e *e, struct e2e_table *t,
		       const char *peer, const uint8_t sid[KC_SID_LEN],
		       const uint8_t k[KC_KEY_LEN], uint64_t seq,
		       uint64_t created_ms, struct e2e_session **out);
/* Drops entry i (K wiped, tier session dropped). */
void kc_e2e_table_remove(struct kc_e2e *e, struct e2e_table *t, size_t i);
/* K of a session, in locked memory. */
const uint8_t *kc_e2e_session_key(const struct kc_e2e *e,
				  const struct e2e_session *s);
/* Raises (never lowers) a sender's floor; 0 means none. */
int kc_e2e_set_floor(struct kc_e2e *e, const char *peer, uint64_t created_ms);
uint64_t kc_e2e_floor(const struct kc_e2e *e, const char *peer);

/* An empty set with a fresh hash key: 0 or -ENOMEM. Destroy takes NULLs. */
int kc_seen_set_init(struct e2e_seen_set *s);
void kc_seen_set_destroy(struct e2e_seen_set *s);
bool kc_seen_set_has(const struct e2e_seen_set *s, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN]);
/* Adds a pair not yet known, forgetting the oldest when full. */
void kc_seen_set_add(struct e2e_seen_set *s, struct kc_bytes from,
		     const uint8_t msg_id[KC_MSGID_LEN]);
/* The i-th oldest pair, i < s->count: the state file's order. */
const struct e2e_seen *kc_seen_set_oldest(const struct e2e_seen_set *s,
					  uint32_t i);

#endif
