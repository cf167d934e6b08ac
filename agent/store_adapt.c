// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers over the public store API: see store_adapt.h.
 */
#include <errno.h>
#include <string.h>

#include "store_adapt.h"

struct receipt_query {
	const uint8_t *msg_id;
	const char *recipient;
	int64_t id;
};

/* Keeps the last match: ids only grow, so that is the newest receipt. */
static int match_receipt(const struct kc_stored_receipt *r, void *arg)
{
	struct receipt_query *q = arg;

	if (!memcmp(r->msg_id, q->msg_id, KC_MSGID_LEN) &&
	    !strcmp(r->recipient, q->recipient))
		q->id = r->id;
	return 0;
}

int kc_store_receipt_find(struct kc_store *st, const char *sender,
			  const uint8_t msg_id[KC_MSGID_LEN],
			  const char *recipient, int64_t *id)
{
	struct receipt_query q = { msg_id, recipient, -1 };
	int ret;

	ret = kc_store_receipts_iter(st, sender, match_receipt, &q);
	if (ret)
		return ret;
	if (q.id < 0)
		return -ENOENT;
	*id = q.id;
	return 0;
}

int kc_store_client_live(struct kc_store *st, const char *id)
{
	struct kc_client c;
	int ret;

	ret = kc_store_client_get(st, id, &c);
	if (ret)
		return ret;
	ret = c.revoked ? -ENOENT : 0;
	kc_client_free(&c);
	return ret;
}
