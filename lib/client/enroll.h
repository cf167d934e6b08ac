/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enrollment (PROTOCOL.md section 4, REGISTER) as `kcourier register` and
 * kcourier-load both do it: make the id and enc keys and the enc_sig, spend
 * a one-time token on a connection without a client certificate, and check
 * what comes back against the CA pin before anything is kept:
 *   - the CA certificate's SPKI hash is the pin;
 *   - the seal certificate chains to it and carries an RSA-2048 key;
 *   - the client certificate chains to it, names the id, and carries
 *     exactly the id key made here.
 * Where the keys and certificates go afterwards is the caller's business.
 *
 * Returns 0 or -errno. -EREMOTEIO: the agent refused (status holds its
 * code); -EKEYREJECTED: the answer failed a check; connection failures
 * give tlsclient.h's values. why always explains a failure in one line.
 */
#ifndef KC_ENROLL_H
#define KC_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "wire/wire.h"

#define KC_ENROLL_WHY_MAX 320

struct kc_enroll {
	char id[KC_CLIENT_ID_MAX + 1];
	EVP_PKEY *id_key, *enc_key;
	uint8_t *id_spki, *enc_spki;
	size_t id_spki_len, enc_spki_len;
	uint8_t enc_sig[KC_RSA_LEN];
	/* From REGISTERED, DER, once kc_enroll_register() succeeded. */
	uint8_t *client_cert, *ca_cert, *seal_cert;
	size_t client_cert_len, ca_cert_len, seal_cert_len;
	int status; /* the agent's ERROR code, -1 when it sent none */
	char why[KC_ENROLL_WHY_MAX];
};

/* Two fresh RSA-2048 keys for id, and the enc_sig binding them. */
int kc_enroll_keys(struct kc_enroll *e, const char *id);

/* REGISTER with token at agent ("HOST:PORT"), pinning pin (64 hex). */
int kc_enroll_register(struct kc_enroll *e, const char *agent,
		       const char *pin, const char *token,
		       unsigned int timeout_ms);

/* Frees everything; e can be reused. */
void kc_enroll_clear(struct kc_enroll *e);

#endif
