// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier register: becomes a client of an agent (PROTOCOL.md section 4,
 * REGISTER). Makes the id and enc keys, spends the operator's one-time
 * token on a connection without a client certificate, checks what comes
 * back against the CA pin, and only then writes keys and certificates to
 * the home directory, so a refused registration leaves no keys behind and
 * can be retried with another token.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "client/client.h"
#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "client/enroll.h"
#include "client/home.h"
#include "crypto/keyfile.h"
#include "keyload.h"
#include "base/passphrase.h"

#define CONNECT_TIMEOUT_MS 10000

static const char register_about[] =
	"Registers ID with the agent: makes two RSA-2048 key pairs (id and\n"
	"enc), spends the one-time TOKEN from the operator ('kcourierd token'),\n"
	"and stores keys, certificates and settings in HOME (default\n"
	"~/.config/kcourier/ID, mode 0700). The agent is trusted only if its CA\n"
	"matches HEX, the SHA-256 of the CA's public key that 'kcourierd init'\n"
	"printed. Prints the fingerprints of the new keys. A new passphrase\n"
	"from the terminal is asked for twice.\n";

struct reg {
	const char *agent, *pin_arg, *token, *id, *pass_file;
	char pin[KC_PIN_HEX_LEN + 1];
	struct kc_home home;
	struct kc_passphrase pass;
	struct kc_enroll en;
	const char *written[16];
	int n_written;
};

static const char *check_pin(const char *arg, void *pin)
{
	return kc_pin_normalize(arg, pin) ? "64 hex digits" : NULL;
}

/* REGISTER carries the token with a u16 length. */
static const char *check_token(const char *arg, void *ctx)
{
	if (arg[0] && strlen(arg) <= UINT16_MAX)
		return NULL;
	return "a token of 1 to 65535 bytes";
}

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_register(int argc, char **argv, struct reg *r, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "agent", KC_OPT_STRING(&r->agent), .required = true,
		  .metavar = "ADDR:PORT",
		  .help = "the agent (host:port, a.b.c.d:port, [v6]:port)" },
		{ .name = "ca-fingerprint", KC_OPT_STRING(&r->pin_arg),
		  .required = true, .metavar = "HEX", .check = check_pin,
		  .ctx = r->pin, .help = "64 hex digits" },
		{ .name = "token", KC_OPT_STRING(&r->token), .required = true,
		  .metavar = "TOKEN", .check = check_token,
		  .help = "one-time registration token" },
		{ .name = "id", KC_OPT_STRING(&r->id), .required = true,
		  .metavar = "ID", .check = cli_check_client_id,
		  .help = "client id: [a-z0-9][a-z0-9._-]{0,63}" },
		CLI_OPT_PASSPHRASE_FILE(&r->pass_file,
					"the new passphrase for the keys"),
	};
	const struct kc_opts spec = {
		CLI_HOME_OPTS("register"),
		KC_OPTS_TABLE(rows),
		.description = register_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

/* An existing identity is never overwritten: checked before the slow part. */
static int prepare_home(struct reg *r, const struct cli *cli)
{
	static const char *const taken[] = { KC_HOME_CONFIG, KC_HOME_ID_KEY,
					     KC_HOME_ENC_KEY };
	char *dir = NULL, path[PATH_MAX];
	size_t i;
	int ret;

	if (cli->home)
		dir = strdup(cli->home);
	else if (kc_home_default_dir(r->id, &dir))
		dir = NULL;
	if (!dir) {
		cli_err("register: cannot find a home directory: pass --home");
		return -1;
	}
	ret = kc_home_create(&r->home, dir);
	if (ret == -EPERM)
		cli_err("%s is not private (owned by someone else, or open to group or others): use a directory only you can read",
			dir);
	else if (ret)
		cli_err("cannot create %s: %s", dir, strerror(-ret));
	free(dir);
	for (i = 0; !ret && i < sizeof(taken) / sizeof(taken[0]); i++) {
		if (!kc_home_path(&r->home, taken[i], path, sizeof(path)) &&
		    access(path, F_OK) == 0) {
			cli_err("%s exists: %s already holds an identity",
				path, r->home.dir);
			ret = -EEXIST;
		}
	}
	return ret ? -1 : 0;
}

static int enroll(struct reg *r)
{
	char text[128];
	int ret;

	ret = kc_enroll_keys(&r->en, r->id);
	if (!ret)
		ret = kc_enroll_register(&r->en, r->agent, r->pin, r->token,
					 CONNECT_TIMEOUT_MS);
	if (ret == -EREMOTEIO)
		cli_err("registration refused: %s",
			account_status_text((unsigned int)r->en.status, text,
					    sizeof(text)));
	else if (ret)
		cli_err("%s", r->en.why);
	return ret ? -1 : 0;
}

static int save_key(struct reg *r, const char *name, EVP_PKEY *key,
		    bool private)
{
	char path[PATH_MAX];
	int ret;

	ret = kc_home_path(&r->home, name, path, sizeof(path));
	if (!ret)
		ret = private ? kc_key_save_private(path, key, r->pass.text,
						    r->pass.len) :
				kc_key_save_public(path, key);
	if (!ret)
		r->written[r->n_written++] = name;
	return ret;
}

static int save_cert(struct reg *r, const char *name, struct kc_bytes der)
{
	int ret = kc_home_save_cert(&r->home, name, der);

	if (!ret)
		r->written[r->n_written++] = name;
	return ret;
}

/* Config last: its presence is what marks the home as registered. */
static int save_all(struct reg *r)
{
	const struct kc_enroll *e = &r->en;
	int ret;

	ret = save_key(r, KC_HOME_ID_KEY, e->id_key, true);
	if (!ret)
		ret = save_key(r, KC_HOME_ID_PUB, e->id_key, false);
	if (!ret)
		ret = save_key(r, KC_HOME_ENC_KEY, e->enc_key, true);
	if (!ret)
		ret = save_key(r, KC_HOME_ENC_PUB, e->enc_key, false);
	if (!ret)
		ret = save_cert(r, KC_HOME_CLIENT_CERT,
				(struct kc_bytes){ e->client_cert,
						   e->client_cert_len });
	if (!ret)
		ret = save_cert(r, KC_HOME_CA_CERT,
				(struct kc_bytes){ e->ca_cert, e->ca_cert_len });
	if (!ret)
		ret = save_cert(r, KC_HOME_SEAL_CERT,
				(struct kc_bytes){ e->seal_cert,
						   e->seal_cert_len });
	if (!ret) {
		strcpy(r->home.id, r->id);
		snprintf(r->home.agent, sizeof(r->home.agent), "%s", r->agent);
		strcpy(r->home.pin, r->pin);
		ret = kc_home_save_config(&r->home);
	}
	if (ret)
		cli_err("registered, but cannot write %s: %s", r->home.dir,
			strerror(-ret));
	return ret ? -1 : 0;
}

static void remove_written(struct reg *r)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < r->n_written; i++) {
		if (!kc_home_path(&r->home, r->written[i], path, sizeof(path)))
			unlink(path);
	}
}

static int print_result(struct reg *r)
{
	char id_hex[65], enc_hex[65];

	kc_spki_fingerprint(r->en.id_spki, r->en.id_spki_len, id_hex);
	kc_spki_fingerprint(r->en.enc_spki, r->en.enc_spki_len, enc_hex);
	if (printf("registered %s in %s\nid\t%s\nenc\t%s\n", r->id,
		   r->home.dir, id_hex, enc_hex) < 0 ||
	    fflush(stdout)) {
		cli_err("cannot write standard output");
		return -1;
	}
	return 0;
}

static int do_register(struct reg *r, const struct cli *cli)
{
	if (prepare_home(r, cli) ||
	    cli_new_passphrase(r->pass_file, r->home.dir, &r->pass) ||
	    enroll(r))
		return -1;
	if (save_all(r)) {
		remove_written(r);
		return -1;
	}
	return print_result(r);
}

int cmd_register(void *ctx, int argc, char **argv)
{
	const struct cli *cli = ctx;
	struct reg r;
	int ret = 1;

	memset(&r, 0, sizeof(r));
	r.en.status = -1;
	if (!parse_register(argc, argv, &r, &ret))
		return ret;
	if (!do_register(&r, cli))
		ret = 0;
	kc_passphrase_wipe(&r.pass);
	kc_enroll_clear(&r.en);
	kc_home_release(&r.home);
	return ret;
}
