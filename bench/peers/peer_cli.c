// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command line of the broker drivers (peer_cli.h): one table
 * (base/opts.h), so a bad value is reported with the option and the text
 * given, then the usage, as for kcourier-load.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/opts.h"
#include "peer_cli.h"
#include "shape_opts.h"

#define HOST_DEFAULT "127.0.0.1"

static const char footer[] =
	"Exit status: 0 measured and clean, 1 setup or broker failure,\n"
	"2 bad usage, 3 measured but the report counts errors (lost,\n"
	"duplicate, out of order, unacked, disconnects, ...).\n";

/* What the checks need besides the value: the driver, where to put it. */
struct parse_ctx {
	const struct peer_tool *tool;
	struct peer_opts *o;
	const char *host; /* --host as given */
	unsigned int host_given, port_given;
};

static bool in_list(const char *const *list, const char *s, size_t n)
{
	for (; list && *list; list++)
		if (strlen(*list) == n && !strncmp(*list, s, n))
			return true;
	return false;
}

static int parse_port(const char *s, unsigned int *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9' && v <= 65535; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (*s || v < 1 || v > 65535)
		return -EINVAL;
	*port = (unsigned int)v;
	return 0;
}

/* SCHEME://HOST:PORT, HOST possibly [v6]; the scheme must be one of ours. */
static const char *check_url(const char *url, void *arg)
{
	struct parse_ctx *c = arg;
	const char *sep = strstr(url, "://"), *host, *colon;
	size_t n;

	if (!sep)
		return "a URL SCHEME://HOST:PORT";
	if (!in_list(c->tool->schemes, url, (size_t)(sep - url)))
		return "a URL with a TLS scheme (see --help)";
	host = sep + 3;
	colon = strrchr(host, ':');
	if (!colon || parse_port(colon + 1, &c->o->port))
		return "a URL with a port (1 to 65535) after the host";
	if (*host == '[' && colon > host && colon[-1] == ']')
		host++, n = (size_t)(colon - host - 1);
	else
		n = (size_t)(colon - host);
	if (n == 0 || n >= sizeof(c->o->host))
		return "a URL with a host";
	memcpy(c->o->host, host, n);
	c->o->host[n] = '\0';
	return NULL;
}

static const char *check_host(const char *host, void *arg)
{
	struct parse_ctx *c = arg;

	if (*host && strlen(host) < sizeof(c->o->host))
		return NULL;
	return "a host name or address";
}

/* The libraries' own messages for an unreadable PEM file are vague. */
static const char *check_readable(const char *path, void *arg)
{
	static char why[128];

	if (!access(path, R_OK))
		return NULL;
	snprintf(why, sizeof(why), "a readable file (%s)", strerror(errno));
	return why;
}

static void set_defaults(const struct peer_tool *tool, struct peer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pairs = 32;
	o->size = 512;
	o->window = 16;
	o->duration_s = 10.0;
	o->warmup_s = 2.0;
	o->mode = tool->modes ? tool->modes[0] : NULL;
}

/* "instead of --host/--port; scheme mqtts:// or ssl://" */
static void url_help(const struct peer_tool *tool, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "instead of --host/--port; "
					      "scheme");
	unsigned int i;

	for (i = 0; tool->schemes[i] && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s %s://",
				      i ? (tool->schemes[i + 1] ? "," : " or")
					: "",
				      tool->schemes[i]);
}

/* What no single option can check; the host and port from --host/--port. */
static const char *check_whole(struct parse_ctx *c)
{
	if (c->o->url && (c->host_given || c->port_given))
		return "give --url or --host/--port, not both";
	if (!c->o->url && !c->port_given)
		return "no broker: give --port (or --url)";
	if (!c->o->url)
		strcpy(c->o->host, c->host);
	return NULL;
}

int peer_parse_args(const struct peer_tool *tool, int argc, char **argv,
		    struct peer_opts *o)
{
	struct parse_ctx c = { .tool = tool, .o = o, .host = HOST_DEFAULT };
	char url_text[200];
	const struct kc_opt rows[] = {
		{ .name = "host", KC_OPT_STRING(&c.host), .metavar = "H",
		  .check = check_host, .ctx = &c, .count = &c.host_given,
		  .help = "broker address" },
		{ .name = "port", KC_OPT_UINT(&o->port), .metavar = "P",
		  .min = 1, .max = 65535, .count = &c.port_given,
		  .help = "broker TLS port (required unless --url)" },
		{ .name = "url", KC_OPT_STRING(&o->url), .metavar = "URL",
		  .check = check_url, .ctx = &c, .help = url_text },
		{ .name = "ca", KC_OPT_STRING(&o->ca), .required = true,
		  .metavar = "FILE", .check = check_readable,
		  .help = "CA certificate (PEM)" },
		{ .name = "cert", KC_OPT_STRING(&o->cert), .required = true,
		  .metavar = "FILE", .check = check_readable,
		  .help = "client certificate (PEM)" },
		{ .name = "key", KC_OPT_STRING(&o->key), .required = true,
		  .metavar = "FILE", .check = check_readable,
		  .help = "client key (PEM); mutual TLS 1.3 is the "
			  "benchmark's shape" },
		{ .name = "pairs", KC_OPT_UINT(&o->pairs), .metavar = "N",
		  .min = 1, .max = PEER_MAX_PAIRS,
		  .help = "publisher/subscriber pairs, a connection each" },
		{ .name = "size", KC_OPT_UINT(&o->size), .metavar = "BYTES",
		  .min = PEER_HDR_LEN, .max = PEER_MAX_SIZE, .unit = "bytes",
		  .help = "payload per message (the first 24 carry pair, "
			  "sequence and send time)" },
		{ .name = "window", KC_OPT_UINT(&o->window), .metavar = "W",
		  .min = 1, .max = PEER_MAX_WINDOW,
		  .help = "unacknowledged publishes per publisher" },
		LOADKIT_OPT_RATE(&o->rate),
		LOADKIT_OPT_DURATION(&o->duration_s),
		LOADKIT_OPT_WARMUP(&o->warmup_s),
		{ .name = "broker-pid", KC_OPT_UINT(&o->broker_pid),
		  .metavar = "PID", .min = 1, .max = 0x7fffffff,
		  .help = "report the broker's CPU time over the interval" },
		{ .name = "json", KC_OPT_FLAG(&o->json),
		  .help = "print one JSON object instead of the summary" },
		/* Last: only drivers with modes have it. */
		{ .name = "mode", KC_OPT_CHOICE(&o->mode, tool->modes),
		  .metavar = "M", .help = "the driver's variant" },
	};
	const struct kc_opts spec = {
		.prog = tool->name,
		.description = tool->about,
		.footer = footer,
		.opts = rows,
		.n_opts = sizeof(rows) / sizeof(rows[0]) - !tool->modes,
		.error_exit = 2,
	};
	const char *wrong;
	int rc;

	set_defaults(tool, o);
	url_help(tool, url_text, sizeof(url_text));
	if (!kc_opts_parse(&spec, argc, argv, &rc))
		return rc ? -EINVAL : 1;
	wrong = check_whole(&c);
	if (!wrong)
		return 0;
	kc_opts_fail(&spec, "%s", wrong);
	return -EINVAL;
}
