// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd.conf (agent/config.h): defaults, every key, comments and
 * blank lines, and every kind of error with the line it names. What
 * kc_config_write produces must parse back to the same values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentconf/agentconf.h"
#include "kselftest_harness.h"

static int parse(const char *text, struct kc_agent_config *cfg, char *err,
		 size_t err_len)
{
	kc_config_defaults(cfg);
	return kc_config_parse(text, strlen(text), cfg, err, err_len);
}

/* Field by field: struct copies need not carry padding bytes along. */
static bool same_config(const struct kc_agent_config *a,
			const struct kc_agent_config *b)
{
	return !strcmp(a->listen, b->listen) &&
	       a->listen_addr_len == b->listen_addr_len &&
	       !memcmp(&a->listen_addr, &b->listen_addr, a->listen_addr_len) &&
	       a->max_frame == b->max_frame &&
	       a->max_message == b->max_message &&
	       a->session_ttl == b->session_ttl &&
	       a->token_ttl == b->token_ttl &&
	       a->max_connections == b->max_connections &&
	       a->handshake_timeout == b->handshake_timeout &&
	       a->idle_timeout == b->idle_timeout;
}

TEST(defaults)
{
	struct kc_agent_config cfg;
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.listen_addr;

	kc_config_defaults(&cfg);
	EXPECT_STREQ("127.0.0.1:7411", cfg.listen);
	EXPECT_EQ(AF_INET, sin->sin_family);
	EXPECT_EQ(htonl(INADDR_LOOPBACK), sin->sin_addr.s_addr);
	EXPECT_EQ(htons(7411), sin->sin_port);
	EXPECT_EQ(sizeof(struct sockaddr_in), cfg.listen_addr_len);
	EXPECT_EQ(1048576, cfg.max_frame);
	EXPECT_EQ(1048576 - 1024, cfg.max_message);
	EXPECT_EQ(3600, cfg.session_ttl);
	EXPECT_EQ(86400, cfg.token_ttl);
	EXPECT_EQ(10000, cfg.max_connections);
	EXPECT_EQ(10, cfg.handshake_timeout);
	EXPECT_EQ(300, cfg.idle_timeout);
}

TEST(every_key_with_comments)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"   listen   =   [::1]:9000   # trailing comment\n"
		"max_frame=65536\n"
		"\tmax_message = 4096\r\n"
		"session_ttl = 60\n"
		"token_ttl = 120\n"
		"max_connections = 5\n"
		"handshake_timeout = 2\n"
		"idle_timeout = 30"; /* no final newline */
	struct kc_agent_config cfg;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg.listen_addr;
	char err[256] = "";

	ASSERT_EQ(0, parse(text, &cfg, err, sizeof(err)))
	TH_LOG("%s", err);
	EXPECT_STREQ("[::1]:9000", cfg.listen);
	EXPECT_EQ(AF_INET6, sin6->sin6_family);
	EXPECT_EQ(htons(9000), sin6->sin6_port);
	EXPECT_EQ(1, sin6->sin6_addr.s6_addr[15]);
	EXPECT_EQ(65536, cfg.max_frame);
	EXPECT_EQ(4096, cfg.max_message);
	EXPECT_EQ(60, cfg.session_ttl);
	EXPECT_EQ(120, cfg.token_ttl);
	EXPECT_EQ(5, cfg.max_connections);
	EXPECT_EQ(2, cfg.handshake_timeout);
	EXPECT_EQ(30, cfg.idle_timeout);
}

TEST(max_message_follows_max_frame)
{
	struct kc_agent_config cfg;
	char err[256] = "";

	ASSERT_EQ(0, parse("max_frame = 65536\n", &cfg, err, sizeof(err)));
	EXPECT_EQ(65536 - 1024, cfg.max_message);
	EXPECT_EQ(-EINVAL, parse("max_frame = 65536\nmax_message = 65000\n",
				 &cfg, err, sizeof(err)));
	EXPECT_STREQ(
		"2: max_message 65000 must be at most max_frame - 1024 = 64512",
		err);
	EXPECT_EQ(0, parse("max_message = 64512\nmax_frame = 65536\n", &cfg,
			   err, sizeof(err)));
}

/* Each bad line: the error names the line and quotes the input. */
struct bad_case {
	const char *text;
	const char *err;
};

static const struct bad_case bad_cases[] = {
	{ "colour = blue\n", "1: unknown key 'colour'" },
	{ "\n\nmax_frame\n", "3: expected 'key = value', got 'max_frame'" },
	{ "max_frame = \n", "1: bad value '' for max_frame (expected an "
			    "integer from 16384 to 67108864)" },
	{ "max_frame = 1k\n", "1: bad value '1k' for max_frame" },
	{ "max_frame = -5\n", "1: bad value '-5' for max_frame" },
	{ "max_frame = 0x10000\n", "1: bad value '0x10000' for max_frame" },
	{ "max_frame = 16383\n", "1: bad value '16383' for max_frame" },
	{ "max_frame = 99999999999999999999\n",
	  "1: bad value '99999999999999999999'" },
	{ "session_ttl = 0\n", "1: bad value '0' for session_ttl (expected an "
			       "integer from 1 to 604800)" },
	{ "idle_timeout = 1 2\n", "1: bad value '1 2' for idle_timeout" },
	{ "token_ttl = 5\n# x\ntoken_ttl = 6\n",
	  "3: 'token_ttl' already set on line 1" },
	{ "listen = localhost:7411\n",
	  "1: bad value 'localhost:7411' for listen" },
	{ "listen = 127.0.0.1\n", "1: bad value '127.0.0.1' for listen" },
	{ "listen = 127.0.0.1:0\n", "1: bad value '127.0.0.1:0' for listen" },
	{ "listen = 127.0.0.1:65536\n",
	  "1: bad value '127.0.0.1:65536' for listen" },
	{ "listen = ::1:7411\n", "1: bad value '::1:7411' for listen" },
	{ "listen = [::1]7411\n", "1: bad value '[::1]7411' for listen" },
	{ "listen = 1.2.3.4:80\nlisten = 1.2.3.4:81\n",
	  "2: 'listen' already set on line 1" },
	{ "= 5\n", "1: unknown key ''" },
};

TEST(bad_lines)
{
	struct kc_agent_config cfg, before;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		err[0] = '\0';
		kc_config_defaults(&before);
		EXPECT_EQ(-EINVAL,
			  parse(bad_cases[i].text, &cfg, err, sizeof(err)))
		TH_LOG("case %zu", i);
		EXPECT_EQ(0, strncmp(err, bad_cases[i].err,
				     strlen(bad_cases[i].err)))
		TH_LOG("case %zu: got \"%s\"", i, err);
		/* A failed parse leaves the configuration as it was. */
		EXPECT_TRUE(same_config(&before, &cfg));
	}
}

TEST(nul_byte_is_refused)
{
	static const char text[] = "max_frame = 65536\nidle_timeout = 3\0\n";
	struct kc_agent_config cfg;
	char err[256] = "";

	kc_config_defaults(&cfg);
	EXPECT_EQ(-EINVAL, kc_config_parse(text, sizeof(text) - 1, &cfg, err,
					   sizeof(err)));
	EXPECT_STREQ("2: NUL byte in text", err);
}

TEST(written_file_parses_back)
{
	struct kc_agent_config cfg, back;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	FILE *f;

	kc_config_defaults(&cfg);
	ASSERT_EQ(0, parse("listen = 10.1.2.3:443\nsession_ttl = 99\n"
			   "max_frame = 2097152\n",
			   &cfg, err, sizeof(err)));
	f = open_memstream(&text, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, kc_config_write(f, &cfg));
	ASSERT_EQ(0, fclose(f));
	/* max_message equals its default, so it is left commented out. */
	EXPECT_NE(NULL, strstr(text, "\n# max_message = 2096128\n"));
	kc_config_defaults(&back);
	ASSERT_EQ(0, kc_config_parse(text, len, &back, err, sizeof(err)))
	TH_LOG("%s", err);
	EXPECT_TRUE(same_config(&cfg, &back));
	free(text);
}

TEST(load_names_the_file)
{
	char path[] = "/tmp/kc-conf-XXXXXX", err[512] = "";
	struct kc_agent_config cfg;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	f = fdopen(fd, "w");
	ASSERT_NE(NULL, f);
	fputs("idle_timeout = 5\nbogus = 1\n", f);
	fclose(f);
	kc_config_defaults(&cfg);
	EXPECT_EQ(-EINVAL, kc_config_load(path, &cfg, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, ":2: unknown key 'bogus'"));
	EXPECT_EQ(0, strncmp(err, path, strlen(path)));
	unlink(path);
	EXPECT_EQ(-ENOENT, kc_config_load(path, &cfg, err, sizeof(err)));
}

TEST_HARNESS_MAIN
