/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line the broker drivers share with kcourier-load, so one
 * benchmark shape is spelled the same way for every target:
 *
 *   --host H --port P | --url SCHEME://H:P   where the broker listens
 *   --pairs N      publisher/subscriber pairs, one connection each (32)
 *   --size B       payload bytes per message, >= PEER_HDR_LEN (512;
 *                  peer_payload.h)
 *   --window W     unacknowledged publishes per publisher (16)
 *   --rate R       total msgs/s, open loop; 0: closed loop (0)
 *   --duration S   measured seconds (10), after --warmup S (2)
 *   --ca --cert --key FILE   mutual TLS 1.3, all three required
 *   --broker-pid PID         charge the broker's CPU in the report
 *   --mode M       driver-specific variant (NATS: jetstream | core)
 *   --json         one JSON object on stdout instead of the summary
 */
#ifndef KC_PEER_CLI_H
#define KC_PEER_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "peer_payload.h"

#define PEER_MAX_PAIRS 4096u
/* mosquitto's message ids are 16 bits; a window must not wrap them. */
#define PEER_MAX_WINDOW 16384u

struct peer_opts {
	char host[256];
	unsigned int port;
	const char *url; /* as given; host and port are parsed from it */
	unsigned int pairs, window;
	uint64_t size;
	double rate, duration_s, warmup_s;
	const char *ca, *cert, *key;
	int broker_pid; /* 0: unknown */
	bool json;
	const char *mode;
};

struct peer_tool {
	const char *name;	    /* "mosq-load" */
	const char *const *schemes; /* --url schemes accepted, NULL-ended */
	const char *const *modes;   /* --mode values, default first; or NULL */
	const char *about;	    /* one paragraph for --help */
};

/*
 * Fills *o from argv. Returns 0 to run, 1 when --help was printed (exit
 * 0), or -EINVAL after printing what was wrong (exit 2).
 */
int peer_parse_args(const struct peer_tool *tool, int argc, char **argv,
		    struct peer_opts *o);

#endif
