// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier seal: encrypt a file to a public key as the one-shot JSON
 * envelope of PROTOCOL.md section 2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kcourier_cmd.h"
#include "crypto/crypto_ops.h"
#include "client/envelope.h"
#include "io.h"
#include "keyload.h"

static const char seal_about[] =
	"Encrypts FILE (default: standard input) so that only the holder of\n"
	"the private key for PUB.pem can read it, and writes the JSON\n"
	"envelope and a newline to --out (default: standard output).\n";

struct seal_opts {
	const char *to, *in, *out, *pass_file;
};

/* The plaintext whose envelope stays within KC_ENVELOPE_MAX, roughly. */
#define SEAL_INPUT_MAX (KC_ENVELOPE_MAX / 4 * 3)

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_seal(int argc, char **argv, struct seal_opts *o, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "to", KC_OPT_STRING(&o->to), .required = true,
		  .metavar = "PUB.pem",
		  .help = "recipient: a PUBLIC KEY, a CERTIFICATE or a private "
			  "key file (RSA-2048, e = 65537)" },
		CLI_OPT_IN(&o->in, "the message to seal"),
		CLI_OPT_OUT(&o->out, "the envelope"),
		{ .name = "passphrase-file", KC_OPT_STRING(&o->pass_file),
		  .metavar = "FILE",
		  .help = "if PUB.pem is an encrypted private key: its first "
			  "line is the passphrase" },
	};
	const struct kc_opts spec = {
		CLI_OPTS("seal"),
		KC_OPTS_TABLE(rows),
		.description = seal_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

static int read_message(const char *in, uint8_t **pt, size_t *pt_len)
{
	int ret = cli_read_all(in, SEAL_INPUT_MAX, pt, pt_len);

	if (ret == -EFBIG)
		cli_err("cannot seal %s: larger than %zu MiB",
			cli_name(in, true), (size_t)SEAL_INPUT_MAX >> 20);
	else if (ret)
		cli_err("cannot read %s: %s", cli_name(in, true),
			strerror(-ret));
	return ret;
}

/* The envelope and its newline, written in one piece. */
static int write_envelope(const char *out, char *json, size_t len)
{
	char *line = realloc(json, len + 2);
	int ret;

	if (!line) {
		free(json);
		cli_err("out of memory");
		return -ENOMEM;
	}
	line[len] = '\n';
	ret = cli_write_out(out, line, len + 1, 0644);
	if (ret)
		cli_err("cannot write %s: %s", cli_name(out, false),
			strerror(-ret));
	free(line);
	return ret;
}

static int seal_message(EVP_PKEY *pub, const struct seal_opts *o,
			const uint8_t *pt, size_t pt_len)
{
	struct kc_crypto *c = NULL;
	size_t json_len;
	char *json;
	int ret;

	ret = kc_crypto_open("user", &c);
	if (ret) {
		cli_err("no crypto backend: %s", strerror(-ret));
		return ret;
	}
	ret = kc_envelope_seal(c, pub, pt, pt_len, &json, &json_len);
	kc_crypto_close(c);
	if (ret) {
		cli_err("cannot seal %s: %s", cli_name(o->in, true),
			strerror(-ret));
		return ret;
	}
	return write_envelope(o->out, json, json_len);
}

int cmd_seal(void *ctx, int argc, char **argv)
{
	struct seal_opts o = { .to = NULL };
	EVP_PKEY *pub = NULL;
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int ret = 1;

	if (!parse_seal(argc, argv, &o, &ret))
		return ret;
	if (cli_load_public(o.to, o.pass_file, &pub) ||
	    cli_check_rsa(o.to, pub))
		goto cleanup;
	if (read_message(o.in, &pt, &pt_len))
		goto cleanup;
	if (seal_message(pub, &o, pt, pt_len) == 0)
		ret = 0;
cleanup:
	if (pt) {
		explicit_bzero(pt, pt_len);
		free(pt);
	}
	EVP_PKEY_free(pub);
	return ret;
}
