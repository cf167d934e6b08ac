// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd token: one-time enrollment tokens for REGISTER (PROTOCOL.md
 * section 4). Only their SHA-256 goes into the store; the text is shown
 * once, here. All tokens of one call are committed before any is printed,
 * so every printed token works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcourierd_cmd.h"

#define TOKEN_COUNT_MAX 1000
#define TOKEN_TTL_MAX (365u * 86400)

struct token_opts {
	const char *dir;
	uint32_t count;
	uint32_t ttl; /* 0: token_ttl of kcourierd.conf */
};

static bool parse_token(int argc, char **argv, struct token_opts *o, int *rc)
{
	const struct kc_opt rows[] = {
		KCD_OPT_DIR(&o->dir),
		{ .name = "count", KC_OPT_UINT(&o->count), .metavar = "N",
		  .min = 1, .max = TOKEN_COUNT_MAX, .help = "how many" },
		{ .name = "ttl", KC_OPT_UINT(&o->ttl), .metavar = "SECONDS",
		  .min = 1, .max = TOKEN_TTL_MAX, .unit = "seconds",
		  .def = "token_ttl in kcourierd.conf", .help = "lifetime" },
	};
	const struct kc_opts spec = {
		KCD_OPTS("token"),
		KC_OPTS_TABLE(rows),
		.description =
			"Prints N new one-time enrollment tokens, one per "
			"line. Each lets one\n"
			"client register once, until it expires. The agent "
			"may be running.\n",
	};

	o->count = 1;
	return kc_opts_parse(&spec, argc, argv, rc);
}

static void print_tokens(int64_t now, uint32_t count, uint32_t ttl,
			 char (*texts)[KC_TOKEN_TEXT_LEN + 1])
{
	time_t until = (time_t)(now / 1000) + (time_t)ttl;
	char stamp[32];
	struct tm tm;
	uint32_t i;

	for (i = 0; i < count; i++)
		printf("%s\n", texts[i]);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC",
		 gmtime_r(&until, &tm));
	fprintf(stderr, "kcourierd: %u token%s, valid until %s\n", count,
		count == 1 ? "" : "s", stamp);
}

int cmd_token(void *ctx, int argc, char **argv)
{
	char(*texts)[KC_TOKEN_TEXT_LEN + 1] = NULL;
	struct token_opts o = { .dir = NULL };
	struct kc_agent_config cfg;
	struct kc_store *st = NULL;
	uint32_t count, ttl;
	int64_t now;
	int rc, ret;

	if (!parse_token(argc, argv, &o, &rc))
		return rc;
	if (kcd_load_config("token", o.dir, &cfg))
		return 1;
	count = o.count;
	ttl = o.ttl ? o.ttl : cfg.token_ttl;
	texts = calloc(count, sizeof(*texts));
	if (!texts || kcd_open_store("token", o.dir, &st)) {
		if (!texts)
			kcd_err("token: out of memory");
		free(texts);
		return 1;
	}
	now = kc_wall_ms();
	ret = kc_store_tokens_new(st, now, ttl, count, texts);
	kc_store_close(st);
	if (ret)
		kcd_err("token: cannot store tokens: %s", strerror(-ret));
	else
		print_tokens(now, count, ttl, texts);
	explicit_bzero(texts, count * sizeof(*texts));
	free(texts);
	return ret ? 1 : 0;
}
