/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourierd's command line: one file per command (cmd_<name>.c with
 * cmd_<name>()), dispatched from the table in main.c.
 *
 * A command gets (argc, argv) with argv[0] its own name, parses options
 * from a table (base/opts.h), and returns the exit code: 0 on success, 1
 * on any failure after one line on stderr, "kcourierd: <command>: ...",
 * that quotes the input at fault. "--help" prints the help to stdout and
 * returns 0; a usage error prints the usage to stderr and returns 1.
 */
#ifndef KC_AGENT_CMD_H
#define KC_AGENT_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "base/cmdtab.h"
#include "base/passphrase.h"
#include "agentconf/agentconf.h"
#include "store/store.h"
#include "base/clock.h"

#define KCD_PROG "kcourierd"

/* ctx is unused: kcourierd has no global options. */
int cmd_init(void *ctx, int argc, char **argv);
int cmd_token(void *ctx, int argc, char **argv);
int cmd_revoke(void *ctx, int argc, char **argv);
int cmd_run(void *ctx, int argc, char **argv);
int cmd_rotate_seal(void *ctx, int argc, char **argv);
int cmd_status(void *ctx, int argc, char **argv);

/* "kcourierd: <message>\n" on stderr. */
#define kcd_err(...) kc_cmd_err(KCD_PROG, __VA_ARGS__)

/* A command's option table (base/opts.h) starts with this. */
#define KCD_OPTS(name) .prog = KCD_PROG, .cmd = (name)

/* --dir DIR, which every command needs. */
#define KCD_OPT_DIR(p)                                                   \
	{ .name = "dir", KC_OPT_STRING(p), .required = true,            \
	  .metavar = "DIR", .help = "the agent state directory" }

/* --passphrase-file FILE, where the agent keys' passphrase is. */
#define KCD_OPT_PASSPHRASE_FILE(p, what)                                 \
	{ .name = "passphrase-file", KC_OPT_STRING(p), .metavar = "FILE", \
	  .help = "first line is " what "; else $KCOURIERD_PASSPHRASE, "  \
		  "$KCOURIER_PASSPHRASE, or the terminal" }

/* cmd_util.c */

/* kc_opt_check_fn for client ids. */
const char *kcd_check_client_id(const char *arg, void *ctx);

/* A listen address as kcourierd.conf has it, from --listen. */
struct kcd_listen {
	struct sockaddr_storage addr;
	socklen_t len;
};
/* kc_opt_check_fn for --listen; ctx, if set, is a struct kcd_listen. */
const char *kcd_check_listen(const char *arg, void *ctx);
/*
 * The agent keys' passphrase (kc_state_passphrase), or a message naming
 * what went wrong. 0 or -errno.
 */
int kcd_passphrase(const char *cmd, const char *file, bool confirm,
		   struct kc_passphrase *out);
/* The configuration of an initialised dir, or a message. 0 or -errno. */
int kcd_load_config(const char *cmd, const char *dir,
		    struct kc_agent_config *cfg);
/* Its store (never created here), or a message. 0 or -errno. */
int kcd_open_store(const char *cmd, const char *dir, struct kc_store **out);

#endif
