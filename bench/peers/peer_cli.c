// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command line of the broker drivers (peer_cli.h). Every bad value is
 * reported with the option and the text given, then the usage line.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_cli.h"
#include "peer_run.h"

enum {
	OPT_HOST = 256,
	OPT_PORT,
	OPT_URL,
	OPT_PAIRS,
	OPT_SIZE,
	OPT_WINDOW,
	OPT_RATE,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_BROKER_PID,
	OPT_JSON,
	OPT_MODE,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "url", required_argument, NULL, OPT_URL },
	{ "pairs", required_argument, NULL, OPT_PAIRS },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "broker-pid", required_argument, NULL, OPT_BROKER_PID },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f, const struct peer_tool *tool)
{
	unsigned int i;

	fprintf(f,
		"usage: %s (--port P [--host H] | --url URL) --ca FILE --cert FILE --key FILE\n"
		"       [--pairs N] [--size BYTES] [--window W] [--rate MSGS_PER_S]\n"
		"       [--duration S] [--warmup S] [--broker-pid PID] [--json]%s\n",
		tool->name, tool->modes ? " [--mode M]" : "");
	if (f == stderr)
		return;
	fprintf(f, "\n%s\n\n", tool->about);
	fprintf(f,
		"  --host H        broker address (127.0.0.1)\n"
		"  --port P        broker TLS port (required unless --url)\n"
		"  --url URL       instead of --host/--port; scheme");
	for (i = 0; tool->schemes[i]; i++)
		fprintf(f, "%s %s://", i ? "," : "", tool->schemes[i]);
	fprintf(f,
		"\n"
		"  --pairs N       publisher/subscriber pairs, a connection each (32)\n"
		"  --size BYTES    payload per message, %u..%u (512)\n"
		"  --window W      unacknowledged publishes per publisher (16)\n"
		"  --rate R        total msgs/s, open loop, latency from the intended\n"
		"                  send time; 0 = closed loop (0)\n"
		"  --duration S    measured seconds (10)\n"
		"  --warmup S      seconds before measuring (2)\n"
		"  --ca/--cert/--key FILE  CA, client certificate, client key (PEM)\n"
		"  --broker-pid P  report the broker's CPU time over the interval\n"
		"  --json          print one JSON object instead of the summary\n",
		PEER_HDR_LEN, PEER_MAX_SIZE);
	if (tool->modes) {
		fprintf(f, "  --mode M        one of:");
		for (i = 0; tool->modes[i]; i++)
			fprintf(f, " %s", tool->modes[i]);
		fprintf(f, " (%s)\n", tool->modes[0]);
	}
	fprintf(f,
		"\nExit status: 0 measured and clean, 1 setup or broker failure,\n"
		"2 bad usage, 3 measured but the report counts errors (lost,\n"
		"duplicate, out of order, unacked, disconnects, ...).\n");
}

static int bad(const struct peer_tool *tool, const char *opt, const char *arg,
	       const char *want)
{
	fprintf(stderr, "%s: %s '%s': %s\n", tool->name, opt, arg, want);
	return -EINVAL;
}

static int parse_uint(const char *arg, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*arg == '-' || *arg == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_real(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

/* SCHEME://HOST:PORT, HOST possibly [v6]; the scheme must be one of ours. */
static int parse_url(const struct peer_tool *tool, const char *url,
		     struct peer_opts *o)
{
	const char *sep = strstr(url, "://"), *host, *colon;
	char scheme[16];
	size_t n;
	uint64_t port;

	if (!sep || (size_t)(sep - url) >= sizeof(scheme))
		return bad(tool, "--url", url, "expected SCHEME://HOST:PORT");
	memcpy(scheme, url, sep - url);
	scheme[sep - url] = '\0';
	if (!in_list(tool->schemes, scheme))
		return bad(tool, "--url", url,
			   "scheme not supported (TLS schemes only, see --help)");
	host = sep + 3;
	colon = strrchr(host, ':');
	if (!colon || parse_uint(colon + 1, 1, 65535, &port))
		return bad(tool, "--url", url, "expected a port after the host");
	if (*host == '[' && colon > host && colon[-1] == ']')
		host++, n = colon - host - 1;
	else
		n = colon - host;
	if (n == 0 || n >= sizeof(o->host))
		return bad(tool, "--url", url, "expected a host");
	memcpy(o->host, host, n);
	o->host[n] = '\0';
	o->port = (unsigned int)port;
	o->url = url;
	return 0;
}

static void set_defaults(const struct peer_tool *tool, struct peer_opts *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->host, "127.0.0.1");
	o->pairs = 32;
	o->size = 512;
	o->window = 16;
	o->duration_s = 10.0;
	o->warmup_s = 2.0;
	o->mode = tool->modes ? tool->modes[0] : NULL;
}

/* Options that take a count. */
static int parse_count(const struct peer_tool *tool, int opt, const char *arg,
		       struct peer_opts *o)
{
	uint64_t v;

	switch (opt) {
	case OPT_PORT:
		if (parse_uint(arg, 1, 65535, &v))
			return bad(tool, "--port", arg, "not a port (1..65535)");
		o->port = (unsigned int)v;
		return 0;
	case OPT_PAIRS:
		if (parse_uint(arg, 1, PEER_MAX_PAIRS, &v))
			return bad(tool, "--pairs", arg, "not a count in 1..4096");
		o->pairs = (unsigned int)v;
		return 0;
	case OPT_SIZE:
		if (parse_uint(arg, PEER_HDR_LEN, PEER_MAX_SIZE, &o->size))
			return bad(tool, "--size", arg,
				   "not a size in 24..1048576 bytes (the first 24 carry pair, sequence and send time)");
		return 0;
	case OPT_WINDOW:
		if (parse_uint(arg, 1, PEER_MAX_WINDOW, &v))
			return bad(tool, "--window", arg, "not a count in 1..16384");
		o->window = (unsigned int)v;
		return 0;
	case OPT_BROKER_PID:
		if (parse_uint(arg, 1, 0x7fffffff, &v))
			return bad(tool, "--broker-pid", arg, "not a process id");
		o->broker_pid = (int)v;
		return 0;
	}
	return -EINVAL;
}

/* Options that take seconds or a rate. */
static int parse_time(const struct peer_tool *tool, int opt, const char *arg,
		      struct peer_opts *o)
{
	switch (opt) {
	case OPT_RATE:
		if (parse_real(arg, 0.0, 1e9, &o->rate))
			return bad(tool, "--rate", arg, "not a rate in 0..1e9 msgs/s");
		return 0;
	case OPT_DURATION:
		if (parse_real(arg, 0.1, 86400.0, &o->duration_s))
			return bad(tool, "--duration", arg, "not seconds in 0.1..86400");
		return 0;
	case OPT_WARMUP:
		if (parse_real(arg, 0.0, 86400.0, &o->warmup_s))
			return bad(tool, "--warmup", arg, "not seconds in 0..86400");
		return 0;
	}
	return -EINVAL;
}

static int parse_one(const struct peer_tool *tool, int opt, const char *arg,
		     struct peer_opts *o)
{
	switch (opt) {
	case OPT_HOST:
		if (!*arg || strlen(arg) >= sizeof(o->host))
			return bad(tool, "--host", arg, "not a host name or address");
		strcpy(o->host, arg);
		return 0;
	case OPT_URL:
		return parse_url(tool, arg, o);
	case OPT_CA:
		o->ca = arg;
		return 0;
	case OPT_CERT:
		o->cert = arg;
		return 0;
	case OPT_KEY:
		o->key = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_MODE:
		if (!tool->modes)
			return bad(tool, "--mode", arg, "this driver has no modes");
		if (!in_list(tool->modes, arg))
			return bad(tool, "--mode", arg, "unknown mode (see --help)");
		o->mode = arg;
		return 0;
	case OPT_RATE:
	case OPT_DURATION:
	case OPT_WARMUP:
		return parse_time(tool, opt, arg, o);
	}
	return parse_count(tool, opt, arg, o);
}

/* The libraries' own messages for an unreadable PEM file are vague. */
static int check_files(const struct peer_tool *tool, const struct peer_opts *o)
{
	const char *const opt[] = { "--ca", "--cert", "--key" };
	const char *const file[] = { o->ca, o->cert, o->key };
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (access(file[i], R_OK))
			return bad(tool, opt[i], file[i], strerror(errno));
	return 0;
}

/* What no single option can check. */
static int check_whole(const struct peer_tool *tool, bool host_or_port,
		       struct peer_opts *o)
{
	if (o->url && host_or_port)
		fprintf(stderr, "%s: give --url or --host/--port, not both\n",
			tool->name);
	else if (!o->url && !o->port)
		fprintf(stderr, "%s: no broker: give --port (or --url)\n",
			tool->name);
	else if (!o->ca || !o->cert || !o->key)
		fprintf(stderr,
			"%s: mutual TLS 1.3 is the benchmark's shape: --ca, --cert and --key are all required\n",
			tool->name);
	else
		return check_files(tool, o);
	return -EINVAL;
}

int peer_parse_args(const struct peer_tool *tool, int argc, char **argv,
		    struct peer_opts *o)
{
	bool host_or_port = false;
	int opt;

	set_defaults(tool, o);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout, tool);
			return 1;
		}
		if (opt == '?') {
			fprintf(stderr, "%s: unknown option or missing value: '%s'\n",
				tool->name, argv[optind - 1]);
			goto err;
		}
		if (opt == OPT_HOST || opt == OPT_PORT)
			host_or_port = true;
		if (parse_one(tool, opt, optarg, o))
			goto err;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", tool->name,
			argv[optind]);
		goto err;
	}
	if (check_whole(tool, host_or_port, o))
		goto err;
	return 0;
err:
	usage(stderr, tool);
	return -EINVAL;
}
