// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd rotate-seal: a new seal key (RSA-2048) and its certificate
 * from the agent CA, written over seal.key and seal.crt. A running agent
 * gets the new key through its control socket (control.h) and uses it
 * for new sessions at once; the old one it keeps for the longest session
 * TTL, for clients that have not asked GET_SEAL again yet
 * (proto/seal_rotate.h), then destroys it. The old key file is gone as
 * soon as the new one is in place.
 *
 * The key travels unencrypted over the control socket: only the agent's
 * user and root can connect (mode 0600, SO_PEERCRED), the same who can
 * read the agent's memory; the agent itself no longer has the
 * passphrase to read seal.key.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "control.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "kcourierd_cmd.h"
#include "pki.h"
#include "state.h"

#define NEW_SUFFIX ".new"

struct rotation {
	EVP_PKEY *key;
	gnutls_x509_crt_t crt;
	uint8_t *pkcs8; /* unencrypted, for the running agent; wiped */
	size_t pkcs8_len;
	gnutls_datum_t crt_der;
	char key_path[PATH_MAX], crt_path[PATH_MAX];
};

static bool parse_rotate(int argc, char **argv, const char **dir,
			 const char **pass_file, int *rc)
{
	const struct kc_opt rows[] = {
		KCD_OPT_DIR(dir),
		KCD_OPT_PASSPHRASE_FILE(pass_file, "the passphrase of the "
						   "agent keys"),
	};
	const struct kc_opts spec = {
		KCD_OPTS("rotate-seal"),
		KC_OPTS_TABLE(rows),
		.description =
			"Makes a new seal key and certificate. A running "
			"agent takes them at once\n"
			"for new sessions (DIR/control.sock) and destroys "
			"the old key after\n"
			"session_ttl.\n",
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

static int make_new(const struct kc_agent_state *st, struct rotation *rot)
{
	int ret = kc_rsa_generate(&rot->key);

	if (!ret)
		ret = kc_pki_make_seal_cert(&st->ca, rot->key, &rot->crt);
	if (!ret)
		ret = kc_pki_crt_der(rot->crt, &rot->crt_der);
	if (!ret)
		ret = kc_key_pkcs8_der(rot->key, &rot->pkcs8, &rot->pkcs8_len);
	return ret;
}

/* The new pair beside the old one, until it is renamed over it. */
static int write_new(const char *dir, const struct kc_passphrase *pass,
		     struct rotation *rot)
{
	int ret;

	snprintf(rot->key_path, sizeof(rot->key_path), "%s/%s" NEW_SUFFIX, dir,
		 KC_STATE_SEAL_KEY);
	snprintf(rot->crt_path, sizeof(rot->crt_path), "%s/%s" NEW_SUFFIX, dir,
		 KC_STATE_SEAL_CRT);
	unlink(rot->key_path); /* an interrupted earlier rotation's */
	unlink(rot->crt_path);
	ret = kc_key_save_private(rot->key_path, rot->key, pass->text,
				  pass->len);
	if (!ret)
		ret = kc_pki_crt_save(rot->crt_path, rot->crt);
	return ret;
}

/* "rotate-seal B64(PKCS#8) B64(certificate DER)" */
static int tell_agent(const char *dir, const struct rotation *rot)
{
	size_t cap =
		16 + kc_b64_len(rot->pkcs8_len) + kc_b64_len(rot->crt_der.size);
	char *req = malloc(cap), reply[KCD_CONTROL_LINE_MAX];
	int ret = req ? 0 : -ENOMEM;
	size_t n;

	if (!ret) {
		n = (size_t)snprintf(req, cap, "rotate-seal ");
		kc_b64_encode(rot->pkcs8, rot->pkcs8_len, req + n);
		n += strlen(req + n);
		req[n++] = ' ';
		kc_b64_encode(rot->crt_der.data, rot->crt_der.size, req + n);
		ret = kcd_control_ask(dir, req, reply, sizeof(reply));
		explicit_bzero(req, cap);
	}
	free(req);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		fprintf(stderr,
			"kcourierd: no agent running in %s: the new "
			"seal key is used from its next start\n",
			dir);
		return 0;
	}
	if (!ret && strcmp(reply, "ok"))
		ret = -EPROTO;
	if (ret)
		kcd_err("rotate-seal: the running agent did not take the new "
			"key (%s%s); nothing changed",
			strerror(-ret), ret == -EPROTO ? ", see its log" : "");
	else
		fprintf(stderr, "kcourierd: the running agent uses the new "
				"seal key\n");
	return ret;
}

static int put_in_place(const char *dir, const struct rotation *rot)
{
	char key[PATH_MAX], crt[PATH_MAX];

	snprintf(key, sizeof(key), "%s/%s", dir, KC_STATE_SEAL_KEY);
	snprintf(crt, sizeof(crt), "%s/%s", dir, KC_STATE_SEAL_CRT);
	if (rename(rot->key_path, key) || rename(rot->crt_path, crt))
		return -errno;
	return 0;
}

static void free_rotation(struct rotation *rot)
{
	EVP_PKEY_free(rot->key);
	gnutls_x509_crt_deinit(rot->crt);
	gnutls_free(rot->crt_der.data);
	OPENSSL_clear_free(rot->pkcs8, rot->pkcs8_len);
}

static int rotate(const char *dir, const struct kc_passphrase *pass,
		  const struct kc_agent_state *st)
{
	struct rotation rot = { 0 };
	int ret = make_new(st, &rot);

	if (ret)
		kcd_err("rotate-seal: cannot make the new key: %s",
			strerror(-ret));
	if (!ret) {
		ret = write_new(dir, pass, &rot);
		if (ret)
			kcd_err("rotate-seal: cannot write %s: %s",
				rot.key_path, strerror(-ret));
	}
	if (!ret)
		ret = tell_agent(dir, &rot);
	if (!ret) {
		ret = put_in_place(dir, &rot);
		if (ret)
			kcd_err("rotate-seal: cannot rename the new key into "
				"place: %s",
				strerror(-ret));
	}
	if (ret && rot.key_path[0]) {
		unlink(rot.key_path);
		unlink(rot.crt_path);
	}
	free_rotation(&rot);
	return ret;
}

int cmd_rotate_seal(void *ctx, int argc, char **argv)
{
	const char *dir = NULL, *pass_file = NULL;
	char err[KC_STATE_ERR_MAX] = "";
	struct kc_agent_state *st = calloc(1, sizeof(*st));
	struct kc_passphrase pass;
	int rc, ret;

	if (!st || !parse_rotate(argc, argv, &dir, &pass_file, &rc)) {
		free(st);
		return st ? rc : 1;
	}
	ret = kcd_passphrase("rotate-seal", pass_file, false, &pass);
	if (!ret) {
		ret = kc_agent_state_load(dir, &pass, st, err, sizeof(err));
		if (ret)
			kcd_err("rotate-seal: %s",
				err[0] ? err : strerror(-ret));
	}
	if (!ret)
		ret = rotate(dir, &pass, st);
	if (!ret)
		fprintf(stderr, "kcourierd: new seal key in %s/%s\n", dir,
			KC_STATE_SEAL_KEY);
	kc_passphrase_wipe(&pass);
	kc_agent_state_free(st);
	free(st);
	return ret ? 1 : 0;
}
