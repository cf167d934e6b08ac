// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enrollment tokens and the client directory (PROTOCOL.md section 4,
 * REGISTER and LOOKUP).
 *
 * Tokens are kept only as the hex SHA-256 of their text: a copy of the
 * store does not hand out registrations. A token is used up in the same
 * transaction that adds the client, so it is spent exactly when REGISTER
 * succeeds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "store_int.h"

#define HASH_HEX_LEN 64

static int token_hash(struct kc_bytes token, char hex[HASH_HEX_LEN + 1])
{
	uint8_t md[32];
	unsigned int md_len = 0;

	if (!EVP_Digest(token.p, token.len, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != sizeof(md)) {
		ERR_clear_error();
		return -EIO;
	}
	kc_hex(md, sizeof(md), hex);
	return 0;
}

int kc_store_token_new(struct kc_store *st, int64_t now_ms, uint32_t ttl_s,
		       char token[KC_TOKEN_TEXT_LEN + 1])
{
	uint8_t raw[KC_TOKEN_BYTES];
	char hash[HASH_HEX_LEN + 1];
	sqlite3_stmt *s;
	int ret;

	kc_random(raw, sizeof(raw));
	kc_hex(raw, sizeof(raw), token);
	explicit_bzero(raw, sizeof(raw));
	ret = token_hash(
		(struct kc_bytes){ (const uint8_t *)token, KC_TOKEN_TEXT_LEN },
		hash);
	if (ret)
		goto cleanup;
	s = store_stmt(st, ST_TOKEN_ADD);
	ret = store_bind_text(s, 1, hash);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(
			s, 2, now_ms + (int64_t)ttl_s * 1000));
	if (!ret)
		ret = store_exec(st, ST_TOKEN_ADD);
cleanup:
	if (ret)
		explicit_bzero(token, KC_TOKEN_TEXT_LEN + 1);
	return ret;
}

/* 0 when the token with this hash is unused and unexpired at now_ms. */
static int token_state(struct kc_store *st, const char *hash, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(st, ST_TOKEN_GET);
	int64_t expires_ms = 0, used = 0;
	int rc, ret;

	ret = store_bind_text(s, 1, hash);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		expires_ms = sqlite3_column_int64(s, 0);
		used = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE || (rc == SQLITE_ROW && used))
		return -KC_BAD_TOKEN;
	if (rc != SQLITE_ROW)
		return store_err(rc);
	return now_ms < expires_ms ? 0 : -KC_EXPIRED;
}

int kc_store_token_check(struct kc_store *st, struct kc_bytes token,
			 int64_t now_ms)
{
	char hash[HASH_HEX_LEN + 1];
	int ret;

	ret = token_hash(token, hash);
	return ret ? ret : token_state(st, hash, now_ms);
}

/* 1 if id is registered, 0 if not, or -errno. */
static int client_exists(struct kc_store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, ST_CLIENT_EXISTS);
	int rc, ret;

	ret = store_bind_text(s, 1, id);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_err(rc);
}

static int use_token(struct kc_store *st, const char *hash)
{
	int ret;

	ret = store_bind_text(store_stmt(st, ST_TOKEN_USE), 1, hash);
	if (!ret)
		ret = store_exec(st, ST_TOKEN_USE);
	/* token_state() saw it unused inside this same transaction. */
	if (!ret && sqlite3_changes(st->db) != 1)
		ret = -EIO;
	return ret;
}

static int add_client(struct kc_store *st, const struct kc_client_reg *reg,
		      int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(st, ST_CLIENT_ADD);
	int ret;

	ret = store_bind_text(s, 1, reg->id);
	if (!ret)
		ret = store_bind_blob(s, 2, reg->cert.p, reg->cert.len);
	if (!ret)
		ret = store_bind_blob(s, 3, reg->enc_spki.p, reg->enc_spki.len);
	if (!ret)
		ret = store_bind_blob(s, 4, reg->enc_sig.p, reg->enc_sig.len);
	if (!ret)
		ret = store_err(sqlite3_bind_int64(s, 5, now_ms));
	if (!ret)
		ret = store_exec(st, ST_CLIENT_ADD);
	return ret;
}

int kc_store_register(struct kc_store *st, struct kc_bytes token,
		      int64_t now_ms, const struct kc_client_reg *reg)
{
	char hash[HASH_HEX_LEN + 1];
	bool own;
	int ret;

	ret = token_hash(token, hash);
	if (ret)
		return ret;
	ret = store_tx_enter(st, &own);
	if (ret)
		return ret;
	/* Every check comes before the first write: a refusal changes nothing.
	 */
	ret = token_state(st, hash, now_ms);
	if (!ret)
		ret = client_exists(st, reg->id);
	if (ret == 1)
		ret = -KC_EXISTS;
	if (!ret)
		ret = use_token(st, hash);
	if (!ret)
		ret = add_client(st, reg, now_ms);
	return store_tx_leave(st, own, ret);
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

static int read_client(sqlite3_stmt *s, struct kc_client *c)
{
	int ret;

	ret = copy_blob(s, 0, &c->cert, &c->cert_len);
	if (!ret)
		ret = copy_blob(s, 1, &c->enc_spki, &c->enc_spki_len);
	if (!ret)
		ret = copy_blob(s, 2, &c->enc_sig, &c->enc_sig_len);
	c->revoked = sqlite3_column_int64(s, 3) != 0;
	c->created_ms = sqlite3_column_int64(s, 4);
	return ret;
}

int kc_store_client_get(struct kc_store *st, const char *id,
			struct kc_client *out)
{
	sqlite3_stmt *s = store_stmt(st, ST_CLIENT_GET);
	int rc, ret;

	memset(out, 0, sizeof(*out));
	ret = store_bind_text(s, 1, id);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = read_client(s, out);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : store_err(rc);
	sqlite3_reset(s);
	if (ret)
		kc_client_free(out);
	return ret;
}

/* On every SEND: one column, no copies of the certificate and keys. */
int kc_store_client_live(struct kc_store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, ST_CLIENT_LIVE);
	int rc, ret;

	ret = store_bind_text(s, 1, id);
	if (ret)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = sqlite3_column_int(s, 0) ? -ENOENT : 0;
	else
		ret = rc == SQLITE_DONE ? -ENOENT : store_err(rc);
	sqlite3_reset(s);
	return ret;
}

void kc_client_free(struct kc_client *c)
{
	if (!c)
		return;
	free(c->cert);
	free(c->enc_spki);
	free(c->enc_sig);
	memset(c, 0, sizeof(*c));
}

int kc_store_revoke(struct kc_store *st, const char *id)
{
	int ret;

	ret = store_bind_text(store_stmt(st, ST_CLIENT_REVOKE), 1, id);
	if (!ret)
		ret = store_exec(st, ST_CLIENT_REVOKE);
	if (!ret && sqlite3_changes(st->db) == 0)
		ret = -ENOENT;
	return ret;
}
