// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store's directory: enrollment tokens and clients
 * (PROTOCOL.md section 4, REGISTER and LOOKUP), and its ops table with
 * the receipts of sqlite_receipts.c.
 *
 * A token is used up in the same transaction that adds the client, so it
 * is spent exactly when REGISTER succeeds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

static int tokens_add(struct kc_store *st,
		      const char (*hashes)[KC_TOKEN_HASH_LEN + 1], size_t n,
		      int64_t expires_ms)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	sqlite3_stmt *s;
	size_t i;
	int ret;

	ret = kc_sqlite_begin(st);
	if (ret)
		return ret;
	for (i = 0; !ret && i < n; i++) {
		s = kc_sqlite_stmt(q, ST_TOKEN_ADD);
		ret = kc_sqlite_bind_text(s, 1, hashes[i]);
		if (!ret)
			ret = kc_sqlite_bind_int(s, 2, expires_ms);
		if (!ret)
			ret = kc_sqlite_exec(q, ST_TOKEN_ADD);
	}
	return kc_sqlite_finish(st, ret);
}

struct token_row {
	int64_t expires_ms, used;
};

static int read_token(sqlite3_stmt *s, void *arg)
{
	struct token_row *t = arg;

	t->expires_ms = sqlite3_column_int64(s, 0);
	t->used = sqlite3_column_int64(s, 1);
	return 1;
}

/* 0 when the token with this hash is unused and unexpired at now_ms. */
static int token_state(struct kc_store *st, const char *hash, int64_t now_ms)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	struct token_row t = { 0, 0 };
	int ret;

	ret = kc_sqlite_rows_of(q, ST_TOKEN_GET, hash, read_token, &t);
	if (ret < 0)
		return ret;
	if (!ret || t.used)
		return -KC_BAD_TOKEN;
	return now_ms < t.expires_ms ? 0 : -KC_EXPIRED;
}

/* 1 if id is registered, 0 if not, or -errno. */
static int client_exists(struct kc_sqlite *q, const char *id)
{
	return kc_sqlite_rows_of(q, ST_CLIENT_EXISTS, id, kc_sqlite_first_row,
				 NULL);
}

static int use_token(struct kc_sqlite *q, const char *hash)
{
	int ret = kc_sqlite_changes_of(q, ST_TOKEN_USE, hash);

	/* token_state() saw it unused inside this same transaction. */
	return ret < 0 ? ret : ret == 1 ? 0 : -EIO;
}

static int add_client(struct kc_sqlite *q, const struct kc_client_reg *reg,
		      int64_t now_ms)
{
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_CLIENT_ADD);
	int ret;

	ret = kc_sqlite_bind_text(s, 1, reg->id);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 2, reg->cert.p, reg->cert.len);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 3, reg->enc_spki.p,
					  reg->enc_spki.len);
	if (!ret)
		ret = kc_sqlite_bind_blob(s, 4, reg->enc_sig.p,
					  reg->enc_sig.len);
	if (!ret)
		ret = kc_sqlite_bind_int(s, 5, now_ms);
	if (!ret)
		ret = kc_sqlite_exec(q, ST_CLIENT_ADD);
	return ret;
}

static int register_client(struct kc_store *st, const char *hash,
			   int64_t now_ms, const struct kc_client_reg *reg)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int ret;

	ret = kc_sqlite_begin(st);
	if (ret)
		return ret;
	/* Every check before the first write: a refusal changes nothing. */
	ret = token_state(st, hash, now_ms);
	if (!ret)
		ret = client_exists(q, reg->id);
	if (ret == 1)
		ret = -KC_EXISTS;
	if (!ret)
		ret = use_token(q, hash);
	if (!ret)
		ret = add_client(q, reg, now_ms);
	return kc_sqlite_finish(st, ret);
}

static int copy_blob(sqlite3_stmt *s, int col, uint8_t **out, size_t *len)
{
	const void *p = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	*out = malloc(n ? n : 1);
	if (!*out)
		return -ENOMEM;
	if (n)
		memcpy(*out, p, n);
	*len = n;
	return 0;
}

static int read_client(sqlite3_stmt *s, void *arg)
{
	struct kc_stored_client *c = arg;
	int ret;

	ret = copy_blob(s, 0, &c->cert, &c->cert_len);
	if (!ret)
		ret = copy_blob(s, 1, &c->enc_spki, &c->enc_spki_len);
	if (!ret)
		ret = copy_blob(s, 2, &c->enc_sig, &c->enc_sig_len);
	c->revoked = sqlite3_column_int64(s, 3) != 0;
	c->created_ms = sqlite3_column_int64(s, 4);
	return ret ? ret : 1;
}

static int client_get(struct kc_store *st, const char *id,
		      struct kc_stored_client *out)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int ret;

	memset(out, 0, sizeof(*out));
	ret = kc_sqlite_rows_of(q, ST_CLIENT_GET, id, read_client, out);
	if (ret == 1)
		return 0;
	kc_stored_client_free(out);
	return ret ? ret : -ENOENT;
}

static int read_revoked(sqlite3_stmt *s, void *arg)
{
	*(bool *)arg = sqlite3_column_int(s, 0) != 0;
	return 1;
}

/* On every SEND: one column, no copies of the certificate and keys. */
static int client_live(struct kc_store *st, const char *id)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	bool revoked = false;
	int ret;

	ret = kc_sqlite_rows_of(q, ST_CLIENT_LIVE, id, read_revoked, &revoked);
	if (ret < 0)
		return ret;
	return ret && !revoked ? 0 : -ENOENT;
}

static int revoke(struct kc_store *st, const char *id)
{
	int ret = kc_sqlite_changes_of(kc_sqlite_of(st), ST_CLIENT_REVOKE, id);

	return ret < 0 ? ret : ret ? 0 : -ENOENT;
}

static int prune_tokens(struct kc_store *st, int64_t before_ms)
{
	return kc_sqlite_exec_int(kc_sqlite_of(st), ST_PRUNE_TOKENS, before_ms);
}

const struct kc_store_dir_ops kc_sqlite_dir_ops = {
	.tokens_add = tokens_add,
	.token_state = token_state,
	.register_client = register_client,
	.client_get = client_get,
	.client_live = client_live,
	.revoke = revoke,
	.receipts_walk = kc_sqlite_receipts_walk,
	.receipts_add = kc_sqlite_receipts_add,
	.receipts_forget = kc_sqlite_receipts_forget,
	.prune = prune_tokens,
};
