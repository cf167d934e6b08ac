// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd init: a new agent state directory (state.h), and the CA
 * fingerprint the operator hands to clients (PROTOCOL.md section 3).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "kcourierd_cmd.h"
#include "state.h"

static const char init_usage[] =
	"usage: kcourierd init --dir DIR [--listen ADDR:PORT] "
	"[--passphrase-file FILE]\n"
	"\n"
	"Creates the agent state directory DIR (new or empty; mode 0700): the\n"
	"CA, TLS and seal keys and certificates, the store and "
	"kcourierd.conf.\n"
	"Never overwrites an initialised directory. Prints the CA fingerprint\n"
	"on standard output; clients pin it.\n"
	"\n"
	"  --dir DIR               the state directory\n"
	"  --listen ADDR:PORT      written to kcourierd.conf "
	"(default " KC_CONFIG_LISTEN_DEFAULT ")\n"
	"  --passphrase-file FILE  first line is the new passphrase for the "
	"keys;\n"
	"                          else $KCOURIERD_PASSPHRASE, "
	"$KCOURIER_PASSPHRASE,\n"
	"                          or the terminal (asked twice)\n"
	"  -h, --help              this text\n";

struct init_opts {
	const char *dir, *listen, *pass_file;
};

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_init(int argc, char **argv, struct init_opts *o, int *rc)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'p':
			o->pass_file = optarg;
			break;
		case 'h':
			*rc = kc_cmd_usage(init_usage, false);
			return false;
		default:
			*rc = kcd_bad_option("init", init_usage, c, argv);
			return false;
		}
	}
	if (optind < argc) {
		kcd_err("init: unexpected argument '%s'", argv[optind]);
		*rc = kc_cmd_usage(init_usage, true);
		return false;
	}
	*rc = kcd_need_dir("init", init_usage, o->dir);
	return *rc == 0;
}

static int get_passphrase(const struct init_opts *o, struct kc_passphrase *p)
{
	int ret = kc_state_passphrase(o->pass_file, true, p);

	if (ret && o->pass_file && ret != -EINVAL)
		kcd_err("init: cannot read passphrase file %s: %s",
			o->pass_file, kc_passphrase_strerror(ret));
	else if (ret)
		kcd_err("init: %s", kc_passphrase_strerror(ret));
	return ret;
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
	ret = get_passphrase(&o, &pass);
	if (ret)
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
