// SPDX-License-Identifier: GPL-2.0-only
/*
 * A registered identity for the network subcommands; see account.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/clock.h"
#include "account.h"
#include "tls/clientcred.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "keyload.h"
#include "base/passphrase.h"

#define CONNECT_TIMEOUT_MS 10000
#define CERT_MAX 65536

static const char *const status_reasons[] = {
	[KC_OK] = "accepted",
	[KC_BAD_FRAME] = "the agent could not decode the request",
	[KC_UNKNOWN_TYPE] = "request type not supported by the agent",
	[KC_TOO_LARGE] = "too large for the agent",
	[KC_BAD_MAC] = "message authentication failed",
	[KC_REPLAY] = "sequence number or message counter already used",
	[KC_UNKNOWN_SESSION] = "agent session unknown or expired",
	[KC_NOT_FOUND] = "no such client",
	[KC_UNAUTHORIZED] = "certificate unknown or revoked",
	[KC_BAD_TOKEN] = "token unknown or already used",
	[KC_EXISTS] = "id already registered",
	[KC_TRY_LATER] = "agent busy or store full, try again later",
	[KC_INTERNAL] = "agent internal error",
	[KC_RATE_LIMITED] = "too many requests",
	[KC_EXPIRED] = "token expired",
	[KC_BAD_REQUEST] = "the agent refused the request as malformed",
};

const char *account_status_text(unsigned int code, char *buf, size_t cap)
{
	if (code > KC_STATUS_MAX)
		snprintf(buf, cap, "UNKNOWN(%u)", code);
	else
		snprintf(buf, cap, "%s (%s)", kc_status_name(code),
			 status_reasons[code]);
	return buf;
}

void account_report(const struct account *a, int err, const char *what)
{
	char text[128];

	if (err == -EREMOTEIO && a->conn)
		cli_err("%s: %s", what,
			account_status_text(kc_client_status(a->conn), text,
					    sizeof(text)));
	else if (a->conn && kc_client_error(a->conn)[0])
		cli_err("%s: %s", what, kc_client_error(a->conn));
	else
		cli_err("%s: %s", what, strerror(-err));
}

/* Opening. */

int account_home_dir(const struct cli *cli, char **dir)
{
	char *base = NULL;
	int ret;

	if (cli->home) {
		*dir = strdup(cli->home);
		return *dir ? 0 : -1;
	}
	ret = kc_home_find_default(dir);
	if (!ret)
		return 0;
	kc_home_default_dir(NULL, &base);
	if (ret == -ENOTUNIQ)
		cli_err("several identities under %s: choose one with --home",
			base ? base : "~/.config/kcourier");
	else
		cli_err("no identity under %s: run 'kcourier register' or pass --home",
			base ? base : "~/.config/kcourier");
	free(base);
	return -1;
}

static int open_home(struct account *a, const struct cli *cli)
{
	char *dir = NULL;
	int ret;

	if (account_home_dir(cli, &dir))
		return -1;
	ret = kc_home_open(&a->home, dir);
	if (ret == -ENOENT)
		cli_err("%s: not a registered kcourier home (no %s)", dir,
			KC_HOME_CONFIG);
	else if (ret == -EBADMSG)
		cli_err("%s/%s: damaged", dir, KC_HOME_CONFIG);
	else if (ret)
		cli_err("%s: %s", dir, strerror(-ret));
	free(dir);
	return ret ? -1 : 0;
}

static int load_cert(struct account *a, const char *name, uint8_t **der,
		     size_t *len)
{
	int ret = kc_home_load_cert(&a->home, name, der, len);

	if (ret)
		cli_err("%s/%s: %s", a->home.dir, name,
			ret == -EBADMSG ? "not a certificate" : strerror(-ret));
	return ret ? -1 : 0;
}

static int load_key(struct account *a, const char *name,
		    struct kc_passphrase *pass, EVP_PKEY **key)
{
	char path[PATH_MAX];
	int ret;

	ret = kc_home_path(&a->home, name, path, sizeof(path));
	if (!ret)
		ret = kc_key_load_private(path, kc_passphrase_supply, pass,
					  key);
	if (ret == -EBADMSG)
		cli_err("cannot read key %s: wrong passphrase or not a private key",
			path);
	else if (ret)
		cli_err("cannot read key %s: %s", path, strerror(-ret));
	return ret ? -1 : 0;
}

/* One passphrase for both keys, asked for once. */
static int load_keys(struct account *a, unsigned int keys)
{
	static const char *const env[] = { KC_PASSPHRASE_ENV, NULL };
	char prompt[PATH_MAX + 32];
	struct kc_passphrase_src src = { .file = a->pass_file, .env = env,
					 .prompt = prompt };
	struct kc_passphrase pass;
	int ret;

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", a->home.dir);
	ret = kc_passphrase_get(&src, &pass);
	if (ret) {
		cli_err("passphrase: %s", kc_passphrase_strerror(ret));
		return -1;
	}
	ret = 0;
	if (keys & ACCOUNT_ID_KEY)
		ret = load_key(a, KC_HOME_ID_KEY, &pass, &a->id_key);
	if (!ret && (keys & ACCOUNT_ENC_KEY))
		ret = load_key(a, KC_HOME_ENC_KEY, &pass, &a->enc_key);
	kc_passphrase_wipe(&pass);
	return ret;
}

static int load_unwrap_key(struct account *a)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int ret;

	ret = kc_key_pkcs8_der(a->enc_key, &der, &len);
	if (!ret)
		ret = a->crypto->ops->load_unwrap_key(a->crypto, der, len,
						      &a->enc_unwrap);
	OPENSSL_clear_free(der, len);
	return ret;
}

/*
 * The user tier: the client keeps every K for its state file anyway, so a
 * kernel tier would only add a crossing per message.
 */
static int start_crypto(struct account *a)
{
	int ret;

	ret = kc_crypto_open("user", &a->crypto);
	if (!ret && a->enc_key)
		ret = load_unwrap_key(a);
	if (!ret && a->enc_key && a->id_key)
		ret = kc_e2e_create(a->crypto, a->home.id, a->id_key,
				    a->enc_key, &a->e2e);
	if (ret)
		cli_err("crypto: %s", strerror(-ret));
	return ret ? -1 : 0;
}

int account_open(struct account *a, const struct cli *cli,
		 const char *pass_file, unsigned int keys)
{
	memset(a, 0, sizeof(*a));
	a->lock_fd = -1;
	a->enc_unwrap = KC_HANDLE_NONE;
	a->pass_file = pass_file;
	if (open_home(a, cli) ||
	    load_cert(a, KC_HOME_CA_CERT, &a->ca, &a->ca_len) ||
	    load_cert(a, KC_HOME_CLIENT_CERT, &a->client_cert,
		      &a->client_cert_len) ||
	    (keys && load_keys(a, keys)) || start_crypto(a)) {
		account_close(a);
		return -1;
	}
	return 0;
}

void account_close(struct account *a)
{
	kc_client_close(a->conn);
	kc_e2e_free(a->e2e);
	if (a->crypto && a->enc_unwrap != KC_HANDLE_NONE)
		a->crypto->ops->unload_key(a->crypto, a->enc_unwrap);
	kc_crypto_close(a->crypto);
	kc_home_unlock(a->lock_fd);
	EVP_PKEY_free(a->id_key);
	EVP_PKEY_free(a->enc_key);
	free(a->ca);
	free(a->client_cert);
	kc_home_release(&a->home);
	memset(a, 0, sizeof(*a));
	a->lock_fd = -1;
}

int account_connect(struct account *a)
{
	struct kc_client_cred cc;
	int ret;

	ret = kc_client_cred_init(&cc, a->client_cert, a->client_cert_len,
				  a->id_key);
	if (ret) {
		cli_err("id key: %s", strerror(-ret));
		return -1;
	}
	ret = kc_client_connect(a->home.agent, a->home.pin, &cc.cred,
				CONNECT_TIMEOUT_MS, &a->conn);
	kc_client_cred_wipe(&cc);
	if (ret)
		cli_err("cannot connect to the agent at %s: %s", a->home.agent,
			kc_tls_client_strerror());
	return ret ? -1 : 0;
}

int account_hang_up(struct account *a)
{
	return a->conn ? kc_client_shutdown(a->conn, HANGUP_BOUND_MS) : 0;
}

/* State. */

int account_load_state(struct account *a, const char *name)
{
	json_t *doc = NULL;
	int ret;

	a->state_name = name;
	ret = kc_home_lock(&a->home, name, &a->lock_fd);
	if (!ret)
		ret = kc_home_state_load(&a->home, name, a->crypto,
					 a->enc_unwrap, &doc);
	if (ret == -ENOENT)
		return 0;
	if (!ret)
		ret = strcmp(name, KC_HOME_STATE_IN) ?
			      kc_e2e_import_out(a->e2e, doc) :
			      kc_e2e_import_in(a->e2e, doc);
	kc_e2e_json_free(doc);
	if (ret == -EBADMSG)
		cli_err("%s/%s: cannot be opened (damaged, or sealed to another key)",
			a->home.dir, name);
	else if (ret)
		cli_err("%s/%s: %s", a->home.dir, name, strerror(-ret));
	return ret ? -1 : 0;
}

int account_save_state(struct account *a)
{
	json_t *doc = NULL;
	int ret;

	ret = strcmp(a->state_name, KC_HOME_STATE_IN) ?
		      kc_e2e_export_out(a->e2e, &doc) :
		      kc_e2e_export_in(a->e2e, &doc);
	if (!ret)
		ret = kc_home_state_save(&a->home, a->state_name, a->crypto,
					 a->enc_key, doc);
	kc_e2e_json_free(doc);
	if (ret)
		cli_err("cannot save %s/%s: %s", a->home.dir, a->state_name,
			strerror(-ret));
	return ret ? -1 : 0;
}

/* Peers. */

static void warn_if_changed(const struct account *a, const struct kc_peer *p)
{
	struct kc_peer cached;

	if (kc_home_peer_load(&a->home, p->id, &cached))
		return;
	if (!kc_peer_same_keys(&cached, p))
		cli_err("warning: the keys of '%s' changed since the last lookup; "
			"compare fingerprints out of band ('kcourier lookup %s')",
			p->id, p->id);
	kc_peer_clear(&cached);
}

/*
 * -ENOKEY: the agent has no acceptable keys for id (NOT_FOUND, or keys
 * that fail the checks). Anything else means it could not be asked now.
 */
static int lookup_error(const struct account *a, int err)
{
	if (err != -EREMOTEIO)
		return -EIO;
	return kc_client_status(a->conn) == KC_NOT_FOUND ? -ENOKEY : -EAGAIN;
}

static int fetch_peer(struct account *a, const char *id, struct kc_peer *p,
		      bool report)
{
	char what[128];
	int ret;

	ret = kc_peer_lookup(a->conn, id, p);
	if (ret) {
		snprintf(what, sizeof(what), "lookup of '%s'", id);
		if (report)
			account_report(a, ret, what);
		return lookup_error(a, ret);
	}
	if (kc_peer_verify(p, (struct kc_bytes){ a->ca, a->ca_len })) {
		if (report)
			cli_err("keys of '%s' from the agent do not check out: %s",
				id, p->why);
		kc_peer_clear(p);
		return -ENOKEY;
	}
	warn_if_changed(a, p);
	if (kc_home_peer_save(&a->home, p))
		fprintf(stderr, "kcourier: warning: cannot update %s/%s\n",
			a->home.dir, KC_HOME_PEERS);
	return 0;
}

static int peer_get(struct account *a, const char *id, bool fresh,
		    struct kc_peer *p, bool report)
{
	if (!fresh && !kc_home_peer_load(&a->home, id, p)) {
		if (!kc_peer_verify(p, (struct kc_bytes){ a->ca, a->ca_len }))
			return 0;
		kc_peer_clear(p);
	}
	if (a->conn)
		return fetch_peer(a, id, p, report);
	if (report)
		cli_err("'%s' is not in %s/%s", id, a->home.dir, KC_HOME_PEERS);
	return -ENOKEY;
}

int account_peer(struct account *a, const char *id, bool fresh,
		 struct kc_peer *p)
{
	return peer_get(a, id, fresh, p, true) ? -1 : 0;
}

int account_sender_key(void *arg, const char *sender, bool fresh,
		       EVP_PKEY **pub)
{
	struct kc_peer p;
	int ret;

	ret = peer_get(arg, sender, fresh, &p, false);
	if (ret)
		return ret;
	*pub = p.id_pub;
	p.id_pub = NULL;
	kc_peer_clear(&p);
	return 0;
}
