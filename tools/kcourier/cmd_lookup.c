// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier lookup: asks the agent for a client's keys (PROTOCOL.md section
 * 4, LOOKUP) and shows what they are and whether they check out, in the
 * tab-separated form of keygen. The fingerprints are what two users
 * compare out of band (section 5): the agent is also the CA, so only that
 * comparison protects against an agent handing out keys of its own.
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "kcourier_cmd.h"
#include "keyload.h"

static const char lookup_about[] =
	"Fetches the keys of client ID from the agent and prints, one per line\n"
	"and tab-separated: the id, the SHA-256 fingerprints of its id key and\n"
	"enc key, whether its id certificate chains to the pinned CA with\n"
	"CN = ID, and whether its enc key signature (enc_sig) verifies. Keys\n"
	"that check out are cached for 'send', 'recv' and 'fingerprint ID'.\n"
	"Exits 1 when a check fails.\n";

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_lookup(int argc, char **argv, const char **id,
			 const char **pass_file, int *rc)
{
	const struct kc_opt rows[] = {
		CLI_OPT_PASSPHRASE_FILE(pass_file,
					"the passphrase of the id key"),
	};
	const struct kc_arg args[] = {
		{ .name = "ID", .to = id, .check = cli_check_client_id },
	};
	const struct kc_opts spec = {
		CLI_HOME_OPTS("lookup"),
		KC_OPTS_TABLE(rows),
		KC_OPTS_ARGS(args),
		.description = lookup_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

static int show(struct account *a, struct kc_peer *p)
{
	char id_hex[65] = "?", enc_hex[65] = "?";
	int verified;

	verified = kc_peer_verify(p, (struct kc_bytes){ a->ca, a->ca_len });
	if (kc_peer_fingerprints(p, id_hex, enc_hex))
		strcpy(id_hex, "(unreadable certificate)");
	printf("id\t%s\nid_key\t%s\nenc_key\t%s\ncertificate\t%s\nenc_sig\t%s\n",
	       p->id, id_hex, enc_hex, p->cert_ok ? "ok" : "bad",
	       p->enc_sig_ok ? "ok" : (p->cert_ok ? "bad" : "unchecked"));
	if (fflush(stdout)) {
		cli_err("cannot write standard output");
		return -1;
	}
	if (verified) {
		cli_err("keys of '%s' do not check out: %s", p->id, p->why);
		return -1;
	}
	if (kc_home_peer_save(&a->home, p))
		cli_err("warning: cannot update %s/%s", a->home.dir,
			KC_HOME_PEERS);
	return 0;
}

int cmd_lookup(void *ctx, int argc, char **argv)
{
	const struct cli *cli = ctx;
	const char *id = NULL, *pass_file = NULL;
	struct kc_peer p = { .id_cert = NULL };
	struct account a;
	char what[128];
	int ret = 1, err;

	if (!parse_lookup(argc, argv, &id, &pass_file, &ret))
		return ret;
	if (account_open(&a, cli, pass_file, ACCOUNT_ID_KEY))
		return 1;
	if (!account_connect(&a)) {
		err = kc_peer_lookup(a.conn, id, &p);
		snprintf(what, sizeof(what), "lookup of '%s'", id);
		if (err)
			account_report(&a, err, what);
		else if (!show(&a, &p))
			ret = 0;
	}
	kc_peer_clear(&p);
	account_close(&a);
	return ret;
}
