// SPDX-License-Identifier: GPL-2.0-only
/*
 * The public store calls (store.h) on any implementation (store_int.h):
 * tokens become hashes here, the rest goes straight through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void kc_store_close(struct kc_store *st)
{
	if (st)
		st->ops->close(st);
}

int kc_store_set_max_bytes(struct kc_store *st, uint64_t max_bytes)
{
	return st->ops->set_max_bytes(st, max_bytes);
}

int kc_store_tokens_new(struct kc_store *st, int64_t now_ms, uint32_t ttl_s,
			size_t count, char (*tokens)[KC_TOKEN_TEXT_LEN + 1])
{
	char(*hashes)[KC_TOKEN_HASH_LEN + 1] = calloc(count, sizeof(*hashes));
	size_t i;
	int ret = hashes ? 0 : -ENOMEM;

	for (i = 0; !ret && i < count; i++)
		ret = kc_token_make(tokens[i], hashes[i]);
	if (!ret)
		ret = st->ops->dir->tokens_add(st, hashes, count,
					       now_ms + (int64_t)ttl_s * 1000);
	if (ret)
		explicit_bzero(tokens, count * sizeof(*tokens));
	free(hashes);
	return ret;
}

int kc_store_token_check(struct kc_store *st, struct kc_bytes token,
			 int64_t now_ms)
{
	char hash[KC_TOKEN_HASH_LEN + 1];
	int ret;

	ret = kc_token_hash(token, hash);
	return ret ? ret : st->ops->dir->token_state(st, hash, now_ms);
}

int kc_store_register(struct kc_store *st, struct kc_bytes token,
		      int64_t now_ms, const struct kc_client_reg *reg)
{
	char hash[KC_TOKEN_HASH_LEN + 1];
	int ret;

	ret = kc_token_hash(token, hash);
	return ret ? ret : st->ops->dir->register_client(st, hash, now_ms, reg);
}

int kc_store_client_get(struct kc_store *st, const char *id,
			struct kc_stored_client *out)
{
	return st->ops->dir->client_get(st, id, out);
}

void kc_stored_client_free(struct kc_stored_client *c)
{
	if (!c)
		return;
	free(c->cert);
	free(c->enc_spki);
	free(c->enc_sig);
	memset(c, 0, sizeof(*c));
}

int kc_store_client_live(struct kc_store *st, const char *id)
{
	return st->ops->dir->client_live(st, id);
}

int kc_store_revoke(struct kc_store *st, const char *id)
{
	return st->ops->dir->revoke(st, id);
}

int kc_store_receipts_walk(struct kc_store *st, const char *sender,
			   kc_stored_receipt_fn fn, void *arg)
{
	return st->ops->dir->receipts_walk(st, sender, fn, arg);
}

int kc_store_receipts_add(struct kc_store *st,
			  const struct kc_store_receipt_in *r, size_t n)
{
	return n ? st->ops->dir->receipts_add(st, r, n) : 0;
}

void kc_store_receipts_forget(struct kc_store *st, const int64_t *ids,
			      size_t n)
{
	if (n)
		st->ops->dir->receipts_forget(st, ids, n);
}

int kc_store_prune(struct kc_store *st, int64_t now_ms)
{
	return st->ops->dir->prune(st, now_ms - KC_TOKEN_KEEP_MS);
}

int kc_store_reader_open(struct kc_store *st, struct kc_store_reader **out)
{
	*out = NULL;
	return st->ops->reader_open(st, out);
}

int kc_store_reader_client_live(struct kc_store_reader *r, const char *id)
{
	int ret = kc_live_cache_get(&r->live, id);

	if (ret != 1)
		return ret;
	ret = r->ops->client_live(r, id);
	if (ret == 0 || ret == -ENOENT)
		kc_live_cache_put(&r->live, id, ret);
	return ret;
}

void kc_store_reader_sync(struct kc_store_reader *r)
{
	/* An error leaves nothing to trust: ask the directory again. */
	if (r->ops->changed(r))
		kc_live_cache_clear(&r->live);
}

void kc_store_reader_close(struct kc_store_reader *r)
{
	if (r)
		r->ops->close(r);
}
