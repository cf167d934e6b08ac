// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd init: a new agent state directory (state.h), and the CA
 * fingerprint the operator hands to clients (PROTOCOL.md section 3).
 */
#include <stdio.h>

#include "kcourierd_cmd.h"
#include "state.h"

static const char init_about[] =
	"Creates the agent state directory DIR (new or empty; mode 0700): the\n"
	"CA, TLS and seal keys and certificates, the store and "
	"kcourierd.conf.\n"
	"Never overwrites an initialised directory. Prints the CA fingerprint\n"
	"on standard output; clients pin it.\n";

struct init_opts {
	const char *dir, *listen, *pass_file;
};

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_init(int argc, char **argv, struct init_opts *o, int *rc)
{
	const struct kc_opt rows[] = {
		KCD_OPT_DIR(&o->dir),
		{ .name = "listen", KC_OPT_STRING(&o->listen),
		  .metavar = "ADDR:PORT", .check = kcd_check_listen,
		  .def = KC_CONFIG_LISTEN_DEFAULT,
		  .help = "written to kcourierd.conf" },
		KCD_OPT_PASSPHRASE_FILE(&o->pass_file,
					"the new passphrase for the keys"),
	};
	const struct kc_opts spec = {
		KCD_OPTS("init"),
		KC_OPTS_TABLE(rows),
		.description = init_about,
		.footer = "A passphrase from the terminal is asked for "
			  "twice.\n",
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

int cmd_init(void *ctx, int argc, char **argv)
{
	char fpr[KC_PKI_FPR_LEN + 1], err[KC_STATE_ERR_MAX];
	struct init_opts o = { .dir = NULL };
	struct kc_passphrase pass;
	int rc, ret;

	if (!parse_init(argc, argv, &o, &rc))
		return rc;
	/* Refuse before anyone types a passphrase twice for nothing. */
	if (kc_state_init_check(o.dir, err, sizeof(err))) {
		kcd_err("init: %s", err);
		return 1;
	}
	if (kcd_passphrase("init", o.pass_file, true, &pass))
		return 1;
	ret = kc_state_init(o.dir, o.listen, &pass, fpr, err, sizeof(err));
	kc_passphrase_wipe(&pass);
	if (ret) {
		kcd_err("init: %s", err);
		return 1;
	}
	fprintf(stderr,
		"kcourierd: initialised %s\n"
		"kcourierd: the CA fingerprint below (SHA-256 of the agent "
		"CA's public key)\n"
		"kcourierd: is what clients pin; give it to them over a "
		"trusted channel.\n",
		o.dir);
	printf("%s\n", fpr);
	return 0;
}
