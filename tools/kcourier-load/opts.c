// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-load's command line: one table (base/opts.h), so every option
 * gets the same checks and the same error wording, and --help is made
 * from it. Usage errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "shape_opts.h"

#define PAYLOAD_MIN 24 /* the header every payload starts with (payload.h) */
#define PAYLOAD_MAX (16u << 20)

static const char synopsis[] =
	LOAD_NAME " (--dir DIR | --agent HOST:PORT --ca-fingerprint HEX\n"
	"                      [--tokens FILE]) [options]";

static const char about[] =
	"Loads a kcourier agent with real clients: mutual TLS, every message\n"
	"sealed end to end and to the agent as `kcourier send` does, every\n"
	"delivery opened, verified and checked for loss, duplicates and order.\n"
	"Clients are registered on first use (one enrollment token each) and\n"
	"cached, so later runs reuse them.\n";

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

/* What no single option can check: NULL, or what is wrong. */
static const char *check_combination(const struct load_opts *o)
{
	if (o->dir && (o->agent || o->pin_arg))
		return "--dir names the agent: drop --agent and --ca-fingerprint";
	if (!o->dir && (!o->agent || !o->pin_arg))
		return "give --dir DIR, or --agent and --ca-fingerprint";
	if (o->idle && o->connect_storm)
		return "--idle and --connect-storm are two different runs";
	if ((uint64_t)o->pairs * o->fanin > 65536)
		return "--pairs times --fanin is above 65536 senders";
	return NULL;
}

static const char *check_pin(const char *arg, void *pin)
{
	return kc_pin_normalize(arg, pin) ? "64 hex digits" : NULL;
}

/* Parses argv; returns -1 to go on, else the exit code (help, error). */
int load_parse_opts(int argc, char **argv, struct load_opts *o)
{
	const struct kc_opt rows[] = {
		{ KC_OPT_HEADING("Agent and clients:") },
		{ .name = "dir", KC_OPT_STRING(&o->dir), .metavar = "DIR",
		  .help = "a local agent's state directory: its address, CA "
			  "fingerprint and tokens (kcourierd token)" },
		{ .name = "agent", KC_OPT_STRING(&o->agent),
		  .metavar = "HOST:PORT",
		  .help = "the agent (with --ca-fingerprint)" },
		{ .name = "ca-fingerprint", KC_OPT_STRING(&o->pin_arg),
		  .metavar = "HEX", .check = check_pin, .ctx = o->pin,
		  .help = "the agent CA's SHA-256 SPKI pin, 64 hex digits" },
		{ .name = "tokens", KC_OPT_STRING(&o->tokens),
		  .metavar = "FILE",
		  .help = "enrollment tokens, one per line, for clients not "
			  "cached yet" },
		{ .name = "cache", KC_OPT_STRING(&o->cache), .metavar = "DIR",
		  .def = "$XDG_CACHE_HOME/kcourier-load, else "
			 "~/.cache/kcourier-load",
		  .help = "client cache; keys there are not encrypted: "
			  "throwaway load identities only" },
		{ KC_OPT_HEADING("Shape:") },
		{ .name = "pairs", KC_OPT_UINT(&o->pairs), .metavar = "N",
		  .min = 1, .max = 4096,
		  .help = "receivers, each with its own senders" },
		{ .name = "fanin", KC_OPT_UINT(&o->fanin), .metavar = "N",
		  .min = 1, .max = 4096, .help = "senders per receiver" },
		{ .name = "size", KC_OPT_UINT(&o->size), .metavar = "BYTES",
		  .min = PAYLOAD_MIN, .max = PAYLOAD_MAX, .unit = "bytes",
		  .help = "application payload per message" },
		{ .name = "window", KC_OPT_UINT(&o->window), .metavar = "W",
		  .min = 1, .max = LOAD_WINDOW_MAX,
		  .help = "unacknowledged messages per sender" },
		LOADKIT_OPT_RATE(&o->rate),
		LOADKIT_OPT_DURATION(&o->duration_s),
		LOADKIT_OPT_WARMUP(&o->warmup_s),
		{ .name = "drain", KC_OPT_REAL(&o->drain_s), .metavar = "S",
		  .min = 0, .max = 3600, .unit = "seconds",
		  .help = "time to wait for the last deliveries" },
		{ .name = "threads", KC_OPT_UINT(&o->threads), .metavar = "N",
		  .min = 1, .max = 1024, .def = "one per CPU",
		  .help = "threads driving the connections" },
		{ .name = "timeout", KC_OPT_MSEC(&o->timeout_ms),
		  .metavar = "S",
		  .min = 0.001, .max = 3600,
		  .help = "an ACK or connect slower than this is an error" },
		{ .name = "connect-storm", KC_OPT_FLAG(&o->connect_storm),
		  .help = "measure new mutual-TLS connections per second "
			  "instead of messages" },
		{ .name = "idle", KC_OPT_UINT(&o->idle), .metavar = "N",
		  .min = 1, .max = 1000000,
		  .help = "open N authenticated connections as the client "
			  "after those of --pairs/--fanin (steps of 1, 1000, "
			  "10000, ...), read the agent's memory after each "
			  "step (--agent-pid), hold them --duration seconds; "
			  "one JSON line" },
		{ KC_OPT_HEADING("Output:") },
		{ .name = "json", KC_OPT_FLAG(&o->json),
		  .help = "the summary as one JSON object on stdout" },
		{ .name = "agent-pid", KC_OPT_UINT(&o->agent_pid),
		  .metavar = "PID", .min = 1, .max = 4194304,
		  .help = "report the agent's CPU time per message" },
	};
	const struct kc_opts spec = {
		.prog = LOAD_NAME,
		.synopsis = synopsis,
		.description = about,
		KC_OPTS_TABLE(rows),
		.error_exit = 2,
	};
	const char *wrong;
	int rc;

	set_defaults(o);
	if (!kc_opts_parse(&spec, argc, argv, &rc))
		return rc;
	wrong = check_combination(o);
	if (wrong)
		return kc_opts_fail(&spec, "%s", wrong);
	return read_faults(o) ? -1 : 2;
}

