// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier keygen: a client's two RSA-2048 key pairs (PROTOCOL.md section
 * 4): "id" for TLS client auth and signatures, "enc" for OAEP only.
 * Private halves are encrypted PKCS#8 (keyfile.h), public halves SPKI PEM.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcourier_cmd.h"
#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "keyload.h"
#include "base/passphrase.h"

static const char keygen_about[] =
	"Makes two RSA-2048 key pairs in DIR (created, mode 0700, if\n"
	"missing): id.key.pem and enc.key.pem (private, encrypted with the\n"
	"passphrase, mode 0600) and id.pub.pem and enc.pub.pem (public).\n"
	"Existing keys are never overwritten. Prints both fingerprints.\n"
	"A new passphrase from the terminal is asked for twice.\n";

enum { ID_KEY, ID_PUB, ENC_KEY, ENC_PUB, N_FILES };

static const char *const file_names[N_FILES] = {
	[ID_KEY] = "id.key.pem",
	[ID_PUB] = "id.pub.pem",
	[ENC_KEY] = "enc.key.pem",
	[ENC_PUB] = "enc.pub.pem",
};

struct keygen {
	const char *dir, *pass_file;
	char path[N_FILES][PATH_MAX];
	bool created[N_FILES];
	EVP_PKEY *id, *enc;
	struct kc_passphrase pass;
};

/* True to go on; false when done (help or a usage error) with *rc set. */
static bool parse_keygen(int argc, char **argv, struct keygen *kg, int *rc)
{
	const struct kc_opt rows[] = {
		{ .name = "out", KC_OPT_STRING(&kg->dir), .required = true,
		  .metavar = "DIR", .help = "where the keys go" },
		CLI_OPT_PASSPHRASE_FILE(&kg->pass_file, "the new passphrase"),
	};
	const struct kc_opts spec = {
		CLI_OPTS("keygen"),
		KC_OPTS_TABLE(rows),
		.description = keygen_about,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	cli_err("cannot create directory %s: %s", dir,
		strerror(errno == EEXIST ? ENOTDIR : errno));
	return -1;
}

/* Checked before the slow part; O_EXCL still guards each file later. */
static int plan_files(struct keygen *kg)
{
	struct stat st;
	int i, n;

	for (i = 0; i < N_FILES; i++) {
		n = snprintf(kg->path[i], PATH_MAX, "%s/%s", kg->dir,
			     file_names[i]);
		if (n < 0 || n >= PATH_MAX) {
			cli_err("%s: path too long", kg->dir);
			return -1;
		}
		if (lstat(kg->path[i], &st) == 0) {
			cli_err("%s exists: refusing to overwrite keys",
				kg->path[i]);
			return -1;
		}
	}
	return 0;
}

static int save_file(struct keygen *kg, int which, EVP_PKEY *key)
{
	const char *path = kg->path[which];
	int ret;

	if (which == ID_KEY || which == ENC_KEY)
		ret = kc_key_save_private(path, key, kg->pass.text,
					  kg->pass.len);
	else
		ret = kc_key_save_public(path, key);
	if (ret) {
		cli_err("cannot write %s: %s", path, strerror(-ret));
		return ret;
	}
	kg->created[which] = true;
	return 0;
}

static int generate_and_save(struct keygen *kg)
{
	int ret;

	ret = kc_rsa_generate(&kg->id);
	if (!ret)
		ret = kc_rsa_generate(&kg->enc);
	if (ret) {
		cli_err("cannot generate an RSA key: %s", strerror(-ret));
		return ret;
	}
	ret = save_file(kg, ID_KEY, kg->id);
	if (!ret)
		ret = save_file(kg, ID_PUB, kg->id);
	if (!ret)
		ret = save_file(kg, ENC_KEY, kg->enc);
	if (!ret)
		ret = save_file(kg, ENC_PUB, kg->enc);
	return ret;
}

/* Tab-separated, so scripts can cut the fingerprints out. */
static int print_fingerprints(struct keygen *kg)
{
	char id_hex[65], enc_hex[65];

	if (kc_key_fingerprint(kg->id, id_hex) ||
	    kc_key_fingerprint(kg->enc, enc_hex)) {
		cli_err("cannot encode the new public keys");
		return -1;
	}
	if (printf("id\t%s\nenc\t%s\n", id_hex, enc_hex) < 0 ||
	    fflush(stdout)) {
		cli_err("cannot write standard output");
		return -1;
	}
	return 0;
}

/* A half-made set of keys is worse than none: undo this run's files. */
static void remove_created(struct keygen *kg)
{
	int i;

	for (i = 0; i < N_FILES; i++)
		if (kg->created[i])
			unlink(kg->path[i]);
}

int cmd_keygen(void *ctx, int argc, char **argv)
{
	struct keygen kg = { .dir = NULL };
	int ret = 1;

	if (!parse_keygen(argc, argv, &kg, &ret))
		return ret;
	if (make_dir(kg.dir) || plan_files(&kg) ||
	    cli_new_passphrase(kg.pass_file, kg.dir, &kg.pass))
		goto cleanup;
	if (generate_and_save(&kg)) {
		remove_created(&kg);
		goto cleanup;
	}
	if (print_fingerprints(&kg) == 0)
		ret = 0;
cleanup:
	kc_passphrase_wipe(&kg.pass);
	EVP_PKEY_free(kg.id);
	EVP_PKEY_free(kg.enc);
	return ret;
}
