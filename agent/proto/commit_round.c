// SPDX-License-Identifier: GPL-2.0-only
/*
 * One round of the committer (committer.h): steps 6-8 of SEND for every
 * group taken, the DELIVEREDs as tombstones, then one write and one
 * fdatasync, linked, on the committer's ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "proto/committer_int.h"
#include "proto/context.h"
#include "ring/counters.h"
#include "ring/probes.h"
#include "ring/ratelog.h"

/*
 * Step 7's RATE_LIMITED: one send_rate token per message stored, taken
 * once a round even when a full disk makes the round judge it again.
 */
static bool pay_rate(struct kc_committer *cm, struct kc_commit_msg *m)
{
	const struct kc_agent_config *cfg = cm->p->cfg;
	struct kc_bucket_rate rate = { cfg->send_rate, cfg->send_burst };
	struct kc_log_client *s;

	if (m->paid || !rate.rate)
		return true;
	s = kc_msglog_client(cm->log, m->sender);
	if (s && !kc_bucket_take(&s->send_bucket, &rate, kc_mono_ms()))
		return false;
	m->paid = true;
	return true;
}

/* Step 7 after the worker's verdict: the rate, then quota and room. */
static uint16_t judge_room(struct kc_committer *cm, struct kc_commit_msg *m,
			   const struct kc_rec_msg *rec, uint64_t *lsn)
{
	int ret;

	if (!pay_rate(cm, m)) {
		cm->stats.rate_limited++;
		kc_count(KC_CTR_SEND_RATE_LIMITED, 1);
		return KC_RATE_LIMITED;
	}
	ret = kc_msglog_add_msg(cm->log, &cm->lb, rec, lsn);
	if (ret == -EDQUOT) {
		cm->stats.over_quota++;
		kc_count(KC_CTR_SEND_OVER_QUOTA, 1);
	} else if (ret == -ENOSPC) {
		cm->stats.no_room++;
		kc_count(KC_CTR_SEND_STORE_FULL, 1);
	}
	return ret ? KC_TRY_LATER : KC_OK;
}

/* Step 6, then step 7's verdict from the worker, then the append. */
static void judge_msg(struct kc_committer *cm, struct kc_commit_msg *m)
{
	struct kc_rec_msg rec;
	uint64_t lsn;

	m->fresh = false; /* judged again when the round must fit */
	switch (kc_msglog_judge(cm->log, m->sender, m->counter)) {
	case KC_WINDOW_DUP:
		m->status = KC_OK; /* durable already: its first copy */
		cm->stats.duplicates++;
		kc_count(KC_CTR_DUPLICATES, 1);
		if (KC_PROBE_ON(duplicate))
			KC_PROBE2(duplicate, m->sender, m->counter);
		return;
	case KC_WINDOW_REPLAY:
		m->status = KC_REPLAY;
		cm->stats.replays++;
		if (KC_PROBE_ON(replay))
			KC_PROBE3(replay, m->sender, m->counter, 1);
		return;
	case KC_WINDOW_NEW:
		break;
	}
	if (m->verdict != KC_OK) {
		m->status = m->verdict; /* its counter stays unused */
		return;
	}
	rec = (struct kc_rec_msg){
		.counter = m->counter,
		.stored_at_ms = cm->round_wall_ms,
		.flags = m->flags,
		.msg_id = m->msg_id,
		.sender = { (const uint8_t *)m->sender, strlen(m->sender) },
		.recipient = { (const uint8_t *)m->recipient,
			       strlen(m->recipient) },
		.inner = { m->inner, m->inner_len },
	};
	m->status = judge_room(cm, m, &rec, &lsn);
	if (m->status != KC_OK)
		return;
	m->fresh = true;
	m->seq = lsn;
	cm->round_msgs++;
}

static int owe_receipt(struct kc_committer *cm, const struct kc_log_entry *e)
{
	struct kc_store_receipt_in *d;

	if (cm->ndues == cm->dues_cap) {
		size_t cap = cm->dues_cap ? 2 * cm->dues_cap : 64;
		void *v = reallocarray(cm->dues, cap, sizeof(*cm->dues));

		if (!v)
			return -ENOMEM;
		cm->dues = v;
		cm->dues_cap = cap;
	}
	d = &cm->dues[cm->ndues++];
	strcpy(d->sender, e->sender->id);
	strcpy(d->recipient, e->recipient->id);
	memcpy(d->msg_id, e->msg_id, KC_MSGID_LEN);
	return 0;
}

/*
 * DELIVERED: the oldest message queued for the client with that msg_id
 * goes; anything else is ignored (PROTOCOL.md section 4). Its receipt is
 * owed once the tombstone is durable, unless the SEND said NO_RECEIPT.
 */
static void judge_delivered(struct kc_committer *cm,
			    const struct kc_commit_delivered *d)
{
	struct kc_log_entry *e = kc_msglog_find(cm->log, d->recipient,
						d->msg_id);

	if (!e || kc_msglog_add_tomb(cm->log, &cm->lb, e))
		return;
	/* Its DELIVER's probe picked it by the same queue position. */
	if (KC_PROBE_ON(msg_delivered) && kc_probe_pick(e->lsn))
		KC_PROBE2(msg_delivered, e->lsn, d->received_ns);
	if (!(e->flags & KC_SEND_NO_RECEIPT))
		owe_receipt(cm, e);
}

/*
 * Every group of the round. DELIVEREDs go first: when the round must fit
 * the room left (a full disk), deleting messages comes before adding.
 */
static void judge_round(struct kc_committer *cm)
{
	for (struct kc_commit *b = cm->round_head; b; b = b->next)
		for (size_t i = 0; i < b->ndels; i++)
			judge_delivered(cm, &b->dels[i]);
	for (struct kc_commit *b = cm->round_head; b; b = b->next)
		for (size_t i = 0; i < b->nmsgs; i++)
			judge_msg(cm, &b->msgs[i]);
}

/*
 * No new segment could be made (a full disk, or max_store_mb): the round
 * is judged again to fit the room left in the active segment, so only
 * the SENDs that do not fit get TRY_LATER, not the whole round.
 */
static int judge_to_fit(struct kc_committer *cm)
{
	size_t room;
	int ret;

	kc_log_peer("message log: no room for a new segment (disk full or "
		    "max_store_mb): the SENDs that do not fit get TRY_LATER");
	kc_msglog_batch_end(cm->log, &cm->lb, -ENOSPC);
	room = kc_msglog_room(cm->log);
	ret = kc_msglog_batch_begin(cm->log, &cm->lb);
	if (ret)
		return ret;
	cm->ndues = 0;
	cm->lb.limit = room;
	judge_round(cm);
	return 0;
}

/* A round with nothing to write: its statuses are final as judged. */
static bool done_if_empty(struct kc_committer *cm)
{
	if (!kc_msglog_batch_empty(&cm->lb))
		return false;
	kc_msglog_batch_end(cm->log, &cm->lb, 0);
	kc_round_send_out(cm, true);
	return true;
}

/* Both SQEs go in one submission: a link does not span two. */
static int submit_write(struct kc_committer *cm, const struct kc_log_write *w)
{
	struct io_uring *ring = &cm->ring.ring;
	struct io_uring_sqe *sqe;

	if (io_uring_sq_space_left(ring) < 2)
		io_uring_submit(ring);
	if (io_uring_sq_space_left(ring) < 2)
		return -EAGAIN;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_write(sqe, w->fd, w->buf, (unsigned int)w->len, w->off);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_LOG_WRITE, 0, 0));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_fsync(sqe, w->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, kc_udata(KC_OP_LOG_SYNC, 0, 0));
	cm->writing = true;
	cm->write_err = 0;
	cm->write_ns = kc_mono_ns();
	return 0;
}

void kc_round_start(struct kc_committer *cm)
{
	struct kc_log_write w;
	int ret;

	/* Everything waiting joins this round; what comes now, the next. */
	cm->rounds_begun++;
	cm->round_head = cm->wait_head;
	cm->wait_head = NULL;
	cm->wait_tail = &cm->wait_head;
	cm->round_wall_ms = kc_wall_ms();
	cm->ndues = 0;
	cm->round_msgs = 0;
	ret = kc_msglog_batch_begin(cm->log, &cm->lb);
	if (ret) {
		kc_round_send_out(cm, false); /* the log failed before */
		return;
	}
	judge_round(cm);
	if (done_if_empty(cm))
		return;
	ret = kc_msglog_place(cm->log, &cm->lb, &w);
	if (ret == -ENOSPC) {
		ret = judge_to_fit(cm);
		/* Nothing fits: each SEND says TRY_LATER already. */
		if (!ret && done_if_empty(cm))
			return;
		if (!ret)
			ret = kc_msglog_place(cm->log, &cm->lb, &w);
	}
	if (!ret)
		ret = submit_write(cm, &w);
	if (ret)
		kc_round_finish(cm, ret);
}

/* For the metrics (fsync histogram) and the probe kcourier:commit_done. */
static void count_round(struct kc_committer *cm, int err)
{
	uint64_t sync_ns = kc_mono_ns() - cm->write_ns;

	kc_count(KC_CTR_COMMIT_ROUNDS, 1);
	kc_count(err ? KC_CTR_COMMIT_FAILED : KC_CTR_COMMIT_MSGS,
		 err ? 1 : cm->round_msgs);
	if (!err)
		kc_count(KC_CTR_COMMIT_BYTES, cm->lb.len);
	kc_count_fsync(sync_ns / 1000);
	if (KC_PROBE_ON(commit_done) && kc_probe_pick(cm->stats.rounds))
		KC_PROBE4(commit_done, cm->round_msgs, cm->lb.len, sync_ns, err);
}

void kc_round_finish(struct kc_committer *cm, int err)
{
	cm->writing = false;
	cm->stats.rounds++;
	if (cm->write_ns)
		count_round(cm, err);
	cm->write_ns = 0;
	if (err) {
		cm->stats.failed_rounds++;
		kc_log_peer("message log: a round failed (%s): its SENDs get TRY_LATER",
			    strerror(-err));
	} else {
		cm->stats.bytes += cm->lb.len;
	}
	kc_msglog_batch_end(cm->log, &cm->lb, err);
	kc_round_send_out(cm, !err);
}
