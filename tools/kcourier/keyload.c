// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key files for the subcommands; see keyload.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "keyload.h"
#include "base/passphrase.h"

/*
 * The passphrase is fetched only when OpenSSL finds the key encrypted, so
 * a plain key never prompts. `err` keeps why fetching failed, to tell a
 * missing passphrase from a wrong one.
 */
struct lazy_pass {
	struct kc_passphrase_src src;
	struct kc_passphrase pass;
	const char *prompt_key;
	char prompt[256];
	bool asked;
	int err;
};

static const char *const pass_env[] = { KC_PASSPHRASE_ENV, NULL };

static int lazy_supply(char *buf, size_t cap, void *arg)
{
	struct lazy_pass *lp = arg;

	lp->asked = true;
	lp->err = kc_passphrase_get(&lp->src, &lp->pass);
	if (lp->err)
		return lp->err;
	return kc_passphrase_supply(buf, cap, &lp->pass);
}

static void lazy_init(struct lazy_pass *lp, const char *key_path,
		      const char *pass_file)
{
	memset(lp, 0, sizeof(*lp));
	snprintf(lp->prompt, sizeof(lp->prompt), "Passphrase for %s: ",
		 key_path);
	lp->src.file = pass_file;
	lp->src.env = pass_env;
	lp->src.prompt = lp->prompt;
}

/* Why there is no passphrase: a file that cannot be read, or none given. */
static void report_pass_error(const char *file, int err, const char *context)
{
	if (file && err != -EINVAL)
		cli_err("cannot read passphrase file %s: %s", file,
			strerror(-err));
	else
		cli_err("%s: %s", context, kc_passphrase_strerror(err));
}

static void report_key_error(const char *path, int err,
			     const struct lazy_pass *lp, const char *what)
{
	char context[PATH_MAX + 32];

	snprintf(context, sizeof(context), "cannot read key %s", path);
	if (lp->err)
		report_pass_error(lp->src.file, lp->err, context);
	else if (err == -EBADMSG && lp->asked)
		cli_err("cannot read key %s: %s", path,
			"wrong passphrase or not a private key");
	else if (err == -EBADMSG)
		cli_err("cannot read key %s: not %s", path, what);
	else
		cli_err("cannot read key %s: %s", path, strerror(-err));
}

int cli_load_private(const char *path, const char *pass_file, EVP_PKEY **out)
{
	struct lazy_pass lp;
	int ret;

	lazy_init(&lp, path, pass_file);
	ret = kc_key_load_private(path, lazy_supply, &lp, out);
	if (ret)
		report_key_error(path, ret, &lp, "a private key in PEM form");
	kc_passphrase_wipe(&lp.pass);
	return ret ? -1 : 0;
}

int cli_load_public(const char *path, const char *pass_file, EVP_PKEY **out)
{
	struct lazy_pass lp;
	EVP_PKEY *priv = NULL;
	int ret;

	lazy_init(&lp, path, pass_file);
	ret = kc_key_load_public(path, out);
	if (ret == -ENOKEY) {
		/* Encrypted: even its public half needs the passphrase. */
		ret = kc_key_load_private(path, lazy_supply, &lp, &priv);
		if (!ret)
			ret = kc_key_public_half(priv, out);
		EVP_PKEY_free(priv);
	}
	if (ret)
		report_key_error(path, ret, &lp, "a public key, certificate "
				 "or private key in PEM form");
	kc_passphrase_wipe(&lp.pass);
	return ret ? -1 : 0;
}

int cli_check_rsa(const char *path, EVP_PKEY *key)
{
	if (kc_rsa_check(key) == 0)
		return 0;
	cli_err("%s: not an RSA-2048 key with e = 65537 (%s)", path,
		"the only kind kcourier uses");
	return -1;
}

int cli_new_passphrase(const char *pass_file, const char *dir,
		       struct kc_passphrase *out)
{
	char prompt[PATH_MAX + 64];
	struct kc_passphrase_src src = {
		.file = pass_file,
		.env = pass_env,
		.prompt = prompt,
		.confirm = true,
	};
	int ret;

	snprintf(prompt, sizeof(prompt), "New passphrase for the keys in %s: ",
		 dir);
	ret = kc_passphrase_get(&src, out);
	if (ret)
		report_pass_error(pass_file, ret, "passphrase");
	return ret ? -1 : 0;
}
