// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite directory's connection: opening (pragmas, schema,
 * statements), transactions, the size cap, readers, closing, and the ops
 * table that puts sqlite_dir.c and sqlite_receipts.c behind store.h. See
 * sqlite.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_int.h"

/* How long a call waits for another process's lock before -EBUSY. */
#define BUSY_TIMEOUT_MS 5000

int kc_sqlite_begin(struct kc_store *st)
{
	struct kc_sqlite *q = kc_sqlite_of(st);

	if (!sqlite3_get_autocommit(q->db))
		return -EBUSY;
	kc_sqlite_stmt(q, ST_BEGIN);
	return kc_sqlite_exec(q, ST_BEGIN);
}

void kc_sqlite_rollback(struct kc_store *st)
{
	struct kc_sqlite *q = kc_sqlite_of(st);

	/* SQLite may already have rolled back by itself (FULL, IOERR). */
	if (sqlite3_get_autocommit(q->db))
		return;
	kc_sqlite_stmt(q, ST_ROLLBACK);
	kc_sqlite_exec(q, ST_ROLLBACK);
}

int kc_sqlite_commit(struct kc_store *st)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int ret;

	if (sqlite3_get_autocommit(q->db))
		return -EINVAL;
	kc_sqlite_stmt(q, ST_COMMIT);
	ret = kc_sqlite_exec(q, ST_COMMIT);
	/* A failed COMMIT can leave the transaction open: end it unstored. */
	if (ret)
		kc_sqlite_rollback(st);
	return ret;
}

int kc_sqlite_finish(struct kc_store *st, int ret)
{
	if (!ret)
		return kc_sqlite_commit(st);
	kc_sqlite_rollback(st);
	return ret;
}

/* WAL must really be on: some file systems refuse it (no shared memory). */
static int set_wal(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc, ret = -EIO;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		mode = sqlite3_column_text(s, 0);
		if (mode && !sqlite3_stricmp((const char *)mode, "wal"))
			ret = 0;
	} else {
		ret = kc_sqlite_err(rc ? rc : sqlite3_errcode(db));
	}
	sqlite3_finalize(s);
	return ret;
}

/* See configure(). cache_size is negative: KiB rather than pages. */
#define STORE_CACHE_KIB "-65536"
#define STORE_MMAP_BYTES "268435456"

static int configure(sqlite3 *db)
{
	int ret;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	ret = set_wal(db);
	if (ret)
		return ret;
	/*
	 * Speed without giving up durability (synchronous stays FULL): the
	 * pages every commit reads back (clients, receipts) stay in a
	 * large page cache, and the file is mapped rather than pread.
	 * (A larger wal_autocheckpoint was tried: fewer checkpoints, but each
	 * one stalls its commit for hundreds of ms; the default stays.)
	 */
	return kc_sqlite_err(
		sqlite3_exec(db,
			     "PRAGMA synchronous = FULL;"
			     "PRAGMA foreign_keys = ON;"
			     "PRAGMA cache_size = " STORE_CACHE_KIB ";"
			     "PRAGMA mmap_size = " STORE_MMAP_BYTES ";",
			     NULL, NULL, NULL));
}

/* The file itself, so its mode is ours (SQLite's -wal/-shm copy it). */
static int create_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void sqlite_close(struct kc_store *st)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int i;

	if (q->db)
		kc_sqlite_rollback(st);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->stmt[i]);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

static int sqlite_set_max_bytes(struct kc_store *st, uint64_t max_bytes)
{
	struct kc_sqlite *q = kc_sqlite_of(st);
	int64_t page_size = 0, pages;
	char sql[64];
	int ret;

	ret = kc_sqlite_pragma_int(q->db, "PRAGMA page_size", &page_size);
	if (ret)
		return ret;
	if (page_size <= 0)
		return -EIO;
	/* 0 asks for no cap: SQLite's own maximum page count. */
	pages = max_bytes ? (int64_t)(max_bytes / (uint64_t)page_size)
			  : (int64_t)0xfffffffe;
	if (pages < 1)
		pages = 1;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
		 (long long)pages);
	return kc_sqlite_err(sqlite3_exec(q->db, sql, NULL, NULL, NULL));
}

/* A reader is a connection of its own to the same file (WAL: no waiting). */
struct sqlite_reader {
	struct kc_store_reader base; /* first */
	struct kc_store *conn;
	int64_t data_version; /* the connection's view of the last change */
};

static int reader_client_live(struct kc_store_reader *r, const char *id)
{
	struct kc_store *conn = ((struct sqlite_reader *)r)->conn;

	return kc_sqlite_dir_ops.client_live(conn, id);
}

/*
 * PRAGMA data_version changes when another connection commits to the
 * file: a write by the agent itself, `kcourierd token` or `revoke`.
 */
static int reader_changed(struct kc_store_reader *r)
{
	struct sqlite_reader *sr = (struct sqlite_reader *)r;
	struct kc_sqlite *q = kc_sqlite_of(sr->conn);
	sqlite3_stmt *s = kc_sqlite_stmt(q, ST_DATA_VERSION);
	int64_t v;
	int ret;

	ret = kc_sqlite_err(sqlite3_step(s));
	v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (ret)
		return ret;
	ret = v != sr->data_version;
	sr->data_version = v;
	return ret;
}

static void reader_close(struct kc_store_reader *r)
{
	kc_store_close(((struct sqlite_reader *)r)->conn);
	free(r);
}

static const struct kc_store_reader_ops reader_ops = {
	.client_live = reader_client_live,
	.changed = reader_changed,
	.close = reader_close,
};

static int sqlite_reader_open(struct kc_store *st, struct kc_store_reader **out)
{
	struct sqlite_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = kc_sqlite_open(kc_sqlite_of(st)->path, false, &r->conn);
	if (ret) {
		free(r);
		return ret;
	}
	r->base.ops = &reader_ops;
	r->data_version = -1; /* so the first sync starts afresh */
	*out = &r->base;
	return 0;
}

static const struct kc_store_ops sqlite_ops = {
	.dir = &kc_sqlite_dir_ops,
	.set_max_bytes = sqlite_set_max_bytes,
	.reader_open = sqlite_reader_open,
	.close = sqlite_close,
};

int kc_sqlite_open(const char *path, bool create, struct kc_store **out)
{
	struct kc_sqlite *q;
	struct stat sb;
	int ret;

	*out = NULL;
	ret = create ? create_file(path) : (stat(path, &sb) ? -errno : 0);
	if (ret)
		return ret;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->base.ops = &sqlite_ops;
	q->path = strdup(path);
	ret = q->path ? 0 : -ENOMEM;
	if (!ret)
		ret = kc_sqlite_err(sqlite3_open_v2(
			path, &q->db,
			SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL));
	if (!ret)
		ret = configure(q->db);
	if (!ret)
		ret = kc_sqlite_migrate(q->db);
	if (!ret)
		ret = kc_sqlite_prepare(q);
	if (ret) {
		sqlite_close(&q->base);
		return ret;
	}
	*out = &q->base;
	return 0;
}
