// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier open: decrypt a JSON envelope (PROTOCOL.md section 2).
 *
 * Whatever is wrong with the envelope, the user sees one message and gets
 * no output at all: the plaintext is written only after the MAC and the
 * padding have both passed, and --out appears whole or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kcourier_cmd.h"
#include "crypto/crypto_ops.h"
#include "client/envelope.h"
#include "io.h"
#include "crypto/keyfile.h"
#include "keyload.h"

static const char open_about[] =
	"Decrypts a JSON envelope made by 'kcourier seal' (default: from\n"
	"standard input) and writes the message to --out (default: standard\n"
	"output). Nothing is written unless the envelope is authentic.\n";

#define OPEN_FAILED "cannot open: authentication failed"

struct open_opts {
	const char *key, *in, *out, *pass_file;
};

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_open(int argc, char **argv, struct open_opts *o, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "key", KC_OPT_STRING(&o->key), .required = true,
		  .metavar = "KEY.pem",
		  .help = "the recipient's private key (encrypted or plain "
			  "PKCS#8, or traditional RSA PEM)" },
		CLI_OPT_IN(&o->in, "the envelope"),
		CLI_OPT_OUT(&o->out, "the message"),
		CLI_OPT_PASSPHRASE_FILE(&o->pass_file, "the key's passphrase"),
	};
	const struct kc_opts spec = {
		CLI_OPTS("open"),
		KC_OPTS_TABLE(rows),
		.description = open_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

/*
 * An envelope too large to be one is as bad as any other, so it gets the
 * same message; only a file that cannot be read at all is named.
 */
static int read_envelope(const char *in, uint8_t **json, size_t *len)
{
	int ret = cli_read_all(in, KC_ENVELOPE_MAX, json, len);

	if (ret == -EFBIG)
		cli_err(OPEN_FAILED);
	else if (ret)
		cli_err("cannot read %s: %s", cli_name(in, true),
			strerror(-ret));
	return ret;
}

/* Hands the key to the crypto tier; the private bytes are wiped here. */
static int load_unwrap_key(struct kc_crypto *c, const char *path,
			   EVP_PKEY *key, kc_handle_t *h)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int ret;

	ret = kc_key_pkcs8_der(key, &der, &len);
	if (!ret)
		ret = c->ops->load_unwrap_key(c, der, len, h);
	OPENSSL_clear_free(der, len);
	if (ret)
		cli_err("cannot use key %s: %s", path, strerror(-ret));
	return ret;
}

static int open_envelope(struct kc_crypto *c, kc_handle_t h,
			 const struct open_opts *o, const uint8_t *json,
			 size_t json_len)
{
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int ret;

	ret = kc_envelope_open(c, h, (const char *)json, json_len, &pt,
			       &pt_len);
	if (ret == -ENOMEM)
		cli_err("out of memory");
	else if (ret)
		cli_err(OPEN_FAILED);
	if (ret)
		return ret;
	ret = cli_write_out(o->out, pt, pt_len, 0600);
	if (ret)
		cli_err("cannot write %s: %s", cli_name(o->out, false),
			strerror(-ret));
	explicit_bzero(pt, pt_len);
	free(pt);
	return ret;
}

static int open_with_key(EVP_PKEY *key, const struct open_opts *o,
			 const uint8_t *json, size_t json_len)
{
	kc_handle_t h = KC_HANDLE_NONE;
	struct kc_crypto *c = NULL;
	int ret;

	ret = kc_crypto_open("user", &c);
	if (ret) {
		cli_err("no crypto backend: %s", strerror(-ret));
		return ret;
	}
	ret = load_unwrap_key(c, o->key, key, &h);
	if (!ret)
		ret = open_envelope(c, h, o, json, json_len);
	if (h != KC_HANDLE_NONE)
		c->ops->unload_key(c, h);
	kc_crypto_close(c);
	return ret;
}

int cmd_open(void *ctx, int argc, char **argv)
{
	struct open_opts o = { .key = NULL };
	EVP_PKEY *key = NULL;
	uint8_t *json = NULL;
	size_t json_len = 0;
	int ret = 1;

	if (!parse_open(argc, argv, &o, &ret))
		return ret;
	/* Read first: a missing file should not cost a passphrase prompt. */
	if (read_envelope(o.in, &json, &json_len))
		goto cleanup;
	if (cli_load_private(o.key, o.pass_file, &key) ||
	    cli_check_rsa(o.key, key))
		goto cleanup;
	if (open_with_key(key, &o, json, json_len) == 0)
		ret = 0;
cleanup:
	EVP_PKEY_free(key);
	free(json);
	return ret;
}
