// SPDX-License-Identifier: GPL-2.0-only
/*
 * store-bench: the message log against a tuned SQLite queue, on the same
 * batches (docs/DESIGN.md "Storage" has the numbers and why the log won).
 *
 * Each round is one group commit as the agent makes it: N new messages
 * (512-byte inner by default, from 64 senders to 64 recipients, each with
 * its next counter), the DELIVEREDs of the round before (so the queue stays
 * short, as under a steady load), the senders' counter windows, and one
 * fsync. Both stores make each round durable before the next.
 *
 * The SQLite queue is the best shape we found for it: rowid = queue
 * position (sequential inserts), an index on (recipient, seq) for queue
 * loads, windows in a WITHOUT ROWID table by sender, WAL with
 * synchronous=FULL (one fsync of the WAL per commit), prepared statements,
 * no per-message random index.
 *
 * Usage: store-bench [--dir DIR] [--seconds S] [--size BYTES] [--json]
 * Prints, per batch size, rounds/s, messages/s, and CPU and wall time per
 * message for each store.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "base/opts.h"
#include "store/msglog.h"

#define SENDERS 64
#define RECIPIENTS 64

static const unsigned int batch_sizes[] = { 1, 16, 128, 512 };

struct config {
	const char *dir;
	double seconds;
	unsigned int size;
	unsigned int restart; /* > 0: time a restart with this many queued */
	bool json;
};

struct result {
	unsigned int batch;
	double rounds_s, msgs_s, cpu_us, wall_us;
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One message of the workload; n numbers it. */
struct workload {
	uint64_t counters[SENDERS];
	uint8_t *inner;
	unsigned int size;
	uint64_t n;
};

static void next_msg(struct workload *w, char sender[8], char recipient[8],
		     uint8_t msg_id[KC_MSGID_LEN], uint64_t *counter)
{
	unsigned int s = (unsigned int)(w->n % SENDERS);

	snprintf(sender, 8, "s%02u", s);
	snprintf(recipient, 8, "r%02u", (unsigned int)(w->n * 7 % RECIPIENTS));
	memset(msg_id, 0, KC_MSGID_LEN);
	memcpy(msg_id, &w->n, sizeof(w->n));
	*counter = ++w->counters[s];
	w->n++;
}

/* --- the log --- */

struct log_side {
	struct kc_msglog *log;
	struct kc_log_batch b;
	struct kc_log_entry **prev; /* last round's messages, to deliver */
	size_t nprev;
};

/* One round of n new messages (and last round's tombstones), synced. */
static int fill_round(struct log_side *ls, struct workload *w, unsigned int n)
{
	char sender[8], recipient[8];
	uint8_t msg_id[KC_MSGID_LEN];
	uint64_t lsn;
	int ret = kc_msglog_batch_begin(ls->log, &ls->b);

	for (size_t i = 0; !ret && i < ls->nprev; i++)
		ret = kc_msglog_add_tomb(ls->log, &ls->b, ls->prev[i]);
	for (unsigned int i = 0; !ret && i < n; i++) {
		struct kc_rec_msg m = { .inner = { w->inner, w->size },
					.stored_at_ms = kc_wall_ms() };

		next_msg(w, sender, recipient, msg_id, &m.counter);
		m.msg_id = msg_id;
		m.sender = (struct kc_bytes){ (uint8_t *)sender, strlen(sender) };
		m.recipient = (struct kc_bytes){ (uint8_t *)recipient,
						 strlen(recipient) };
		if (kc_msglog_judge(ls->log, sender, m.counter) == KC_WINDOW_NEW)
			ret = kc_msglog_add_msg(ls->log, &ls->b, &m, &lsn);
	}
	return ret ? ret : kc_msglog_write_sync(ls->log, &ls->b);
}

static int log_round(struct log_side *ls, struct workload *w, unsigned int n)
{
	int ret = fill_round(ls, w, n);

	if (ret)
		return ret;
	/* This round's messages are delivered in the next one. */
	ls->nprev = 0;
	for (unsigned int k = 0; k < RECIPIENTS; k++) {
		char id[8];

		snprintf(id, sizeof(id), "r%02u", k);
		for (struct kc_log_entry *e = kc_msglog_queue_head(ls->log, id);
		     e; e = e->qnext)
			ls->prev[ls->nprev++] = e;
	}
	if (ls->log && w->n % 4096 < n)
		kc_msglog_reclaim(ls->log);
	return 0;
}

/* --- the SQLite queue --- */

enum { Q_BEGIN, Q_COMMIT, Q_INSERT, Q_DELETE, Q_WINDOW, Q_COUNT };

static const char *const q_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_INSERT] = "INSERT INTO q (recipient, sender, msg_id, counter, flags,"
		     " stored_at, inner) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
	[Q_DELETE] = "DELETE FROM q WHERE seq = ?1",
	[Q_WINDOW] = "INSERT INTO windows (sender, hi, bits) VALUES (?1, ?2, ?3)"
		     " ON CONFLICT (sender) DO UPDATE SET hi = ?2, bits = ?3",
};

static const char q_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"PRAGMA cache_size = -65536;"
	"CREATE TABLE q (seq INTEGER PRIMARY KEY, recipient TEXT NOT NULL,"
	" sender TEXT NOT NULL, msg_id BLOB NOT NULL, counter INTEGER NOT NULL,"
	" flags INTEGER NOT NULL, stored_at INTEGER NOT NULL, inner BLOB NOT NULL);"
	"CREATE INDEX q_by_recipient ON q (recipient, seq);"
	"CREATE TABLE windows (sender TEXT PRIMARY KEY, hi INTEGER NOT NULL,"
	" bits BLOB NOT NULL) WITHOUT ROWID;";

struct sql_side {
	sqlite3 *db;
	sqlite3_stmt *st[Q_COUNT];
	int64_t *prev;
	size_t nprev;
	struct kc_counter_window win[SENDERS];
};

static int sql_step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int sql_open(struct sql_side *q, const char *path)
{
	if (sqlite3_open(path, &q->db) ||
	    sqlite3_exec(q->db, q_schema, NULL, NULL, NULL))
		return -EIO;
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v2(q->db, q_sql[i], -1, &q->st[i], NULL))
			return -EIO;
	return 0;
}

static void sql_close(struct sql_side *q)
{
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
}

static int sql_insert(struct sql_side *q, struct workload *w, int64_t *seq)
{
	char sender[8], recipient[8];
	uint8_t msg_id[KC_MSGID_LEN];
	sqlite3_stmt *s = q->st[Q_INSERT];
	uint64_t counter;
	unsigned int si;

	next_msg(w, sender, recipient, msg_id, &counter);
	si = (unsigned int)((w->n - 1) % SENDERS);
	if (kc_window_judge(&q->win[si], counter) != KC_WINDOW_NEW)
		return 0;
	kc_window_accept(&q->win[si], counter);
	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, msg_id, KC_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)counter);
	sqlite3_bind_int64(s, 5, kc_wall_ms());
	sqlite3_bind_blob(s, 6, w->inner, (int)w->size, SQLITE_STATIC);
	if (sql_step(s))
		return -EIO;
	*seq = sqlite3_last_insert_rowid(q->db);
	return 0;
}

/* The windows of the senders this round touched: one row each. */
static int sql_windows(struct sql_side *q, struct workload *w, unsigned int n)
{
	sqlite3_stmt *s = q->st[Q_WINDOW];
	unsigned int touched = n < SENDERS ? n : SENDERS;

	for (unsigned int i = 0; i < touched; i++) {
		unsigned int si = (unsigned int)((w->n - 1 - i) % SENDERS);
		char sender[8];

		snprintf(sender, sizeof(sender), "s%02u", si);
		sqlite3_bind_text(s, 1, sender, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)q->win[si].hi);
		sqlite3_bind_blob(s, 3, q->win[si].bits, sizeof(q->win[si].bits),
				  SQLITE_STATIC);
		if (sql_step(s))
			return -EIO;
	}
	return 0;
}

static int sql_round(struct sql_side *q, struct workload *w, unsigned int n)
{
	int64_t *now = malloc(n * sizeof(*now));
	int ret = now && !sql_step(q->st[Q_BEGIN]) ? 0 : -EIO;

	for (size_t i = 0; !ret && i < q->nprev; i++) {
		sqlite3_bind_int64(q->st[Q_DELETE], 1, q->prev[i]);
		ret = sql_step(q->st[Q_DELETE]);
	}
	for (unsigned int i = 0; !ret && i < n; i++)
		ret = sql_insert(q, w, &now[i]);
	if (!ret)
		ret = sql_windows(q, w, n);
	if (!ret)
		ret = sql_step(q->st[Q_COMMIT]);
	if (!ret) {
		memcpy(q->prev, now, n * sizeof(*now));
		q->nprev = n;
	}
	free(now);
	return ret;
}

/* --- running --- */

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *f)
{
	return remove(p);
}

typedef int (*round_fn)(void *side, struct workload *w, unsigned int n);

static int run(round_fn fn, void *side, struct workload *w, unsigned int n,
	       double seconds, struct result *r)
{
	uint64_t t0 = kc_mono_ns(), rounds = 0;
	double c0 = cpu_seconds(), wall;
	uint64_t n0 = w->n;
	int ret = 0;

	while (!ret && (double)(kc_mono_ns() - t0) / 1e9 < seconds) {
		ret = fn(side, w, n);
		rounds++;
	}
	wall = (double)(kc_mono_ns() - t0) / 1e9;
	r->batch = n;
	r->rounds_s = (double)rounds / wall;
	r->msgs_s = (double)(w->n - n0) / wall;
	r->cpu_us = (cpu_seconds() - c0) * 1e6 / (double)(w->n - n0);
	r->wall_us = wall * 1e6 / (double)(w->n - n0);
	return ret;
}

static int log_fn(void *side, struct workload *w, unsigned int n)
{
	return log_round(side, w, n);
}

static int sql_fn(void *side, struct workload *w, unsigned int n)
{
	return sql_round(side, w, n);
}

static int bench_log(const struct config *c, unsigned int n, struct result *r)
{
	struct log_side ls = { 0 };
	struct workload w = { .size = c->size };
	char dir[512];
	int ret;

	snprintf(dir, sizeof(dir), "%s/log-%u", c->dir, n);
	w.inner = calloc(1, c->size);
	ls.prev = calloc(n, sizeof(*ls.prev));
	kc_msglog_batch_init(&ls.b);
	ret = w.inner && ls.prev ? kc_msglog_open(dir, NULL, &ls.log, NULL)
				 : -ENOMEM;
	if (!ret)
		ret = run(log_fn, &ls, &w, n, c->seconds, r);
	kc_msglog_batch_fini(&ls.b);
	kc_msglog_close(ls.log);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(ls.prev);
	free(w.inner);
	return ret;
}

static int bench_sql(const struct config *c, unsigned int n, struct result *r)
{
	struct sql_side q = { 0 };
	struct workload w = { .size = c->size };
	char path[512], cmd[1700];
	int ret;

	snprintf(path, sizeof(path), "%s/queue-%u.db", c->dir, n);
	w.inner = calloc(1, c->size);
	q.prev = calloc(n, sizeof(*q.prev));
	ret = w.inner && q.prev ? sql_open(&q, path) : -ENOMEM;
	if (!ret)
		ret = run(sql_fn, &q, &w, n, c->seconds, r);
	sql_close(&q);
	snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-wal' '%s-shm'", path, path,
		 path);
	if (system(cmd))
		ret = ret ? ret : -EIO;
	free(q.prev);
	free(w.inner);
	return ret;
}

/* Empties the page cache (root only): a cold start reads the disk. */
static bool drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	bool ok;

	sync();
	ok = fd >= 0 && write(fd, "1", 1) == 1;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Restart: n messages queued (none delivered), the log closed, then the
 * time kc_msglog_open takes to read it all back and be ready, twice: the
 * first after the page cache was emptied (when this runs as root: a boot
 * after a power cut), the second with the segments cached (a restart
 * right after a crash).
 */
static int bench_restart(const struct config *c)
{
	struct log_side ls = { 0 };
	struct workload w = { .size = c->size };
	struct kc_msglog_report rep;
	char dir[512];
	int ret;

	snprintf(dir, sizeof(dir), "%s/restart", c->dir);
	w.inner = calloc(1, c->size);
	ls.prev = calloc(512, sizeof(*ls.prev));
	kc_msglog_batch_init(&ls.b);
	ret = w.inner && ls.prev ? kc_msglog_open(dir, NULL, &ls.log, NULL)
				 : -ENOMEM;
	while (!ret && w.n < c->restart) {
		unsigned int n = c->restart - w.n < 4096 ? c->restart - w.n
							   : 4096;

		ls.nprev = 0; /* nothing is delivered: all stays queued */
		ret = fill_round(&ls, &w, n);
	}
	kc_msglog_batch_fini(&ls.b);
	kc_msglog_close(ls.log);
	for (int pass = 0; !ret && pass < 2; pass++) {
		bool cold = !pass && drop_caches();

		ret = kc_msglog_open(dir, NULL, &ls.log, &rep);
		if (!ret)
			printf("restart with %llu queued messages of %u bytes: "
			       "ready in %.3f s (%u segments, %s)\n",
			       (unsigned long long)rep.queued, c->size,
			       rep.seconds, rep.segments,
			       cold ? "page cache emptied first" :
			       pass ? "page cache warm" : "page cache as it was");
		kc_msglog_close(ls.log);
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(ls.prev);
	free(w.inner);
	return ret;
}

static void print_row(const char *store, const struct result *r, bool json)
{
	if (json)
		printf("{\"store\":\"%s\",\"batch\":%u,\"rounds_s\":%.1f,"
		       "\"msgs_s\":%.0f,\"cpu_us_per_msg\":%.2f,"
		       "\"wall_us_per_msg\":%.2f}\n",
		       store, r->batch, r->rounds_s, r->msgs_s, r->cpu_us,
		       r->wall_us);
	else
		printf("| %-6s | %5u | %8.1f | %9.0f | %8.2f | %8.2f |\n", store,
		       r->batch, r->rounds_s, r->msgs_s, r->cpu_us, r->wall_us);
}

static bool parse(struct config *c, int argc, char **argv, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "dir", KC_OPT_STRING(&c->dir), .metavar = "DIR",
		  .def = "a new folder under /var/tmp",
		  .help = "where the stores are made (and removed after)" },
		{ .name = "seconds", KC_OPT_REAL(&c->seconds), .metavar = "S",
		  .min = 0, .above_min = true, .max = 3600, .unit = "seconds",
		  .help = "time per store and batch size" },
		{ .name = "size", KC_OPT_UINT(&c->size), .metavar = "BYTES",
		  .min = 0, .max = 1u << 20, .unit = "bytes",
		  .help = "inner bytes per message" },
		{ .name = "restart", KC_OPT_UINT(&c->restart), .metavar = "N",
		  .min = 0, .max = 100000000,
		  .help = "instead: time the log's start with N messages queued" },
		{ .name = "json", KC_OPT_FLAG(&c->json),
		  .help = "one JSON object per line instead of the table" },
	};
	const struct kc_opts spec = {
		.prog = "store-bench",
		.description =
			"The message log against a tuned SQLite queue on the same\n"
			"group commits: N new messages, the last round's DELIVEREDs,\n"
			"the senders' counter windows, one fsync per round.\n",
		KC_OPTS_TABLE(rows),
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

int main(int argc, char **argv)
{
	struct config c = { .seconds = 3, .size = 512 };
	char tmp[] = "/var/tmp/kc-store-bench-XXXXXX";
	int rc = 0;

	if (!parse(&c, argc, argv, &rc))
		return rc;
	if (!c.dir && !(c.dir = mkdtemp(tmp))) {
		perror("store-bench: mkdtemp");
		return 1;
	}
	if (c.restart) {
		rc = bench_restart(&c) ? 1 : 0;
		if (c.dir == tmp)
			rmdir(tmp);
		return rc;
	}
	if (!c.json) {
		printf("| store  | batch | rounds/s |   msgs/s | CPU us/msg | wall us/msg |\n");
		printf("|---|---:|---:|---:|---:|---:|\n");
	}
	for (size_t i = 0; i < sizeof(batch_sizes) / sizeof(batch_sizes[0]); i++) {
		struct result rl, rs;

		if (bench_log(&c, batch_sizes[i], &rl) ||
		    bench_sql(&c, batch_sizes[i], &rs)) {
			fprintf(stderr, "store-bench: a store failed\n");
			return 1;
		}
		print_row("log", &rl, c.json);
		print_row("sqlite", &rs, c.json);
	}
	if (c.dir == tmp)
		rmdir(tmp);
	return 0;
}
