// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier fingerprint: the SHA-256 of a key's SubjectPublicKeyInfo, the
 * value users compare out of band (PROTOCOL.md section 5) and the form of
 * the CA pin (section 3).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "keyload.h"

static const char fingerprint_about[] =
	"Prints the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of\n"
	"the key in FILE: a PUBLIC KEY, a CERTIFICATE or a private key. A\n"
	"plain private key needs no passphrase; an encrypted one asks for it.\n"
	"\n"
	"Without FILE, or with a client ID that is not a file name, prints the\n"
	"fingerprints of the id and enc keys (\"id\\tHEX\", \"enc\\tHEX\") of the\n"
	"home's own identity ('kcourier [--home HOME] fingerprint'), or of\n"
	"peer ID as last looked up ('kcourier lookup ID'): the values to\n"
	"compare out of band.\n";

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_fingerprint(int argc, char **argv, const char **file,
			      const char **pass_file, int *rc)
{
	const struct kc_opt rows[] = {
		CLI_OPT_PASSPHRASE_FILE(pass_file, "the passphrase"),
	};
	const struct kc_arg args[] = {
		{ .name = "FILE|ID", .to = file, .optional = true },
	};
	const struct kc_opts spec = {
		CLI_OPTS("fingerprint"),
		KC_OPTS_TABLE(rows),
		KC_OPTS_ARGS(args),
		.description = fingerprint_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

int cmd_fingerprint(void *ctx, int argc, char **argv)
{
	const struct cli *cli = ctx;
	const char *file = NULL, *pass_file = NULL;
	EVP_PKEY *key = NULL;
	char hex[65];
	int ret = 1;

	if (!parse_fingerprint(argc, argv, &file, &pass_file, &ret))
		return ret;
	if (!file || (access(file, F_OK) &&
		      kc_client_id_valid((const uint8_t *)file, strlen(file))))
		return account_fingerprint(cli, file);
	if (cli_load_public(file, pass_file, &key))
		return 1;
	if (kc_key_fingerprint(key, hex))
		cli_err("%s: cannot encode the public key", file);
	else if (printf("%s\n", hex) < 0 || fflush(stdout))
		cli_err("cannot write standard output");
	else
		ret = 0;
	EVP_PKEY_free(key);
	return ret;
}
