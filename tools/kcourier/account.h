/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A registered identity as the network subcommands (send, recv, lookup)
 * use it: the home directory, the private keys (one passphrase, asked
 * once, each key decrypted once per command: PBKDF2 at 600k iterations
 * costs about half a second per key), the certificates, the crypto tier,
 * the E2E state and the connection to the agent.
 *
 * Every function that can fail prints one "kcourier: ..." line itself and
 * returns -1, so the subcommands only decide the exit code.
 */
#ifndef KC_CLI_ACCOUNT_H
#define KC_CLI_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "client/client.h"
#include "kcourier_cmd.h"
#include "client/e2e.h"
#include "client/home.h"
#include "client/peer.h"
#include "base/clock.h"

/* Which private keys a command needs. */
enum {
	ACCOUNT_ID_KEY = 1 << 0,  /* TLS client auth, SESSION_INIT signatures */
	ACCOUNT_ENC_KEY = 1 << 1, /* E2E state and incoming session keys */
};

struct account {
	struct kc_home home;
	const char *pass_file;
	EVP_PKEY *id_key, *enc_key;
	uint8_t *ca, *client_cert;
	size_t ca_len, client_cert_len;
	struct kc_crypto *crypto;
	kc_handle_t enc_unwrap; /* enc_key in the tier, for the state */
	struct kc_e2e *e2e;
	struct kc_client *conn;
	int lock_fd;
	const char *state_name; /* the state file this command owns */
};

/*
 * HOME from --home, else the only identity under the default location
 * (*dir malloc'ed); -1 after a message when there is none or several.
 */
int account_home_dir(const struct cli *cli, char **dir);
int account_open(struct account *a, const struct cli *cli,
		 const char *pass_file, unsigned int keys);
void account_close(struct account *a);

/* TLS with the CA pin and our client certificate. */
int account_connect(struct account *a);
/*
 * The orderly end (kc_client_shutdown): close_notify, then the agent's
 * close, which says it handled everything sent before. Events read
 * meanwhile stay queued on a->conn. 0, -ETIMEDOUT, or -errno.
 */
#define HANGUP_BOUND_MS 5000
int account_hang_up(struct account *a);

/*
 * Takes the lock of one state half (KC_HOME_STATE_OUT or _IN), then loads
 * it into a->e2e; a missing file is an empty state. The out half's lock,
 * held until account_close, is also the one that covers the message
 * counters (client/counter.h): open them only after taking it.
 */
int account_load_state(struct account *a, const char *name);
int account_save_state(struct account *a);

/*
 * A peer's checked keys. fresh: always LOOKUP (and warn when they differ
 * from the cached ones); else the cache first. The result is cached.
 */
int account_peer(struct account *a, const char *id, bool fresh,
		 struct kc_peer *p);
/*
 * kc_e2e_key_fn over the same, quiet: -ENOKEY when the sender has no
 * acceptable keys, -EIO or -EAGAIN when the agent could not be asked.
 */
int account_sender_key(void *arg, const char *sender, bool fresh,
		       EVP_PKEY **pub);

/* "NAME (what it means)" for a protocol status code. */
const char *account_status_text(unsigned int code, char *buf, size_t cap);
/* Reports a failed agent call: "<what>: <status or transport reason>". */
void account_report(const struct account *a, int err, const char *what);

/*
 * `kcourier fingerprint [ID]` (fingerprint_id.c): the id and enc key
 * fingerprints of HOME's own identity (ID NULL or ours) or of a cached
 * peer. Needs no passphrase. Returns the exit code.
 */
int account_fingerprint(const struct cli *cli, const char *id);


#endif
