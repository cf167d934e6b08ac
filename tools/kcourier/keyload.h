/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Key files for the subcommands: load, ask for a passphrase only when the
 * file is encrypted, check the key is one the protocol allows, and explain
 * any failure in one line that names the file; the passphrase for new
 * keys.
 */
#ifndef KC_CLI_KEYLOAD_H
#define KC_CLI_KEYLOAD_H

#include <openssl/evp.h>

#include "base/passphrase.h"

/* The variable checked for a passphrase when no file is given. */
#define KC_PASSPHRASE_ENV "KCOURIER_PASSPHRASE"

/*
 * A private key; pass_file is --passphrase-file or NULL (then the
 * environment, then the terminal). Returns 0 or -1 after a message.
 */
int cli_load_private(const char *path, const char *pass_file, EVP_PKEY **out);

/*
 * A public key from a "PUBLIC KEY", a "CERTIFICATE" or a private key file;
 * an encrypted private key asks for its passphrase as above.
 */
int cli_load_public(const char *path, const char *pass_file, EVP_PKEY **out);

/*
 * A new passphrase for the keys going into dir, from pass_file, else the
 * environment, else the terminal (asked twice). 0, or -1 after a message.
 */
int cli_new_passphrase(const char *pass_file, const char *dir,
		       struct kc_passphrase *out);

/* RSA-2048 with e = 65537 (PROTOCOL.md section 1), else a message and -1. */
int cli_check_rsa(const char *path, EVP_PKEY *key);

#endif
