// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-load's command line. Numbers go through one table so every
 * numeric option gets the same checks and the same error wording.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define PAYLOAD_MIN 24 /* the header every payload starts with (payload.h) */
#define PAYLOAD_MAX (16u << 20)

static const char usage[] =
	"usage: kcourier-load (--dir DIR | --agent HOST:PORT --ca-fingerprint HEX\n"
	"                      [--tokens FILE]) [options]\n"
	"\n"
	"Loads a kcourier agent with real clients: mutual TLS, every message\n"
	"sealed end to end and to the agent as `kcourier send` does, every\n"
	"delivery opened, verified and checked for loss, duplicates and order.\n"
	"Clients are registered on first use (one enrollment token each) and\n"
	"cached, so later runs reuse them.\n"
	"\n"
	"Agent and clients:\n"
	"  --dir DIR               a local agent's state directory: its address,\n"
	"                          CA fingerprint and tokens (kcourierd token)\n"
	"  --agent HOST:PORT       the agent (with --ca-fingerprint)\n"
	"  --ca-fingerprint HEX    the agent CA's SHA-256 SPKI pin, 64 hex digits\n"
	"  --tokens FILE           enrollment tokens, one per line, for clients\n"
	"                          not cached yet\n"
	"  --cache DIR             client cache (default\n"
	"                          $XDG_CACHE_HOME/kcourier-load, else\n"
	"                          ~/.cache/kcourier-load); keys there are not\n"
	"                          encrypted: throwaway load identities only\n"
	"Shape:\n"
	"  --pairs N               receivers, each with its own senders (1)\n"
	"  --fanin N               senders per receiver (1)\n"
	"  --size BYTES            application payload per message, 24 or\n"
	"                          more (256)\n"
	"  --window W              unacknowledged messages per sender (16)\n"
	"  --rate R                total msgs/s, open loop; latency counts from\n"
	"                          the intended send time (0: closed loop)\n"
	"  --duration S            measured seconds (10)\n"
	"  --warmup S              seconds before measuring (2)\n"
	"  --drain S               seconds to wait for the last deliveries (5)\n"
	"  --threads N             threads driving the connections (one per CPU)\n"
	"  --timeout S             an ACK or connect slower than this is an\n"
	"                          error (10)\n"
	"  --connect-storm         measure new mutual-TLS connections per second\n"
	"                          instead of messages\n"
	"Output:\n"
	"  --json                  the summary as one JSON object on stdout\n"
	"  --agent-pid PID         report the agent's CPU time per message\n"
	"  -h, --help              this text\n";

void load_err(const char *fmt, ...)
{
	va_list ap;

	fputs(LOAD_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum num_kind { NUM_UINT, NUM_U64, NUM_SECONDS, NUM_RATE, NUM_MS, NUM_PID };

struct num_opt {
	int letter;
	const char *name;
	enum num_kind kind;
	double min, max;
	size_t offset;
};

#define NUM(l, n, k, lo, hi, field) \
	{ l, n, k, lo, hi, offsetof(struct load_opts, field) }

static const struct num_opt num_opts[] = {
	NUM('P', "--pairs", NUM_UINT, 1, 4096, pairs),
	NUM('F', "--fanin", NUM_UINT, 1, 4096, fanin),
	NUM('S', "--size", NUM_U64, PAYLOAD_MIN, PAYLOAD_MAX, size),
	NUM('W', "--window", NUM_UINT, 1, 65536, window),
	NUM('T', "--threads", NUM_UINT, 1, 1024, threads),
	NUM('R', "--rate", NUM_RATE, 0, 1e9, rate),
	NUM('D', "--duration", NUM_SECONDS, 0.1, 86400, duration_s),
	NUM('U', "--warmup", NUM_SECONDS, 0, 86400, warmup_s),
	NUM('N', "--drain", NUM_SECONDS, 0, 3600, drain_s),
	NUM('O', "--timeout", NUM_MS, 0.001, 3600, timeout_ms),
	NUM('p', "--agent-pid", NUM_PID, 1, 4194304, agent_pid),
};

static bool store_num(const struct num_opt *n, double v, struct load_opts *o)
{
	char *field = (char *)o + n->offset;

	if (n->kind != NUM_SECONDS && n->kind != NUM_RATE &&
	    n->kind != NUM_MS && v != floor(v))
		return false;
	switch (n->kind) {
	case NUM_UINT:
		*(unsigned int *)field = (unsigned int)v;
		break;
	case NUM_U64:
		*(uint64_t *)field = (uint64_t)v;
		break;
	case NUM_SECONDS:
	case NUM_RATE:
		*(double *)field = v;
		break;
	case NUM_MS:
		*(unsigned int *)field = (unsigned int)ceil(v * 1000);
		break;
	case NUM_PID:
		*(int *)field = (int)v;
		break;
	}
	return true;
}

static bool parse_num(const struct num_opt *n, const char *arg,
		      struct load_opts *o)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!errno && end != arg && !*end && isfinite(v) && v >= n->min &&
	    v <= n->max && store_num(n, v, o))
		return true;
	load_err("%s '%s': expected %s from %g to %g", n->name, arg,
		 n->kind == NUM_SECONDS || n->kind == NUM_RATE ||
				 n->kind == NUM_MS ?
			 "a number" :
			 "a whole number",
		 n->min, n->max);
	return false;
}

static const struct num_opt *find_num(int letter)
{
	size_t i;

	for (i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
		if (num_opts[i].letter == letter)
			return &num_opts[i];
	}
	return NULL;
}

/* KC_LOAD_FAULTS (load.h); anything unparsable is an error. */
static bool read_faults(struct load_opts *o)
{
	const char *env = getenv("KC_LOAD_FAULTS");
	unsigned long long drop = 0, dup = 0;
	int n = 0;

	if (!env || !env[0])
		return true;
	if (sscanf(env, "drop=%llu,dup=%llu%n", &drop, &dup, &n) == 2 &&
	    !env[n]) {
		o->fault_drop = drop;
		o->fault_dup = dup;
		return true;
	}
	load_err("KC_LOAD_FAULTS='%s': expected drop=N,dup=M", env);
	return false;
}

static void set_defaults(struct load_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->pairs = 1;
	o->fanin = 1;
	o->size = 256;
	o->window = 16;
	o->threads = cpus > 0 ? (unsigned int)cpus : 1;
	o->duration_s = 10;
	o->warmup_s = 2;
	o->drain_s = 5;
	o->timeout_ms = 10000;
	o->progress = isatty(STDERR_FILENO);
}

static bool normalise_pin(struct load_opts *o)
{
	size_t i;

	for (i = 0; i < KC_PIN_HEX_LEN && isxdigit((unsigned char)o->pin_arg[i]);
	     i++)
		o->pin[i] = (char)tolower((unsigned char)o->pin_arg[i]);
	o->pin[i] = '\0';
	if (i == KC_PIN_HEX_LEN && !o->pin_arg[i])
		return true;
	load_err("--ca-fingerprint '%s' is not 64 hex digits", o->pin_arg);
	return false;
}

static bool check_combination(struct load_opts *o)
{
	if (o->dir && (o->agent || o->pin_arg)) {
		load_err("--dir names the agent: drop --agent and --ca-fingerprint");
		return false;
	}
	if (!o->dir && (!o->agent || !o->pin_arg)) {
		load_err("give --dir DIR, or --agent and --ca-fingerprint");
		return false;
	}
	if (o->pin_arg && !normalise_pin(o))
		return false;
	if ((uint64_t)o->pairs * o->fanin > 65536) {
		load_err("--pairs times --fanin is above 65536 senders");
		return false;
	}
	return true;
}

static bool parse_string(int c, struct load_opts *o)
{
	switch (c) {
	case 'a':
		o->agent = optarg;
		return true;
	case 'f':
		o->pin_arg = optarg;
		return true;
	case 'd':
		o->dir = optarg;
		return true;
	case 't':
		o->tokens = optarg;
		return true;
	case 'c':
		o->cache = optarg;
		return true;
	case 's':
		o->connect_storm = true;
		return true;
	case 'j':
		o->json = true;
		return true;
	}
	return false;
}

static int bad_option(int c, char **argv)
{
	if (c == ':')
		load_err("%s needs a value", argv[optind - 1]);
	else
		load_err("unknown option '%s'", argv[optind - 1]);
	fputs("Try 'kcourier-load --help'.\n", stderr);
	return 2;
}

int load_parse_opts(int argc, char **argv, struct load_opts *o)
{
	static const struct option longopts[] = {
		{ "agent", required_argument, NULL, 'a' },
		{ "ca-fingerprint", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ "tokens", required_argument, NULL, 't' },
		{ "cache", required_argument, NULL, 'c' },
		{ "pairs", required_argument, NULL, 'P' },
		{ "fanin", required_argument, NULL, 'F' },
		{ "size", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'W' },
		{ "rate", required_argument, NULL, 'R' },
		{ "duration", required_argument, NULL, 'D' },
		{ "warmup", required_argument, NULL, 'U' },
		{ "drain", required_argument, NULL, 'N' },
		{ "threads", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'O' },
		{ "connect-storm", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "agent-pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct num_opt *n;
	int c;

	set_defaults(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		n = find_num(c);
		if (n ? !parse_num(n, optarg, o) : !parse_string(c, o))
			return n ? 2 : bad_option(c, argv);
	}
	if (optind < argc) {
		load_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return check_combination(o) && read_faults(o) ? -1 : 2;
}
