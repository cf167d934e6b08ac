// SPDX-License-Identifier: GPL-2.0-only
/*
 * `kcourier fingerprint [ID]`: the fingerprints users compare out of band
 * (PROTOCOL.md section 5), read from the home directory alone: our own
 * public key files, or a peer's keys as the last LOOKUP cached them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"

static int open_home_only(const struct cli *cli, struct kc_home *h)
{
	char *dir = NULL;
	int ret;

	if (account_home_dir(cli, &dir))
		return -1;
	ret = kc_home_open(h, dir);
	if (ret)
		cli_err("%s: not a registered kcourier home (%s)", dir,
			ret == -ENOENT ? "no " KC_HOME_CONFIG : strerror(-ret));
	free(dir);
	return ret ? -1 : 0;
}

static int own_fingerprint(const struct kc_home *h, const char *name,
			   char hex[65])
{
	char path[PATH_MAX];
	EVP_PKEY *key = NULL;
	int ret;

	ret = kc_home_path(h, name, path, sizeof(path));
	if (!ret)
		ret = kc_key_load_public(path, &key);
	if (!ret)
		ret = kc_key_fingerprint(key, hex);
	EVP_PKEY_free(key);
	if (ret)
		cli_err("cannot read %s/%s: %s", h->dir, name,
			ret == -EBADMSG ? "not a public key" : strerror(-ret));
	return ret ? -1 : 0;
}

static int fingerprints(const struct kc_home *h, const char *id,
			char id_hex[65], char enc_hex[65])
{
	struct kc_peer p;
	int ret;

	if (!id || !strcmp(id, h->id))
		return own_fingerprint(h, KC_HOME_ID_PUB, id_hex) ||
		       own_fingerprint(h, KC_HOME_ENC_PUB, enc_hex) ? -1 : 0;
	ret = kc_home_peer_load(h, id, &p);
	if (ret == -ENOENT) {
		cli_err("fingerprint: '%s' has not been looked up from %s (run 'kcourier lookup %s')",
			id, h->dir, id);
		return -1;
	}
	if (!ret)
		ret = kc_peer_fingerprints(&p, id_hex, enc_hex);
	kc_peer_clear(&p);
	if (ret)
		cli_err("%s/%s: damaged entry for '%s'", h->dir, KC_HOME_PEERS,
			id);
	return ret ? -1 : 0;
}

int account_fingerprint(const struct cli *cli, const char *id)
{
	char id_hex[65], enc_hex[65];
	struct kc_home h;
	int ret = 1;

	if (open_home_only(cli, &h))
		return 1;
	if (!fingerprints(&h, id, id_hex, enc_hex)) {
		if (printf("id\t%s\nenc\t%s\n", id_hex, enc_hex) < 0 ||
		    fflush(stdout))
			cli_err("cannot write standard output");
		else
			ret = 0;
	}
	kc_home_release(&h);
	return ret;
}
