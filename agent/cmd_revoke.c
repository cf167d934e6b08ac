// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd revoke: marks a client revoked in the store. Its certificate
 * stays valid as X.509 says, but the agent checks the store whenever a
 * connection authenticates (delivery.c: the id must be registered and not
 * revoked), so the client is refused from its next connection on. Then it
 * tells a running agent through its control socket (control.h), which
 * closes the client's live connections and their sessions at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
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
			       "connections. A running agent is told at once "
			       "(DIR/control.sock) and\n"
			       "closes the client's open connections.\n",
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

/* The store says revoked; now the live connections, if an agent runs. */
static void tell_agent(const char *dir, const char *id)
{
	char request[KCD_CONTROL_LINE_MAX], reply[KCD_CONTROL_LINE_MAX];
	int ret;

	snprintf(request, sizeof(request), "revoke %s", id);
	ret = kcd_control_ask(dir, request, reply, sizeof(reply));
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		fprintf(stderr, "kcourierd: no agent running in %s\n", dir);
	else if (ret)
		kcd_err("revoke: cannot reach the running agent (%s): it "
			"refuses '%s' from its next connection",
			strerror(-ret), id);
	else if (strncmp(reply, "ok ", 3))
		kcd_err("revoke: the running agent says: %s", reply);
	else
		fprintf(stderr,
			"kcourierd: the running agent closed %s connection(s) "
			"of '%s'\n",
			reply + 3, id);
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
	if (!ret)
		tell_agent(dir, id);
	return ret ? 1 : 0;
}
