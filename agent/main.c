// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd: the agent. This file holds only the command table; each
 * command lives in its own cmd_<name>.c, the dispatch in lib/base/cmdtab.c.
 */
#include <stdio.h>
#include <string.h>

#include "kcourierd_cmd.h"
#include "nocore.h"

static const struct kc_cmd commands[] = {
	{ "init", cmd_init, "create a state directory: CA, keys, store, config" },
	{ "token", cmd_token, "print one-time enrollment tokens" },
	{ "revoke", cmd_revoke, "revoke a registered client" },
	{ "run", cmd_run, "run the agent until SIGTERM or SIGINT" },
	{ "rotate-seal", cmd_rotate_seal, "a new seal key for new sessions" },
	{ "status", cmd_status, "print a running agent's counters" },
};

static const struct kc_cmdtab table = {
	.prog = KCD_PROG,
	.synopsis = "kcourierd COMMAND [ARGS]\n"
		    "       kcourierd help COMMAND",
	.footer = "'kcourierd COMMAND --help' describes one command.\n",
	.name_width = 10,
	.cmds = commands,
	.n_cmds = sizeof(commands) / sizeof(commands[0]),
};

int main(int argc, char **argv)
{
	int ret = kcd_no_core_dumps();

	/* Not fatal: the unit's LimitCORE=0 still holds; but say so. */
	if (ret)
		kcd_err("cannot turn core dumps off: %s", strerror(-ret));
	return kc_cmdtab_main(&table, NULL, argc, argv);
}
