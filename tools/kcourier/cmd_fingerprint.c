// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier fingerprint: the SHA-256 of a key's SubjectPublicKeyInfo, the
 * value users compare out of band (PROTOCOL.md section 5) and the form of
 * the CA pin (section 3).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "keyload.h"

static const char fingerprint_usage[] =
	"usage: kcourier fingerprint [--passphrase-file FILE] FILE\n"
	"       kcourier [--home HOME] fingerprint [ID]\n"
	"\n"
	"Prints the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of\n"
	"the key in FILE: a PUBLIC KEY, a CERTIFICATE or a private key. A\n"
	"plain private key needs no passphrase; an encrypted one asks for it\n"
	"(--passphrase-file, then $" KC_PASSPHRASE_ENV ", then the terminal).\n"
	"\n"
	"Without FILE, or with a client ID that is not a file name, prints the\n"
	"fingerprints of the id and enc keys (\"id\\tHEX\", \"enc\\tHEX\") of HOME's\n"
	"own identity, or of peer ID as last looked up ('kcourier lookup ID'):\n"
	"the values to compare out of band.\n"
	"\n"
	"  --passphrase-file FILE  first line is the passphrase\n"
	"  -h, --help              this text\n";

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_fingerprint(int argc, char **argv, const char **file,
			      const char **pass_file, int *rc)
{
	static const struct option longopts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			*pass_file = optarg;
			break;
		case 'h':
			*rc = kc_cmd_usage(fingerprint_usage, false);
			return false;
		default:
			*rc = cli_bad_option("fingerprint", fingerprint_usage,
					     c, argv);
			return false;
		}
	}
	if (optind + 1 >= argc) {
		*file = optind < argc ? argv[optind] : NULL;
		return true;
	}
	cli_err("fingerprint: unexpected argument '%s'", argv[optind + 1]);
	*rc = kc_cmd_usage(fingerprint_usage, true);
	return false;
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
