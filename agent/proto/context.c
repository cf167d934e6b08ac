// SPDX-License-Identifier: GPL-2.0-only
/*
 * A worker's request-layer state: see context.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/context.h"
#include "ring/ratelog.h"
#include "store/store.h"

/*
 * The tier gets the agent's "kcourier" keyring (docs/DESIGN.md "Keys"):
 * the user tier mirrors each session's K and Km there as "user" keys for
 * operators, the afalg tier keeps them there as "logon" keys, its only
 * store. Each worker keeps its own kc_keyring (same ring) because its
 * quota counters are not shared state. Without the agent's keyring the
 * user tier keeps sessions and the seal key in this process only; the
 * afalg tier keeps using the "kcourier" keyring it opened itself.
 */
static void mirror_keys(struct kc_proto_worker *pw)
{
	int ret;

	if (!pw->p->keyring)
		return;
	pw->keyring = *pw->p->keyring;
	pw->keyring.quota_misses = 0;
	ret = pw->crypto->ops->set_keyring(pw->crypto, &pw->keyring,
					   pw->p->cfg->session_ttl);
	if (ret)
		kc_log("worker %u: keyring: %s", pw->w->index, strerror(-ret));
}

/*
 * Once, from worker 0: whether OPEN_SESSION's RSA runs in the kernel with
 * no private key in this process, or with OpenSSL here (docs/OPERATIONS.md,
 * "The seal key in the kernel keyring").
 */
static void log_unwrap_path(struct kc_proto_worker *pw, kc_handle_t key)
{
	const struct kc_crypto_ops *ops = pw->crypto->ops;
	int serial;

	if (pw->w->index)
		return;
	serial = ops->unwrap_key_serial(pw->crypto, key);
	if (serial > 0)
		kc_log("seal key: asymmetric key %d in keyring %s, unwrap by "
		       "the kernel (pkey_decrypt), no private key in this "
		       "process",
		       serial, KC_KEYRING_NAME);
	else
		kc_log("seal key: unwrap with OpenSSL in this process (kernel "
		       "keyring: %s)",
		       serial == -ENOKEY ? "none" : strerror(-serial));
}

/*
 * Each worker has its own tier instance with the seal key loaded. The
 * keyring comes first: with it, the tier may give the seal key to the
 * kernel.
 */
static int crypto_init(struct kc_proto_worker *pw)
{
	struct kc_proto *p = pw->p;
	kc_handle_t key;
	int ret;

	ret = kc_crypto_open(p->crypto_tier, &pw->crypto);
	if (ret)
		return ret;
	mirror_keys(pw);
	ret = pw->crypto->ops->load_unwrap_key(pw->crypto, p->seal_pkcs8,
					       p->seal_pkcs8_len, &key);
	if (ret)
		return ret;
	pw->sctx = (struct kc_session_ctx){
		.sids = p->sids,
		.crypto = pw->crypto,
		.bad_keys = &p->bad_keys,
		.keyring = p->keyring ? &pw->keyring : NULL,
		.limits = p->client_limits,
		.conn_rate = { p->cfg->open_rate_conn,
			       4 * p->cfg->open_rate_conn },
	};
	atomic_init(&pw->sctx.unwrap_key, key);
	atomic_init(&pw->sctx.old_key, KC_HANDLE_NONE);
	log_unwrap_path(pw, key);
	return 0;
}

/* Without its own connection a worker reads through the shared one. */
static void open_reader(struct kc_proto_worker *pw)
{
	int ret;

	pthread_mutex_lock(&pw->p->store_lock);
	ret = kc_store_reader_open(pw->p->store, &pw->reader);
	pthread_mutex_unlock(&pw->p->store_lock);
	if (ret)
		kc_log("worker %u: no read connection to the store (%s): reading under the store lock",
		       pw->w->index, strerror(-ret));
}

static void free_groups(struct kc_commit *b)
{
	while (b) {
		struct kc_commit *next = b->next;

		kc_commit_free(b);
		b = next;
	}
}

void kc_proto_worker_give_back(struct kc_commit *b, struct kc_ring *from)
{
	struct kc_proto_worker *pw = b->owner;
	struct io_uring_sqe *sqe;
	bool first;

	pthread_mutex_lock(&pw->done_lock);
	first = !pw->done;
	b->next = pw->done;
	pw->done = b;
	pthread_mutex_unlock(&pw->done_lock);
	if (!first)
		return; /* a wake-up is on its way already */
	sqe = kc_ring_sqe(from);
	if (!sqe)
		return; /* the worker looks at its next tick */
	kc_ring_prep_wake(sqe, pw->w->ring.fd);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

int kc_proto_worker_init(struct kc_worker *w)
{
	struct kc_proto_worker *pw = calloc(1, sizeof(*pw));

	if (!pw)
		return -ENOMEM;
	w->upper = pw;
	pw->w = w;
	pw->p = w->loop->ops_ctx;
	pthread_mutex_init(&pw->done_lock, NULL);
	pw->batch = kc_commit_new(pw);
	if (!pw->batch)
		return -ENOMEM;
	pw->batch->gen = ++pw->groups;
	pw->scratch_len = pw->p->cfg->max_frame;
	pw->scratch = malloc(pw->scratch_len);
	if (!pw->scratch)
		return -ENOMEM;
	open_reader(pw);
	return crypto_init(pw);
}

void kc_proto_worker_fini(struct kc_worker *w)
{
	struct kc_proto_worker *pw = w->upper;

	if (!pw)
		return;
	if (pw->crypto) {
		pw->crypto->ops->unload_key(pw->crypto,
					    atomic_load(&pw->sctx.unwrap_key));
		pw->crypto->ops->unload_key(pw->crypto,
					    atomic_load(&pw->sctx.old_key));
	}
	kc_crypto_close(pw->crypto);
	if (pw->scratch)
		explicit_bzero(pw->scratch, pw->scratch_len);
	free(pw->scratch);
	kc_commit_free(pw->batch);
	free_groups(pw->done);
	free_groups(pw->spare);
	pthread_mutex_destroy(&pw->done_lock);
	kc_store_reader_close(pw->reader);
	free(pw);
	w->upper = NULL;
}
