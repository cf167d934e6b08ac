/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers over store.h that the run loop needs and store.h does not
 * (yet) offer. Each is written with the public store API only.
 */
#ifndef KC_STORE_ADAPT_H
#define KC_STORE_ADAPT_H

#include <stdint.h>

#include "store.h"

/*
 * The id of the pending receipt (sender, msg_id, recipient) that
 * kc_store_delivered just created, so it can be forgotten once written
 * to a connection. Returns 0, -ENOENT, or -errno.
 */
int kc_store_receipt_find(struct kc_store *st, const char *sender,
			  const uint8_t msg_id[KC_MSGID_LEN],
			  const char *recipient, int64_t *id);

/*
 * Whether id is a registered client that is not revoked: 0, -ENOENT
 * (unknown or revoked), or -errno.
 */
int kc_store_client_live(struct kc_store *st, const char *id);

#endif
