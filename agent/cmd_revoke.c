// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd revoke: marks a client revoked in the store. Its certificate
 * stays valid as X.509 says, but the agent checks the store whenever a
 * connection authenticates (delivery.c: the id must be registered and not
 * revoked), so the client is refused from its next connection on.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kcourierd_cmd.h"

static const char revoke_usage[] =
	"usage: kcourierd revoke --dir DIR ID\n"
	"\n"
	"Revokes the registered client ID: from now on the agent refuses its\n"
	"connections. The agent may be running.\n"
	"\n"
	"  --dir DIR     the agent state directory\n"
	"  -h, --help    this text\n";

static bool parse_revoke(int argc, char **argv, const char **dir,
			 const char **id, int *rc)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*dir = optarg;
			break;
		case 'h':
			*rc = kc_cmd_usage(revoke_usage, false);
			return false;
		default:
			*rc = kcd_bad_option("revoke", revoke_usage, c, argv);
			return false;
		}
	}
	*rc = kcd_need_dir("revoke", revoke_usage, *dir);
	if (*rc)
		return false;
	if (argc - optind != 1) {
		kcd_err("revoke: %s",
			optind < argc ? "exactly one client ID, please"
				      : "which client? (ID is missing)");
		*rc = kc_cmd_usage(revoke_usage, true);
		return false;
	}
	*id = argv[optind];
	return true;
}

int cmd_revoke(void *ctx, int argc, char **argv)
{
	const char *dir = NULL, *id = NULL;
	struct kc_agent_config cfg;
	struct kc_store *st = NULL;
	int rc, ret;

	if (!parse_revoke(argc, argv, &dir, &id, &rc))
		return rc;
	if (!kc_client_id_valid((const uint8_t *)id, strlen(id))) {
		kcd_err("revoke: '%s' is not a client id "
			"([a-z0-9][a-z0-9._-]{0,63})",
			id);
		return 1;
	}
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
