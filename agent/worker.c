// SPDX-License-Identifier: GPL-2.0-only
/*
 * Worker threads and their loop: see worker.h for the turn's steps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "ratelog.h"
#include "router.h"
#include "store/store.h"
#include "udata.h"
#include "worker.h"

#define RING_ENTRIES 4096
#define BUF_GROUP 1
#define RECV_BUFS 512
#define RECV_BUF_SIZE (16u * 1024)
#define TICK_MS 1000
#define PRUNE_EVERY_MS (3600u * 1000)
/* Time connections get at shutdown to take their last frames. */
#define STOP_GRACE_MS 3000

struct io_uring_sqe *kc_worker_sqe(struct kc_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

void kc_worker_mark_dirty(struct kc_worker *w, struct kc_conn *c)
{
	if (c->on_dirty)
		return;
	c->on_dirty = true;
	c->next_dirty = w->dirty;
	w->dirty = c;
}

void kc_worker_mark_flush(struct kc_worker *w, struct kc_conn *c)
{
	if (c->on_flush)
		return;
	c->on_flush = true;
	c->next_flush = w->flush;
	w->flush = c;
}

/* Without a wake-up the note still goes out at the target's next tick. */
int kc_worker_post(struct kc_worker *from, struct kc_worker *to, uint32_t slot,
		   uint32_t gen, struct kc_payload *p)
{
	struct io_uring_sqe *sqe;
	int ret = kc_inbox_push(&to->inbox, slot, gen, p);

	if (ret != 1)
		return ret;
	sqe = kc_worker_sqe(from);
	if (!sqe)
		return 0;
	io_uring_prep_msg_ring(sqe, to->ring_fd, 0, kc_udata(KC_OP_WAKE, 0, 0),
			       0);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	return 0;
}

/* --- submissions that are not a connection's --- */

static void arm_accept(struct kc_worker *w)
{
	struct io_uring_sqe *sqe = kc_worker_sqe(w);

	if (!sqe)
		return;
	io_uring_prep_multishot_accept(sqe, w->listen_fd, NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_ACCEPT, 0, 0));
	w->accept_armed = true;
}

static void arm_tick(struct kc_worker *w)
{
	static struct __kernel_timespec tick = { .tv_sec = TICK_MS / 1000 };
	struct io_uring_sqe *sqe = kc_worker_sqe(w);

	/* The kernel copies the timespec when the SQE is submitted. */
	if (!sqe)
		return;
	io_uring_prep_timeout(sqe, &tick, 0, 0);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_TICK, 0, 0));
}

/* --- completions --- */

static void on_accept(struct kc_worker *w, int res, uint32_t flags)
{
	if (!(flags & IORING_CQE_F_MORE))
		w->accept_armed = false;
	if (res >= 0 && w->stopping)
		close(res);
	else if (res >= 0)
		kc_conn_accept(w, res);
	else if (res != -ECANCELED)
		kc_log_peer("accept: %s", strerror(-res));
	if (!w->accept_armed && !w->stopping)
		arm_accept(w);
}

/*
 * Worker 0 forgets old seen pairs and tokens once an hour (store.h: they
 * are kept KC_SEEN_KEEP_MS, PROTOCOL.md's 7 days, and no longer).
 */
static void maybe_prune(struct kc_worker *w)
{
	int ret;

	if (w->index || w->mono_ms < w->next_prune_ms)
		return;
	w->next_prune_ms = w->mono_ms + PRUNE_EVERY_MS;
	pthread_mutex_lock(&w->d->store_lock);
	ret = kc_store_prune(w->d->store, w->now_ms);
	pthread_mutex_unlock(&w->d->store_lock);
	if (ret)
		kc_log("store prune: %s", strerror(-ret));
}

static void on_tick(struct kc_worker *w)
{
	maybe_prune(w);
	for (uint32_t i = 0; i < w->conns.used; i++) {
		struct kc_conn *c = w->conns.v[i];

		if (c->state != KC_CONN_FREE)
			kc_conn_tick(c, w->mono_ms);
	}
	if (!w->stopping || w->conns.used != w->conns.nfree)
		arm_tick(w);
}

/* A recv for a slot that moved on still holds a buffer: give it back. */
static void on_stale(struct kc_worker *w, uint32_t flags)
{
	if (flags & IORING_CQE_F_BUFFER)
		kc_bufring_put(&w->bufs, kc_bufring_cqe_bid(flags));
}

static void dispatch(struct kc_worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	struct kc_conn *c = NULL;

	switch (kc_udata_op(ud)) {
	case KC_OP_ACCEPT:
		on_accept(w, cqe->res, cqe->flags);
		return;
	case KC_OP_TICK:
		on_tick(w);
		return;
	case KC_OP_RECV:
	case KC_OP_SEND:
		c = kc_conn_lookup(&w->conns, kc_udata_slot(ud),
				   kc_udata_gen(ud));
		break;
	default: /* WAKE: the inbox is read every turn; NONE: nothing */
		return;
	}
	if (!c)
		on_stale(w, cqe->flags);
	else if (kc_udata_op(ud) == KC_OP_RECV)
		kc_conn_on_recv(c, cqe->res, cqe->flags);
	else
		kc_conn_on_send(c, cqe->res);
}

static void reap(struct kc_worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		dispatch(w, cqe);
		n++;
	}
	io_uring_cq_advance(&w->ring, n);
}

/* --- the turn's later steps --- */

static void process_dirty(struct kc_worker *w)
{
	while (w->dirty) {
		struct kc_conn *c = w->dirty, *next;

		w->dirty = NULL;
		for (; c; c = next) {
			next = c->next_dirty;
			kc_conn_process(c);
			c->on_dirty = false;
			kc_conn_maybe_free(c);
		}
	}
}

static void process_flush(struct kc_worker *w)
{
	while (w->flush) {
		struct kc_conn *c = w->flush, *next;

		w->flush = NULL;
		for (; c; c = next) {
			next = c->next_flush;
			kc_conn_flush(c);
			c->on_flush = false;
			kc_conn_maybe_free(c);
		}
	}
}

/*
 * Nothing is acknowledged unless committed: a failed group turns every
 * held ACK into TRY_LATER (commit.c). Each message's stage times are
 * complete here (commit.h, struct kc_msg_times).
 */
static void patch_acks(struct kc_worker *w, uint64_t acked_ns)
{
	for (size_t i = 0; i < w->batch.nmsgs; i++) {
		struct kc_commit_msg *m = &w->batch.msgs[i];
		struct kc_conn *c = kc_conn_lookup(&w->conns, m->slot, m->gen);

		m->t.stored_ns = acked_ns;
		m->t.acked_ns = acked_ns;
		if (!c)
			continue;
		kc_conn_patch_u16(c, m->status_off, (uint16_t)m->status);
		kc_conn_release(c);
	}
}

static void group_commit(struct kc_worker *w)
{
	struct kc_daemon *d = w->d;
	int ret;

	if (kc_commit_empty(&w->batch))
		return;
	pthread_mutex_lock(&d->store_lock);
	ret = kc_commit_run(&w->batch, d->store, w->now_ms);
	if (ret)
		kc_log("group commit failed (%s): %zu SENDs answered TRY_LATER",
		       strerror(-ret), w->batch.nmsgs);
	patch_acks(w, kc_mono_ns());
	kc_router_route_commit(w, &w->batch);
	pthread_mutex_unlock(&d->store_lock);
	kc_commit_reset(&w->batch);
}

/* --- stop --- */

static void cancel_accept(struct kc_worker *w)
{
	struct io_uring_sqe *sqe;

	if (!w->accept_armed)
		return;
	sqe = kc_worker_sqe(w);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, kc_udata(KC_OP_ACCEPT, 0, 0), 0);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_NONE, 0, 0));
}

/* No new connections; the open ones take their last answers and close. */
static void begin_stop(struct kc_worker *w)
{
	w->stopping = true;
	w->stop_deadline_ms = w->mono_ms + STOP_GRACE_MS;
	cancel_accept(w);
	for (uint32_t i = 0; i < w->conns.used; i++) {
		struct kc_conn *c = w->conns.v[i];

		if (c->state == KC_CONN_HANDSHAKE)
			kc_conn_fail(c, NULL);
		else
			kc_conn_finish(c);
	}
}

static bool loop_done(const struct kc_worker *w)
{
	if (!w->stopping)
		return false;
	return w->conns.used == w->conns.nfree ||
	       w->mono_ms >= w->stop_deadline_ms;
}

static void turn(struct kc_worker *w)
{
	struct __kernel_timespec ts = { .tv_sec = TICK_MS / 1000 };
	struct io_uring_cqe *cqe;

	/* A group with only receipt deletions left must not wait a tick. */
	if (!kc_commit_empty(&w->batch))
		ts.tv_sec = 0;
	io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	w->mono_ms = kc_mono_ms();
	w->now_ms = kc_wall_ms();
	reap(w);
	if (!w->stopping && atomic_load(&w->stop))
		begin_stop(w);
	process_dirty(w);
	kc_router_drain_inbox(w);
	group_commit(w);
	process_flush(w);
	kc_bufring_publish(&w->bufs);
}

static void worker_loop(struct kc_worker *w)
{
	arm_accept(w);
	arm_tick(w);
	while (!loop_done(w))
		turn(w);
}

/* --- setup and teardown --- */

/* SINGLE_ISSUER|DEFER_TASKRUN where the kernel has them (6.1+). */
static int ring_init(struct kc_worker *w)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	}
	if (ret)
		return ret;
	w->ring_ready = true;
	w->ring_fd = w->ring.ring_fd;
	return 0;
}

/*
 * The tier gets the agent's "kcourier" keyring (docs/DESIGN.md "Keys"):
 * the user tier mirrors each session's K and Km there as "user" keys for
 * operators, the afalg tier keeps them there as "logon" keys, its only
 * store. Each worker keeps its own kc_keyring (same ring) because its
 * quota counters are not shared state. Without the agent's keyring the
 * user tier keeps sessions and the seal key in this process only; the
 * afalg tier keeps using the "kcourier" keyring it opened itself.
 */
static void mirror_keys(struct kc_worker *w)
{
	int ret;

	if (!w->d->keyring)
		return;
	w->keyring = *w->d->keyring;
	w->keyring.quota_misses = 0;
	ret = w->crypto->ops->set_keyring(w->crypto, &w->keyring,
					  w->d->cfg.session_ttl);
	if (ret)
		kc_log("worker %u: keyring: %s", w->index, strerror(-ret));
}

/*
 * Once, from worker 0: whether OPEN_SESSION's RSA runs in the kernel with
 * no private key in this process, or with OpenSSL here (docs/OPERATIONS.md,
 * "The seal key in the kernel keyring").
 */
static void log_unwrap_path(struct kc_worker *w, kc_handle_t key)
{
	const struct kc_crypto_ops *ops = w->crypto->ops;
	int serial;

	if (w->index)
		return;
	serial = ops->unwrap_key_serial(w->crypto, key);
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
static int crypto_init(struct kc_worker *w)
{
	const struct kc_agent_state *st = w->d->state;
	kc_handle_t key;
	int ret;

	ret = kc_crypto_open(w->d->crypto_tier, &w->crypto);
	if (ret)
		return ret;
	mirror_keys(w);
	ret = w->crypto->ops->load_unwrap_key(w->crypto, st->seal_pkcs8,
					      st->seal_pkcs8_len, &key);
	if (ret)
		return ret;
	w->sctx = (struct kc_session_ctx){ w->d->sids, w->crypto, key };
	log_unwrap_path(w, key);
	return 0;
}

/* Without its own connection a worker reads through the shared one. */
static void open_reader(struct kc_worker *w)
{
	int ret;

	pthread_mutex_lock(&w->d->store_lock);
	ret = kc_store_reader_open(w->d->store, &w->reader);
	pthread_mutex_unlock(&w->d->store_lock);
	if (ret)
		kc_log("worker %u: no read connection to the store (%s): reading under the store lock",
		       w->index, strerror(-ret));
}

static int worker_init(struct kc_worker *w)
{
	int ret;

	kc_conn_table_init(&w->conns, w->d->cfg.max_connections);
	w->scratch_len = w->d->cfg.max_frame;
	w->scratch = malloc(w->scratch_len);
	if (!w->scratch)
		return -ENOMEM;
	ret = ring_init(w);
	if (ret)
		return ret;
	ret = kc_bufring_init(&w->bufs, &w->ring, BUF_GROUP, RECV_BUFS,
			      RECV_BUF_SIZE);
	if (ret)
		return ret;
	open_reader(w);
	return crypto_init(w);
}

/*
 * Connections still open at the end are shut; the ring goes first so the
 * kernel lets go of every buffer, then the slots are freed.
 */
static void worker_fini(struct kc_worker *w)
{
	for (uint32_t i = 0; i < w->conns.used; i++)
		kc_conn_fail(w->conns.v[i], NULL);
	if (w->ring_ready)
		io_uring_queue_exit(&w->ring);
	w->ring_ready = false;
	for (uint32_t i = 0; i < w->conns.used; i++) {
		struct kc_conn *c = w->conns.v[i];

		c->recv_armed = c->send_inflight = false;
		c->on_dirty = c->on_flush = false;
		kc_conn_maybe_free(c);
	}
	kc_bufring_fini(&w->bufs, NULL);
	if (w->crypto)
		w->crypto->ops->unload_key(w->crypto, w->sctx.unwrap_key);
	kc_crypto_close(w->crypto);
	w->crypto = NULL;
	if (w->scratch)
		explicit_bzero(w->scratch, w->scratch_len);
	free(w->scratch);
	w->scratch = NULL;
	kc_conn_table_fini(&w->conns);
	kc_commit_fini(&w->batch);
	kc_store_reader_close(w->reader);
	w->reader = NULL;
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	w->listen_fd = -1;
}

static void report_start(struct kc_worker *w, int err)
{
	pthread_mutex_lock(&w->start_lock);
	w->start_err = err;
	w->started = true;
	pthread_cond_signal(&w->start_cond);
	pthread_mutex_unlock(&w->start_lock);
}

static void *worker_main(void *arg)
{
	struct kc_worker *w = arg;
	int ret = worker_init(w);

	report_start(w, ret);
	if (!ret)
		worker_loop(w);
	worker_fini(w);
	return NULL;
}

int kc_worker_start(struct kc_worker *w, struct kc_daemon *d,
		    unsigned int index, int listen_fd)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->d = d;
	w->index = index;
	w->listen_fd = listen_fd;
	kc_inbox_init(&w->inbox);
	kc_commit_init(&w->batch);
	pthread_mutex_init(&w->start_lock, NULL);
	pthread_cond_init(&w->start_cond, NULL);
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		close(listen_fd);
		w->listen_fd = -1;
		return ret;
	}
	pthread_mutex_lock(&w->start_lock);
	while (!w->started)
		pthread_cond_wait(&w->start_cond, &w->start_lock);
	pthread_mutex_unlock(&w->start_lock);
	if (w->start_err)
		pthread_join(w->thread, NULL);
	return w->start_err;
}

void kc_worker_request_stop(struct kc_worker *w, struct io_uring *from)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	atomic_store(&w->stop, true);
	sqe = io_uring_get_sqe(from);
	if (!sqe)
		return; /* the worker sees the flag at its next tick */
	io_uring_prep_msg_ring(sqe, w->ring_fd, 0, kc_udata(KC_OP_WAKE, 0, 0),
			       0);
	if (io_uring_submit_and_wait(from, 1) >= 0 &&
	    !io_uring_peek_cqe(from, &cqe))
		io_uring_cqe_seen(from, cqe);
}

void kc_worker_join(struct kc_worker *w)
{
	pthread_join(w->thread, NULL);
	kc_inbox_fini(&w->inbox);
	pthread_mutex_destroy(&w->start_lock);
	pthread_cond_destroy(&w->start_cond);
}
