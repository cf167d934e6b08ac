/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcourierd's command line: one file per command (cmd_<name>.c with
 * cmd_<name>()), dispatched from the table in main.c.
 *
 * A command gets (argc, argv) with argv[0] its own name, parses options
 * with getopt_long, and returns the exit code: 0 on success, 1 on any
 * failure after one line on stderr, "kcourierd: <command>: ...", that
 * quotes the input at fault. "--help" prints the usage to stdout and
 * returns 0; a usage error prints the synopsis to stderr and returns 1.
 */
#ifndef KC_AGENT_CMD_H
#define KC_AGENT_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cmdtab.h"
#include "agentconf/agentconf.h"
#include "store/store.h"
#include "base/clock.h"

#define KCD_PROG "kcourierd"

/* ctx is unused: kcourierd has no global options. */
int cmd_init(void *ctx, int argc, char **argv);
int cmd_token(void *ctx, int argc, char **argv);
int cmd_revoke(void *ctx, int argc, char **argv);
int cmd_run(void *ctx, int argc, char **argv);

/* "kcourierd: <message>\n" on stderr. */
#define kcd_err(...) kc_cmd_err(KCD_PROG, __VA_ARGS__)

/* For getopt_long's ':' and '?' (optstring starts with ':'). Returns 1. */
static inline int kcd_bad_option(const char *cmd, const char *usage, int opt,
				 char **argv)
{
	return kc_cmd_bad_option(KCD_PROG, cmd, usage, opt, argv);
}

/* cmd_util.c */

/* "--dir DIR is required" and the synopsis, when dir is NULL. */
int kcd_need_dir(const char *cmd, const char *usage, const char *dir);
/* Decimal in [min, max], else a message quoting it. 0 or -EINVAL. */
int kcd_parse_u32(const char *cmd, const char *opt, const char *text,
		  uint32_t min, uint32_t max, uint32_t *out);
/* The configuration of an initialised dir, or a message. 0 or -errno. */
int kcd_load_config(const char *cmd, const char *dir,
		    struct kc_agent_config *cfg);
/* Its store (never created here), or a message. 0 or -errno. */
int kcd_open_store(const char *cmd, const char *dir, struct kc_store **out);

#endif
