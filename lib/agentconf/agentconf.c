// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd.conf reader and writer; see config.h for the format and keys.
 *
 * Hand-written on purpose: the format is `key = value` with comments, a
 * few dozen lines to parse, and no Debian library does this format better
 * (libconfig, glib's key files and inih each bring their own dialect, and
 * none reports a repeated or unknown key together with its line number the
 * way an operator needs here).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agentconf/agentconf.h"
#include "base/fileio.h"

#define CONFIG_FILE_MAX (64 * 1024)

/* Decimal digits only: no sign, no spaces, no hex, no overflow. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_port(const char *s, in_port_t *port)
{
	uint32_t v;

	if (parse_u32(s, 1, 65535, &v))
		return -EINVAL;
	*port = htons((uint16_t)v);
	return 0;
}

static int parse_ipv6(const char *text, struct sockaddr_in6 *sin6)
{
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	size_t n;

	if (!close || close[1] != ':')
		return -EINVAL;
	n = (size_t)(close - text - 1);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, text + 1, n);
	host[n] = '\0';
	sin6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -EINVAL;
	return parse_port(close + 2, &sin6->sin6_port);
}

static int parse_ipv4(const char *text, struct sockaddr_in *sin)
{
	const char *colon = strrchr(text, ':');
	char host[INET_ADDRSTRLEN];
	size_t n;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - text);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	return parse_port(colon + 1, &sin->sin_port);
}

int kc_listen_parse(const char *text, struct sockaddr_storage *addr,
		    socklen_t *len)
{
	struct sockaddr_storage ss;
	int ret;

	memset(&ss, 0, sizeof(ss));
	if (strlen(text) >= KC_LISTEN_TEXT_MAX)
		return -EINVAL;
	if (text[0] == '[') {
		ret = parse_ipv6(text, (struct sockaddr_in6 *)&ss);
		*len = sizeof(struct sockaddr_in6);
	} else {
		ret = parse_ipv4(text, (struct sockaddr_in *)&ss);
		*len = sizeof(struct sockaddr_in);
	}
	if (!ret)
		*addr = ss;
	return ret;
}

/*
 * Keys. Every key is a row: its default (in the file's own words, so it
 * goes through the same parser and bounds as a value read from the file),
 * its bounds, its type and where it goes in struct kc_agent_config.
 */
struct config_key;

struct key_type {
	int (*parse)(const struct config_key *k, const char *value,
		     struct kc_agent_config *cfg);
	void (*print)(FILE *f, const struct config_key *k,
		      const struct kc_agent_config *cfg);
	const char *expected; /* printf format; gets min and max */
};

struct config_key {
	const char *name;
	const char *def; /* NULL: follows other keys (check_limits) */
	uint32_t min, max;
	const struct key_type *type;
	size_t field; /* offset in struct kc_agent_config */
	const char *doc;
};

static void *field(const struct kc_agent_config *cfg,
		   const struct config_key *k)
{
	return (char *)cfg + k->field;
}

static int parse_uint(const struct config_key *k, const char *value,
		      struct kc_agent_config *cfg)
{
	return parse_u32(value, k->min, k->max, field(cfg, k));
}

static void print_uint(FILE *f, const struct config_key *k,
		       const struct kc_agent_config *cfg)
{
	fprintf(f, "%u", *(const uint32_t *)field(cfg, k));
}

/* The text and, beside it, the address it names (listen_addr). */
static int parse_address(const struct config_key *k, const char *value,
			 struct kc_agent_config *cfg)
{
	if (kc_listen_parse(value, &cfg->listen_addr, &cfg->listen_addr_len))
		return -EINVAL;
	strcpy(field(cfg, k), value);
	return 0;
}

/* The Prometheus endpoint's address, or "off" (metrics_addr_len 0). */
static int parse_metrics_address(const struct config_key *k, const char *value,
				 struct kc_agent_config *cfg)
{
	cfg->metrics_addr_len = 0;
	if (strcmp(value, "off") &&
	    kc_listen_parse(value, &cfg->metrics_addr, &cfg->metrics_addr_len))
		return -EINVAL;
	strcpy(field(cfg, k), value);
	return 0;
}

static void print_text(FILE *f, const struct config_key *k,
		       const struct kc_agent_config *cfg)
{
	fputs(field(cfg, k), f);
}

/*
 * A user or group name as useradd takes it (a letter or '_', then
 * letters, digits, '_', '-', '.'); empty for none.
 */
static int parse_name(const struct config_key *k, const char *value,
		      struct kc_agent_config *cfg)
{
	size_t len = strlen(value);

	if (len >= KC_CONFIG_NAME_MAX ||
	    (len && !(isalpha((unsigned char)value[0]) || value[0] == '_')) ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_-.") != len)
		return -EINVAL;
	strcpy(field(cfg, k), value);
	return 0;
}

static const struct key_type uint_key = {
	parse_uint, print_uint, "an integer from %u to %u"
};
static const struct key_type address_key = {
	parse_address, print_text, "A.B.C.D:PORT or [IPV6]:PORT"
};
static const struct key_type metrics_address_key = {
	parse_metrics_address, print_text, "off, A.B.C.D:PORT or [IPV6]:PORT"
};

static const struct key_type name_key = {
	parse_name, print_text, "a user or group name"
};

#define FIELD(f) offsetof(struct kc_agent_config, f)

static const struct config_key keys[] = {
	{ "listen", KC_CONFIG_LISTEN_DEFAULT, 0, 0, &address_key,
	  FIELD(listen), "Address to listen on: A.B.C.D:PORT or [IPV6]:PORT." },
	{ "max_frame", "1048576", 16384, 64u << 20, &uint_key,
	  FIELD(max_frame),
	  "Largest frame accepted (its u32 length field), bytes." },
	{ "max_message", NULL, 1, (64u << 20) - KC_CONFIG_FRAME_MARGIN,
	  &uint_key, FIELD(max_message),
	  "Largest `inner` a SEND may carry, bytes; at most max_frame - 1024,\n"
	  "# which is also its value when not set." },
	{ "session_ttl", "3600", 1, 7 * 86400, &uint_key, FIELD(session_ttl),
	  "Seconds an OPEN_SESSION key lives." },
	{ "token_ttl", "86400", 1, 365 * 86400, &uint_key, FIELD(token_ttl),
	  "Default lifetime of `kcourierd token`, seconds." },
	{ "max_connections", "10000", 1, 1000000, &uint_key,
	  FIELD(max_connections), "Open connections, all workers together." },
	{ "handshake_timeout", "10", 1, 3600, &uint_key,
	  FIELD(handshake_timeout), "Seconds from accept to the first frame." },
	{ "idle_timeout", "300", 1, 86400, &uint_key, FIELD(idle_timeout),
	  "Seconds without a whole frame before a connection is closed." },
	{ "log_segment_bytes", "67108864", 65536, 1u << 30, &uint_key,
	  FIELD(log_segment_bytes),
	  "Size of each message log segment, allocated whole when made." },
	/* Limits and hardening (docs/OPERATIONS.md). */
	{ "max_store_mb", "0", 0, 1u << 24, &uint_key, FIELD(max_store_mb),
	  "Cap on the store (message log segments and directory), MiB;\n"
	  "# 0: only the disk's size. SENDs beyond it get TRY_LATER." },
	{ "queue_max_messages", "100000", 1, 1u << 30, &uint_key,
	  FIELD(queue_max_messages),
	  "Messages one recipient may have queued; more get TRY_LATER." },
	{ "queue_max_bytes", "268435456", 65536, UINT32_MAX, &uint_key,
	  FIELD(queue_max_bytes),
	  "Bytes of messages one recipient may have queued; more get\n"
	  "# TRY_LATER." },
	{ "send_rate", "10000", 0, 1000000, &uint_key, FIELD(send_rate),
	  "Messages a second one sender may store (0: no limit); faster\n"
	  "# SENDs get RATE_LIMITED." },
	{ "send_burst", "20000", 1, 1000000, &uint_key, FIELD(send_burst),
	  "Messages a sender may store at once above send_rate." },
	{ "output_pause_bytes", "1048576", 65536, 1u << 30, &uint_key,
	  FIELD(output_pause_bytes),
	  "A connection's unsent answers above which its requests wait." },
	{ "output_memory_mb", "256", 1, 1u << 20, &uint_key,
	  FIELD(output_memory_mb),
	  "Unsent answers of all connections together, MiB, above which\n"
	  "# every connection with more than 64 KiB unsent waits." },
	{ "frames_per_turn", "64", 1, 1u << 20, &uint_key,
	  FIELD(frames_per_turn),
	  "Frames of one connection handled per loop turn." },
	{ "max_conns_per_addr", "1024", 1, 1000000, &uint_key,
	  FIELD(max_conns_per_addr),
	  "Open connections from one source address." },
	{ "handshakes_per_addr", "256", 0, 1000000, &uint_key,
	  FIELD(handshakes_per_addr),
	  "New connections a second from one source address (burst: twice\n"
	  "# that; 0: no limit)." },
	{ "open_rate_conn", "8", 0, 1000000, &uint_key, FIELD(open_rate_conn),
	  "OPEN_SESSIONs (RSA operations) a second per connection (burst:\n"
	  "# four times that; 0: no limit); more get RATE_LIMITED." },
	{ "open_rate_client", "32", 0, 1000000, &uint_key,
	  FIELD(open_rate_client),
	  "OPEN_SESSIONs a second per client, all its connections together\n"
	  "# (burst: four times that; 0: no limit)." },
	{ "max_sessions_per_client", "256", 1, 1000000, &uint_key,
	  FIELD(max_sessions_per_client),
	  "Live agent sessions per client; under the afalg tier also held\n"
	  "# below the keyring quota's share. More get TRY_LATER." },
	{ "metrics_listen", "off", 0, 0, &metrics_address_key,
	  FIELD(metrics_listen),
	  "Prometheus endpoint (HTTP GET /metrics): off, A.B.C.D:PORT or\n"
	  "# [IPV6]:PORT; DIR/metrics.sock serves the same text always." },
	{ "user", "", 0, 0, &name_key, FIELD(run_user),
	  "Started as root: the user to run as once the listening sockets\n"
	  "# and the keys are set up (it must own the state directory)." },
	{ "group", "", 0, 0, &name_key, FIELD(run_group),
	  "The group to run as with `user`; the user's own group if not set." },
	{ "seccomp", "1", 0, 1, &uint_key, FIELD(seccomp),
	  "1: every thread of `kcourierd run` under a system-call allow-list." },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static int find_key(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].name, name))
			return (int)i;
	return -1;
}

/* max_message, unless given, is as large as max_frame allows. */
static uint32_t max_message_room(const struct kc_agent_config *cfg)
{
	return cfg->max_frame - KC_CONFIG_FRAME_MARGIN;
}

void kc_config_defaults(struct kc_agent_config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < N_KEYS; i++)
		if (keys[i].def)
			keys[i].type->parse(&keys[i], keys[i].def, cfg);
	cfg->max_message = max_message_room(cfg);
}

static void say(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int set_key(const struct config_key *k, const char *value,
		   unsigned int line, struct kc_agent_config *cfg, char *err,
		   size_t err_len)
{
	char expected[64];

	if (!k->type->parse(k, value, cfg))
		return 0;
	snprintf(expected, sizeof(expected), k->type->expected, k->min, k->max);
	say(err, err_len, "%u: bad value '%s' for %s (expected %s)", line,
	    value, k->name, expected);
	return -EINVAL;
}

/*
 * One line, already cut at its newline. seen[] holds the line each key was
 * set on (0 = not yet), so a repeat can name both lines.
 */
static int parse_line(char *raw, unsigned int line, struct kc_agent_config *cfg,
		      unsigned int *seen, char *err, size_t err_len)
{
	char *hash = strchr(raw, '#'), *eq, *key, *value;
	int idx;

	if (hash)
		*hash = '\0';
	key = trim(raw);
	if (!*key)
		return 0;
	eq = strchr(key, '=');
	if (!eq) {
		say(err, err_len, "%u: expected 'key = value', got '%s'", line,
		    key);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	idx = find_key(key);
	if (idx < 0) {
		say(err, err_len, "%u: unknown key '%s'", line, key);
		return -EINVAL;
	}
	if (seen[idx]) {
		say(err, err_len, "%u: '%s' already set on line %u", line, key,
		    seen[idx]);
		return -EINVAL;
	}
	seen[idx] = line;
	return set_key(&keys[idx], value, line, cfg, err, err_len);
}

/* max_message follows max_frame unless given, and must fit inside it. */
static int check_limits(struct kc_agent_config *cfg, const unsigned int *seen,
			char *err, size_t err_len)
{
	int msg = find_key("max_message");
	uint32_t room = max_message_room(cfg);

	if (!seen[msg]) {
		cfg->max_message = room;
		return 0;
	}
	if (cfg->max_message <= room)
		return 0;
	say(err, err_len,
	    "%u: max_message %u must be at most max_frame - %u = %u", seen[msg],
	    cfg->max_message, KC_CONFIG_FRAME_MARGIN, room);
	return -EINVAL;
}

static int parse_lines(char *buf, struct kc_agent_config *cfg, char *err,
		       size_t err_len)
{
	unsigned int seen[N_KEYS] = { 0 };
	unsigned int line = 0;
	char *next = buf, *nl;
	int ret = 0;

	while (!ret && next) {
		nl = strchr(next, '\n');
		if (nl)
			*nl = '\0';
		ret = parse_line(next, ++line, cfg, seen, err, err_len);
		next = nl ? nl + 1 : NULL;
	}
	return ret ? ret : check_limits(cfg, seen, err, err_len);
}

static unsigned int line_of(const char *text, size_t pos)
{
	unsigned int line = 1;
	size_t i;

	for (i = 0; i < pos; i++)
		line += text[i] == '\n';
	return line;
}

int kc_config_parse(const char *text, size_t len, struct kc_agent_config *cfg,
		    char *err, size_t err_len)
{
	const char *nul = memchr(text, '\0', len);
	struct kc_agent_config tmp;
	char *buf;
	int ret;

	if (nul) {
		say(err, err_len, "%u: NUL byte in text",
		    line_of(text, (size_t)(nul - text)));
		return -EINVAL;
	}
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	tmp = *cfg;
	ret = parse_lines(buf, &tmp, err, err_len);
	if (!ret)
		*cfg = tmp;
	free(buf);
	return ret;
}

int kc_config_load(const char *path, struct kc_agent_config *cfg, char *err,
		   size_t err_len)
{
	char why[256] = "";
	uint8_t *text = NULL;
	size_t len = 0;
	int ret;

	ret = kc_file_read(path, CONFIG_FILE_MAX, &text, &len);
	if (ret) {
		say(err, err_len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = kc_config_parse((const char *)text, len, cfg, why,
			      sizeof(why));
	free(text);
	if (ret)
		say(err, err_len, "%s:%s", path, why);
	return ret;
}

/* Left commented out, max_message keeps following max_frame when edited. */
/* Written commented out: a value that follows others, or no name. */
static bool written_commented(const struct kc_agent_config *cfg,
			      const struct config_key *k)
{
	if (k->type == &name_key)
		return !*(const char *)field(cfg, k);
	return k->field == FIELD(max_message) &&
	       cfg->max_message == max_message_room(cfg);
}

int kc_config_write(FILE *f, const struct kc_agent_config *cfg)
{
	size_t i;

	fputs("# kcourierd configuration, written by `kcourierd init`.\n"
	      "# `key = value`; '#' starts a comment. Every key is optional.\n",
	      f);
	for (i = 0; i < N_KEYS; i++) {
		fprintf(f, "\n# %s\n%s%s = ", keys[i].doc,
			written_commented(cfg, &keys[i]) ? "# " : "",
			keys[i].name);
		keys[i].type->print(f, &keys[i], cfg);
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}
