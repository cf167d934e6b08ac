// SPDX-License-Identifier: GPL-2.0-only
/*
 * lw-replay: a dm-log-writes log onto a device or image file, up to a
 * mark or an entry, or a listing of the log (tests/lib/lw_log.h has the
 * format). No Debian package carries such a tool; the power-loss test
 * (tests/test_powercut.c) links the same reader and replays in process.
 *
 *   lw-replay LOG --list
 *   lw-replay LOG DEV [--from N] [--to-mark NAME | --to-entry N]
 *
 * --from N skips entries before N without applying them: the device
 * already holds them from an earlier run, so a look at many points walks
 * the log once. Prints "next N", the entry to go on from.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lw_log.h"

struct target {
	const char *mark; /* stop at this mark, or */
	uint64_t entry;	  /* at this entry (UINT64_MAX: the end) */
};

static bool reached(const struct lw_entry *e, void *arg)
{
	const struct target *t = arg;

	if (t->mark)
		return (e->flags & LW_MARK) && !strcmp(e->mark, t->mark);
	return e->index >= t->entry;
}

static void print_entry(const struct lw_entry *e)
{
	printf("%" PRIu64 " %s%s%s%s%s", e->index,
	       e->flags & LW_FLUSH ? "F" : "", e->flags & LW_FUA ? "U" : "",
	       e->flags & LW_DISCARD ? "D" : "", e->flags & LW_MARK ? "M" : "",
	       e->flags & LW_META ? "m" : "");
	if (e->flags & LW_MARK)
		printf(" %s\n", e->mark);
	else
		printf(" %" PRIu64 "+%" PRIu64 "\n", e->sector, e->nr_sectors);
}

static int list(struct lw_log *lg)
{
	struct lw_entry e;
	int ret;

	printf("# %" PRIu64 " entries, sector %u bytes\n", lg->nr_entries,
	       lg->sectorsize);
	while (!(ret = lw_next(lg, &e)))
		print_entry(&e);
	return ret < 0 ? ret : 0;
}

static int skip_to(struct lw_log *lg, uint64_t from)
{
	struct lw_entry e;
	int ret = 0;

	while (lg->next < from && !(ret = lw_next(lg, &e)))
		;
	return ret < 0 ? ret : 0;
}

static int replay(struct lw_log *lg, const char *dev, uint64_t from,
		  struct target *t)
{
	struct lw_entry e;
	int fd, ret;

	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = skip_to(lg, from);
	if (!ret)
		ret = lw_replay_until(lg, fd, reached, t, &e);
	if (fsync(fd) && ret >= 0)
		ret = -errno;
	close(fd);
	if (ret == 1 && t->mark) {
		fprintf(stderr, "lw-replay: no mark '%s'\n", t->mark);
		return -ENOENT;
	}
	if (ret >= 0)
		printf("next %" PRIu64 "\n", lg->next);
	return ret < 0 ? ret : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: lw-replay LOG --list\n"
			"       lw-replay LOG DEV [--from N] "
			"[--to-mark NAME | --to-entry N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct target t = { NULL, UINT64_MAX };
	uint64_t from = 0;
	struct lw_log lg;
	int i, ret;

	if (argc < 3)
		return usage();
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--from"))
			from = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--to-mark"))
			t.mark = argv[i + 1];
		else if (!strcmp(argv[i], "--to-entry"))
			t.entry = strtoull(argv[i + 1], NULL, 10);
		else
			return usage();
	}
	if (i != argc)
		return usage();
	ret = lw_open(&lg, argv[1]);
	if (ret) {
		fprintf(stderr, "lw-replay: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	if (!strcmp(argv[2], "--list"))
		ret = list(&lg);
	else
		ret = replay(&lg, argv[2], from, &t);
	lw_close(&lg);
	if (ret)
		fprintf(stderr, "lw-replay: %s\n", strerror(-ret));
	return ret ? 1 : 0;
}
