/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client home directory (docs/DESIGN.md "Keys"): by default
 * $XDG_CONFIG_HOME/kcourier/<id>/ (else ~/.config/kcourier/<id>/), mode
 * 0700:
 *
 *   config.json           {"v":1, "id", "agent" (ADDR:PORT), "ca_pin"}
 *   id.key.pem            id key, encrypted PKCS#8 (keyfile.h)
 *   enc.key.pem           enc key, encrypted PKCS#8
 *   id.pub.pem enc.pub.pem  their public halves, for fingerprints and for
 *                         sealing the state without a passphrase
 *   client.crt ca.crt seal.crt  certificates from REGISTERED, PEM
 *   peers.json            LOOKUP cache: {"v":1, "peers": {"<id>":
 *                         {"id_cert","enc_spki","enc_sig" (base64),
 *                          "fetched_ms"}}}
 *   sessions-out.sealed   E2E state (e2e.h), each a JSON envelope
 *   sessions-in.sealed    (envelope.h) sealed to our own enc key, so no
 *                         session key sits on disk in the clear
 *   send-counter          the high-water mark of the message counters
 *                         (counter.h), one line of 20 digits
 *   .*.lock               flock(2) files serialising writers of a state
 *
 * Every file is replaced atomically (temporary file, fsync, rename), so a
 * crash leaves the old or the new version, never a mix; all but
 * send-counter, which is rewritten in place (counter.c says why).
 *
 * The lock of sessions-out.sealed is the senders' lock: it also covers
 * send-counter, so two senders of one home never read one mark and hand
 * out the same counters. Hold it while either is open.
 *
 * Returns 0 or -errno; -EBADMSG for a file whose contents are not what
 * it should hold.
 */
#ifndef KC_HOME_H
#define KC_HOME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/crypto_ops.h"
#include "client/peer.h"
#include "tls/tlsclient.h"
#include "wire/wire.h"

#define KC_HOME_CONFIG "config.json"
#define KC_HOME_ID_KEY "id.key.pem"
#define KC_HOME_ENC_KEY "enc.key.pem"
#define KC_HOME_ID_PUB "id.pub.pem"
#define KC_HOME_ENC_PUB "enc.pub.pem"
#define KC_HOME_CLIENT_CERT "client.crt"
#define KC_HOME_CA_CERT "ca.crt"
#define KC_HOME_SEAL_CERT "seal.crt"
#define KC_HOME_PEERS "peers.json"
#define KC_HOME_STATE_OUT "sessions-out.sealed"
#define KC_HOME_STATE_IN "sessions-in.sealed"
#define KC_HOME_COUNTER "send-counter"

#define KC_HOME_AGENT_MAX 255

struct kc_home {
	char *dir;
	char id[KC_CLIENT_ID_MAX + 1];
	char agent[KC_HOME_AGENT_MAX + 1];
	char pin[KC_PIN_HEX_LEN + 1];
};

/*
 * $XDG_CONFIG_HOME/kcourier (else $HOME/.config/kcourier), plus "/id"
 * when id is not NULL. *dir is malloc'ed.
 */
int kc_home_default_dir(const char *id, char **dir);
/*
 * The home to use when none is named: the only registered identity under
 * the default directory. -ENOENT if there is none, -ENOTUNIQ if several.
 */
int kc_home_find_default(char **dir);

/*
 * Creates dir (parents too, mode 0700); no config yet. An existing dir
 * must be ours and closed to group and others, else -EPERM.
 */
int kc_home_create(struct kc_home *h, const char *dir);
/* Opens a registered home: reads and checks config.json. */
int kc_home_open(struct kc_home *h, const char *dir);
void kc_home_release(struct kc_home *h);
int kc_home_save_config(const struct kc_home *h);

/* dir/name into out; -ENAMETOOLONG if it does not fit. */
int kc_home_path(const struct kc_home *h, const char *name, char *out,
		 size_t cap);
/* Whole file (at most max bytes, else -EFBIG), malloc'ed. */
int kc_home_read(const struct kc_home *h, const char *name, size_t max,
		 uint8_t **buf, size_t *len);
/* Atomic replace; mode for the new file. */
int kc_home_write(const struct kc_home *h, const char *name, const void *buf,
		  size_t len, mode_t mode);

/* Certificates: stored as PEM, handed over as DER (malloc'ed). */
int kc_home_save_cert(const struct kc_home *h, const char *name,
		      struct kc_bytes der);
int kc_home_load_cert(const struct kc_home *h, const char *name,
		      uint8_t **der, size_t *len);

/* Exclusive flock on dir/.<name>.lock, waiting for it; *fd to unlock. */
int kc_home_lock(const struct kc_home *h, const char *name, int *fd);
/* The same without waiting: -EWOULDBLOCK while another holds it. */
int kc_home_trylock(const struct kc_home *h, const char *name, int *fd);
void kc_home_unlock(int fd);

/* The LOOKUP cache (home_store.c). -ENOENT for an id not cached. */
int kc_home_peer_load(const struct kc_home *h, const char *id,
		      struct kc_peer *p);
int kc_home_peer_save(const struct kc_home *h, const struct kc_peer *p);

/*
 * Sealed state (home_store.c). Load opens the file with the enc key loaded
 * in the tier as `unwrap_key`; -ENOENT when there is none yet. Save seals
 * doc to enc_pub. Both go through jansson with wiping frees.
 */
int kc_home_state_load(const struct kc_home *h, const char *name,
		       struct kc_crypto *c, kc_handle_t unwrap_key,
		       json_t **doc);
int kc_home_state_save(const struct kc_home *h, const char *name,
		       struct kc_crypto *c, EVP_PKEY *enc_pub,
		       const json_t *doc);

#endif
