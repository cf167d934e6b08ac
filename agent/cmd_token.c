// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd token: one-time enrollment tokens for REGISTER (PROTOCOL.md
 * section 4). Only their SHA-256 goes into the store; the text is shown
 * once, here. All tokens of one call are committed before any is printed,
 * so every printed token works.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcourierd_cmd.h"

#define TOKEN_COUNT_MAX 1000
#define TOKEN_TTL_MAX (365u * 86400)

static const char token_usage[] =
	"usage: kcourierd token --dir DIR [--count N] [--ttl SECONDS]\n"
	"\n"
	"Prints N new one-time enrollment tokens, one per line. Each lets one\n"
	"client register once, until it expires. The agent may be running.\n"
	"\n"
	"  --dir DIR        the agent state directory\n"
	"  --count N        how many (1 to 1000, default 1)\n"
	"  --ttl SECONDS    lifetime (default: token_ttl in kcourierd.conf)\n"
	"  -h, --help       this text\n";

struct token_opts {
	const char *dir, *count, *ttl;
};

static bool parse_token(int argc, char **argv, struct token_opts *o, int *rc)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			o->count = optarg;
			break;
		case 't':
			o->ttl = optarg;
			break;
		case 'h':
			*rc = kc_cmd_usage(token_usage, false);
			return false;
		default:
			*rc = kcd_bad_option("token", token_usage, c, argv);
			return false;
		}
	}
	if (optind < argc) {
		kcd_err("token: unexpected argument '%s'", argv[optind]);
		*rc = kc_cmd_usage(token_usage, true);
		return false;
	}
	*rc = kcd_need_dir("token", token_usage, o->dir);
	return *rc == 0;
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
	uint32_t count = 1, ttl;
	int64_t now;
	int rc, ret;

	if (!parse_token(argc, argv, &o, &rc))
		return rc;
	if (o.count && kcd_parse_u32("token", "--count", o.count, 1,
				     TOKEN_COUNT_MAX, &count))
		return 1;
	if (kcd_load_config("token", o.dir, &cfg))
		return 1;
	ttl = cfg.token_ttl;
	if (o.ttl &&
	    kcd_parse_u32("token", "--ttl", o.ttl, 1, TOKEN_TTL_MAX, &ttl))
		return 1;
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
