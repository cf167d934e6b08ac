/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourierd.conf: `key = value` lines, `#` starts a comment (whole line or
 * after a value), blank lines ignored. Every key is optional and appears
 * at most once; an unknown key, a repeated key or a bad value is an error
 * that names the line.
 *
 *   key                default           meaning
 *   listen             127.0.0.1:7411    IPv4 "A.B.C.D:PORT" or IPv6
 *                                        "[ADDR]:PORT"
 *   max_frame          1048576           largest frame accepted, bytes
 *                                        (len field)
 *   max_message        max_frame - 1024  largest `inner` a SEND may carry
 *   session_ttl        3600              seconds an OPEN_SESSION key lives
 *   token_ttl          86400             default lifetime of `kcourierd
 *                                        token`
 *   max_connections    10000             open connections, all workers
 *                                        together
 *   handshake_timeout  10                seconds from accept to the first
 *                                        frame
 *   idle_timeout       300               seconds without a whole frame
 *                                        before closing
 *   log_segment_bytes  67108864          size of each message log segment
 *   (the limits of docs/OPERATIONS.md "Limits and hardening" follow in
 *   the table of agentconf.c, each with its default and meaning)
 *   metrics_listen     off               Prometheus endpoint's address
 *   user               (none)            started as root: the user to run
 *                                        as once bound and keys loaded
 *   group              (user's group)    and the group
 *   seccomp            1                 1: the agent's threads run under
 *                                        a system-call allow-list; 0: not
 *
 * Why max_message is max_frame - 1024: an inner message travels in two
 * frames and must fit both. SEND wraps it in str to (2 + 64) || msg_id
 * (16) || blob (4), CBC-padded (up to 16 more), inside header (5), sid
 * (16), seq (8), iv (16), ct length (4) and mac (32): 183 bytes at most.
 * DELIVER adds header (5), str from (2 + 64), msg_id (16), stored_at_ms
 * (8) and blob length (4): 99 bytes. 1024 covers both with room for a
 * later field, and is checked at load: max_message <= max_frame - 1024.
 */
#ifndef KC_AGENT_CONFIG_H
#define KC_AGENT_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define KC_CONFIG_LISTEN_DEFAULT "127.0.0.1:7411"
#define KC_CONFIG_FRAME_MARGIN 1024u
#define KC_LISTEN_TEXT_MAX 64
#define KC_CONFIG_NAME_MAX 33 /* a user or group name, 32 bytes + NUL */ /* "[" 45-char IPv6 "]:" 5-digit port + NUL */

struct kc_agent_config {
	char listen[KC_LISTEN_TEXT_MAX];
	struct sockaddr_storage listen_addr;
	socklen_t listen_addr_len;
	uint32_t max_frame;
	uint32_t max_message;
	uint32_t session_ttl;
	uint32_t token_ttl;
	uint32_t max_connections;
	uint32_t handshake_timeout;
	uint32_t idle_timeout;
	uint32_t log_segment_bytes;
	/* Limits and hardening (docs/OPERATIONS.md): 0 turns a rate off. */
	uint32_t max_store_mb;
	uint32_t queue_max_messages;
	uint32_t queue_max_bytes;
	uint32_t send_rate, send_burst;
	uint32_t output_pause_bytes;
	uint32_t output_memory_mb;
	uint32_t frames_per_turn;
	uint32_t max_conns_per_addr;
	uint32_t handshakes_per_addr;
	uint32_t open_rate_conn, open_rate_client;
	uint32_t max_sessions_per_client;
	char metrics_listen[KC_LISTEN_TEXT_MAX]; /* "off" or an address */
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addr_len; /* 0: off */
	char run_user[KC_CONFIG_NAME_MAX];  /* "": stay who we were started as */
	char run_group[KC_CONFIG_NAME_MAX]; /* "": run_user's primary group */
	uint32_t seccomp;
};

/* The defaults above. */
void kc_config_defaults(struct kc_agent_config *cfg);

/*
 * Parses "A.B.C.D:PORT" or "[IPV6]:PORT" (numeric only, port 1-65535).
 * Returns 0 or -EINVAL.
 */
int kc_listen_parse(const char *text, struct sockaddr_storage *addr,
		    socklen_t *len);

/*
 * Parses configuration text over the defaults. Returns 0 or -EINVAL with
 * "LINE: reason" (quoting the bad key or value) in err.
 */
int kc_config_parse(const char *text, size_t len, struct kc_agent_config *cfg,
		    char *err, size_t err_len);

/* Reads and parses a file; errors are "PATH:LINE: reason". */
int kc_config_load(const char *path, struct kc_agent_config *cfg, char *err,
		   size_t err_len);

/* Writes every key with its value, commented, as `kcourierd init` does. */
int kc_config_write(FILE *f, const struct kc_agent_config *cfg);

#endif
