// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for kcourierd.conf (lib/agentconf): the input is the
 * file's text. What the parser must keep, whatever the text:
 *   - a refusal changes nothing and names a line of the text;
 *   - a success leaves every value inside its documented bounds, with
 *     max_message inside max_frame and listen_addr what listen says;
 *   - what kc_config_write prints of a parsed configuration parses back
 *     to the very same configuration (kcourierd init writes the file the
 *     agent later reads with this parser).
 * Any other outcome abort()s so libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentconf/agentconf.h"

#define ERR_MAX 256

static unsigned int count_lines(const uint8_t *p, size_t len)
{
	unsigned int lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += p[i] == '\n';
	return lines;
}

/* "N: reason" with 1 <= N <= the text's lines. */
static void check_refusal(const char *err, unsigned int lines)
{
	char *end;
	unsigned long line = strtoul(err, &end, 10);

	if (end == err || *end != ':' || line < 1 || line > lines)
		abort();
}

static void check_in(uint32_t v, uint32_t min, uint32_t max)
{
	if (v < min || v > max)
		abort();
}

static void check_bounds(const struct kc_agent_config *cfg)
{
	struct sockaddr_storage addr;
	socklen_t len;

	check_in(cfg->max_frame, 16384, 64u << 20);
	check_in(cfg->max_message, 1, cfg->max_frame - KC_CONFIG_FRAME_MARGIN);
	check_in(cfg->session_ttl, 1, 7 * 86400);
	check_in(cfg->token_ttl, 1, 365 * 86400);
	check_in(cfg->max_connections, 1, 1000000);
	check_in(cfg->handshake_timeout, 1, 3600);
	check_in(cfg->idle_timeout, 1, 86400);
	check_in(cfg->log_segment_bytes, 65536, 1u << 30);
	if (!memchr(cfg->listen, '\0', sizeof(cfg->listen)))
		abort();
	if (kc_listen_parse(cfg->listen, &addr, &len) ||
	    len != cfg->listen_addr_len ||
	    memcmp(&addr, &cfg->listen_addr, len))
		abort();
}

/* What init would write must read back as the same configuration. */
static void check_round_trip(const struct kc_agent_config *cfg)
{
	struct kc_agent_config again;
	char err[ERR_MAX] = "";
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	if (kc_config_write(f, cfg) || fclose(f))
		abort();
	kc_config_defaults(&again);
	if (kc_config_parse(text, len, &again, err, sizeof(err)))
		abort();
	if (memcmp(&again, cfg, sizeof(again)))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_agent_config cfg, before;
	char err[ERR_MAX] = "";
	int ret;

	kc_config_defaults(&cfg);
	before = cfg;
	ret = kc_config_parse((const char *)data, size, &cfg, err, sizeof(err));
	if (ret) {
		if (ret != -EINVAL && ret != -ENOMEM)
			abort();
		if (ret == -EINVAL)
			check_refusal(err, count_lines(data, size));
		if (memcmp(&cfg, &before, sizeof(cfg)))
			abort();
		return 0;
	}
	check_bounds(&cfg);
	check_round_trip(&cfg);
	return 0;
}
