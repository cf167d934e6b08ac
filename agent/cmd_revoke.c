// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd revoke: marks a client revoked in the store. Its certificate
 * stays valid as X.509 says, but the agent checks the store whenever a
 * connection authenticates (delivery.c: the id must be registered and not
 * revoked), so the client is refused from its next connection on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kcourierd_cmd.h"

static bool parse_revoke(int argc, char **argv, const char **dir,
			 const char **id, int *rc)
{
	const struct kc_opt rows[] = { KCD_OPT_DIR(dir) };
	const struct kc_arg args[] = {
		{ .name = "ID", .to = id, .check = kcd_check_client_id },
	};
	const struct kc_opts spec = {
		KCD_OPTS("revoke"),
		KC_OPTS_TABLE(rows),
		KC_OPTS_ARGS(args),
		.description = "Revokes the registered client ID: from now on "
			       "the agent refuses its\n"
			       "connections. The agent may be running.\n",
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

int cmd_revoke(void *ctx, int argc, char **argv)
{
	const char *dir = NULL, *id = NULL;
	struct kc_agent_config cfg;
	struct kc_store *st = NULL;
	int rc, ret;

	if (!parse_revoke(argc, argv, &dir, &id, &rc))
		return rc;
	if (kcd_load_config("revoke", dir, &cfg) ||
	    kcd_open_store("revoke", dir, &st))
		return 1;
	ret = kc_store_revoke(st, id);
	kc_store_close(st);
	if (ret == -ENOENT)
		kcd_err("revoke: no registered client '%s'", id);
	else if (ret)
		kcd_err("revoke: cannot update the store: %s", strerror(-ret));
	else
		fprintf(stderr, "kcourierd: revoked '%s'\n", id);
	return ret ? 1 : 0;
}
