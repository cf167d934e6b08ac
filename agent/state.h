/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's state directory (mode 0700):
 *
 *   ca.crt   ca.key     agent CA, ECDSA P-256
 *   tls.crt  tls.key    agent TLS certificate, ECDSA P-256
 *   seal.crt seal.key   seal key, RSA-2048 (OPEN_SESSION unwraps)
 *   store.db            SQLite store (+ store.db-wal, store.db-shm)
 *   kcourierd.conf      configuration (agentconf/agentconf.h)
 * The names are in agentconf/statedir.h, for tools on the same host too.
 *
 * Private keys are encrypted PKCS#8 PEM, mode 0600 (keyfile.h);
 * certificates PEM, mode 0644. kcourierd.conf is written last by init, so
 * its presence is what "initialised" means.
 *
 * Functions that can fail for a reason the operator must fix write one
 * line into err (naming the file) and return -errno.
 */
#ifndef KC_AGENT_STATE_H
#define KC_AGENT_STATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>

#include "agentconf/agentconf.h"
#include "agentconf/statedir.h"
#include "base/passphrase.h"
#include "pki.h"


#define KC_STATE_ERR_MAX 512

/* dir/name into out; -ENAMETOOLONG if it does not fit PATH_MAX. */
int kc_state_path(const char *dir, const char *name, char out[PATH_MAX]);

/*
 * Where the agent's passphrase comes from: the file if given, else
 * KCOURIERD_PASSPHRASE, else KCOURIER_PASSPHRASE, else the terminal
 * (asked twice when confirm is set).
 */
int kc_state_passphrase(const char *file, bool confirm,
			struct kc_passphrase *out);

/*
 * `kcourierd init`: creates dir (or takes an empty one), generates the
 * three keys, issues the certificates, creates the store and writes the
 * configuration with `listen` (NULL: the default). Refuses a directory
 * that is already initialised or not empty. On failure everything it
 * created is removed again. Returns 0 and the CA fingerprint, or -errno.
 */
int kc_state_init(const char *dir, const char *listen,
		  const struct kc_passphrase *pass,
		  char fingerprint[KC_PKI_FPR_LEN + 1], char *err,
		  size_t err_len);

/*
 * The same refusals as kc_state_init, checked before asking for a
 * passphrase: 0 when dir is missing or empty, else -EEXIST, -ENOTEMPTY or
 * the -errno of reading it, with err filled.
 */
int kc_state_init_check(const char *dir, char *err, size_t err_len);

/* Everything `kcourierd run` needs from the directory. */
struct kc_agent_state {
	char dir[PATH_MAX];
	struct kc_agent_config cfg;
	struct kc_pki_ca ca; /* signs client certificates at REGISTER */
	gnutls_x509_crt_t tls_crt, seal_crt;
	gnutls_datum_t ca_der, tls_der, seal_der; /* for REGISTERED, SEAL */
	char ca_fingerprint[KC_PKI_FPR_LEN + 1];
	EVP_PKEY *seal_key;
	/*
	 * Unencrypted PKCS#8 DER of the TLS key (kc_tls_server_cfg) and of
	 * the seal key (crypto tier load_unwrap_key). Wipe both with
	 * kc_agent_state_wipe_der() once they are handed over.
	 */
	uint8_t *tls_pkcs8, *seal_pkcs8;
	size_t tls_pkcs8_len, seal_pkcs8_len;
};

/*
 * Loads configuration, certificates and keys, and checks each key
 * against its certificate and the certificates against the CA. The store
 * is not opened (each user opens its own connection on
 * dir/KC_STATE_STORE). Returns 0 or -errno with err filled; a wrong
 * passphrase is -EBADMSG.
 */
int kc_agent_state_load(const char *dir, const struct kc_passphrase *pass,
			struct kc_agent_state *st, char *err, size_t err_len);
/*
 * Wipes and frees the PKCS#8 DER copies and the seal key, once the crypto
 * tiers have theirs: the agent then holds the seal key only in its tiers,
 * or nowhere when the kernel keyring took it (crypto_ops.h).
 */
void kc_agent_state_wipe_der(struct kc_agent_state *st);
/* Frees and wipes everything; accepts a zeroed or partly loaded state. */
void kc_agent_state_free(struct kc_agent_state *st);

#endif
