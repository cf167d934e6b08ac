// SPDX-License-Identifier: GPL-2.0-only
/*
 * `kcourierd init`: a new state directory (see state.h for its layout).
 *
 * Order matters: keys first (nothing is worth keeping without them), then
 * certificates, the store, and the configuration last, because its
 * presence marks the directory initialised. Any failure removes what
 * this run created, so a retry starts from an empty directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "base/fileio.h"
#include "crypto/keyfile.h"
#include "state_int.h"
#include "store/sqlite.h"
#include "store/store.h"

struct init_keys {
	EVP_PKEY *ca, *tls, *seal;
};

struct init_certs {
	struct kc_pki_ca ca;
	gnutls_x509_crt_t tls, seal;
};

/* Everything init may create, in the order it is removed. */
static const char *const made_files[] = {
	KC_STATE_CONFIG, KC_STATE_STORE "-wal", KC_STATE_STORE "-shm",
	KC_STATE_STORE,	 KC_STATE_SEAL_CRT,	KC_STATE_TLS_CRT,
	KC_STATE_CA_CRT, KC_STATE_SEAL_KEY,	KC_STATE_TLS_KEY,
	KC_STATE_CA_KEY,
};

static int dir_is_empty(const char *dir)
{
	struct dirent *e;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while (!ret && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ret = -ENOTEMPTY;
	closedir(d);
	return ret;
}

/* An existing dir must be empty, and certainly not initialised. */
static int check_existing(struct state_ctx *c)
{
	int ret;

	if (access(state_path(c, KC_STATE_CONFIG), F_OK) == 0)
		return state_fail_plain(c, -EEXIST,
					"%s is already initialised (%s "
					"exists); refusing to overwrite it",
					c->dir, KC_STATE_CONFIG);
	ret = dir_is_empty(c->dir);
	if (ret == -ENOTEMPTY)
		return state_fail_plain(
			c, ret,
			"%s is not empty; init wants a new or empty directory",
			c->dir);
	return ret ? state_fail(c, ret, "cannot read %s", c->dir) : 0;
}

int kc_state_init_check(const char *dir, char *err, size_t err_len)
{
	struct state_ctx c = { .dir = dir, .err = err, .err_len = err_len };
	struct stat sb;

	if (stat(dir, &sb))
		return errno == ENOENT ? 0 : state_fail(&c, -errno, "%s", dir);
	return check_existing(&c);
}

/* A new directory, or an empty existing one; both end up mode 0700. */
static int prepare_dir(struct state_ctx *c, bool *made)
{
	int ret;

	*made = mkdir(c->dir, 0700) == 0;
	if (!*made && errno != EEXIST)
		return state_fail(c, -errno, "cannot create %s", c->dir);
	ret = *made ? 0 : check_existing(c);
	if (ret)
		return ret;
	/* mkdir's mode passed through the umask; the directory must be 0700. */
	if (chmod(c->dir, 0700))
		return state_fail(c, -errno, "cannot chmod %s", c->dir);
	return 0;
}

static void remove_made(struct state_ctx *c, bool made_dir)
{
	size_t i;

	for (i = 0; i < sizeof(made_files) / sizeof(made_files[0]); i++)
		unlink(state_path(c, made_files[i]));
	if (made_dir)
		rmdir(c->dir);
}

static int make_keys(struct state_ctx *c, struct init_keys *k)
{
	int ret;

	ret = kc_pki_ec_generate(&k->ca);
	if (!ret)
		ret = kc_pki_ec_generate(&k->tls);
	if (!ret)
		ret = kc_rsa_generate(&k->seal);
	return ret ? state_fail(c, ret, "cannot generate keys") : 0;
}

static int save_key(struct state_ctx *c, const char *name, EVP_PKEY *key,
		    const struct kc_passphrase *pass)
{
	int ret = kc_key_save_private(state_path(c, name), key, pass->text,
				      pass->len);

	return ret ? state_fail(c, ret, "cannot write %s", c->path) : 0;
}

static int save_keys(struct state_ctx *c, struct init_keys *k,
		     const struct kc_passphrase *pass)
{
	int ret;

	ret = save_key(c, KC_STATE_CA_KEY, k->ca, pass);
	if (!ret)
		ret = save_key(c, KC_STATE_TLS_KEY, k->tls, pass);
	if (!ret)
		ret = save_key(c, KC_STATE_SEAL_KEY, k->seal, pass);
	return ret;
}

static int make_certs(struct state_ctx *c, struct init_keys *k,
		      struct init_certs *crt)
{
	int ret;

	ret = kc_pki_make_ca(k->ca, &crt->ca);
	if (!ret)
		ret = kc_pki_make_tls_cert(&crt->ca, k->tls, &crt->tls);
	if (!ret)
		ret = kc_pki_make_seal_cert(&crt->ca, k->seal, &crt->seal);
	return ret ? state_fail(c, ret, "cannot issue the agent certificates")
		   : 0;
}

static int save_cert(struct state_ctx *c, const char *name,
		     gnutls_x509_crt_t crt)
{
	int ret = kc_pki_crt_save(state_path(c, name), crt);

	return ret ? state_fail(c, ret, "cannot write %s", c->path) : 0;
}

static int save_certs(struct state_ctx *c, struct init_certs *crt)
{
	int ret;

	ret = save_cert(c, KC_STATE_CA_CRT, crt->ca.crt);
	if (!ret)
		ret = save_cert(c, KC_STATE_TLS_CRT, crt->tls);
	if (!ret)
		ret = save_cert(c, KC_STATE_SEAL_CRT, crt->seal);
	return ret;
}

static int make_store(struct state_ctx *c)
{
	struct kc_store *st = NULL;
	int ret;

	ret = kc_sqlite_open(state_path(c, KC_STATE_STORE), true, &st);
	kc_store_close(st);
	return ret ? state_fail(c, ret, "cannot create %s", c->path) : 0;
}

static int write_config(struct state_ctx *c, const struct kc_agent_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	f = open_memstream(&text, &len);
	if (!f)
		return state_fail(c, -ENOMEM, "cannot write %s",
				  KC_STATE_CONFIG);
	ret = kc_config_write(f, cfg);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = kc_file_write_new(state_path(c, KC_STATE_CONFIG), 0600,
					text, len);
	free(text);
	return ret ? state_fail(c, ret, "cannot write %s", c->path) : 0;
}

static int config_for(struct state_ctx *c, const char *listen,
		      struct kc_agent_config *cfg)
{
	kc_config_defaults(cfg);
	if (!listen)
		return 0;
	if (kc_listen_parse(listen, &cfg->listen_addr, &cfg->listen_addr_len))
		return state_fail_plain(c, -EINVAL,
					"bad listen address '%s' (expected "
					"A.B.C.D:PORT or [IPV6]:PORT)",
					listen);
	strcpy(cfg->listen, listen);
	return 0;
}

static int build(struct state_ctx *c, const struct kc_agent_config *cfg,
		 const struct kc_passphrase *pass, char fpr[KC_PKI_FPR_LEN + 1])
{
	struct init_certs crt = { .tls = NULL };
	struct init_keys k = { .ca = NULL };
	int ret;

	ret = make_keys(c, &k);
	if (!ret)
		ret = save_keys(c, &k, pass);
	if (!ret)
		ret = make_certs(c, &k, &crt);
	if (!ret)
		ret = save_certs(c, &crt);
	if (!ret)
		ret = make_store(c);
	if (!ret)
		ret = write_config(c, cfg);
	if (!ret && kc_pki_fingerprint(crt.ca.crt, fpr))
		ret = state_fail(c, -EIO, "cannot compute the CA fingerprint");
	kc_pki_ca_free(&crt.ca);
	gnutls_x509_crt_deinit(crt.tls);
	gnutls_x509_crt_deinit(crt.seal);
	EVP_PKEY_free(k.ca);
	EVP_PKEY_free(k.tls);
	EVP_PKEY_free(k.seal);
	return ret;
}

int kc_state_init(const char *dir, const char *listen,
		  const struct kc_passphrase *pass,
		  char fingerprint[KC_PKI_FPR_LEN + 1], char *err,
		  size_t err_len)
{
	struct state_ctx c = { .dir = dir, .err = err, .err_len = err_len };
	struct kc_agent_config cfg;
	bool made_dir = false;
	int ret;

	if (!pass->len)
		return state_fail_plain(
			&c, -EINVAL, "an empty passphrase cannot protect keys");
	ret = config_for(&c, listen, &cfg);
	if (ret)
		return ret;
	ret = prepare_dir(&c, &made_dir);
	if (ret) {
		/* Never touch the contents of a directory we did not make. */
		if (made_dir)
			rmdir(dir);
		return ret;
	}
	ret = build(&c, &cfg, pass, fingerprint);
	if (ret)
		remove_made(&c, made_dir);
	return ret;
}
