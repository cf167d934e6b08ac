/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client's checks of certificates the agent hands out (PROTOCOL.md
 * sections 3-5), on GnuTLS's X.509 API:
 *   client  the id certificate in KEYS (LOOKUP): issued by the pinned CA,
 *           CN = the client id asked for, digitalSignature, clientAuth;
 *   seal    the seal certificate in REGISTERED and SEAL: issued by the CA,
 *           keyEncipherment.
 * Keys then go to OpenSSL as DER SubjectPublicKeyInfo (crypto.h).
 *
 * Returns 0, -EKEYREJECTED when a check fails (the reason, for people,
 * in why), -EINVAL for bytes that are not a DER certificate, -ENOMEM.
 */
#ifndef KC_CERTCHECK_H
#define KC_CERTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "wire/wire.h"

enum kc_cert_role {
	KC_CERT_CLIENT,
	KC_CERT_SEAL,
};

#define KC_CERT_WHY_MAX 160

/*
 * cert must be signed by ca and valid now, and fit role. For
 * KC_CERT_CLIENT its only CN must equal cn; for KC_CERT_SEAL cn is unused.
 */
int kc_cert_check(struct kc_bytes cert, struct kc_bytes ca,
		  enum kc_cert_role role, const char *cn,
		  char why[KC_CERT_WHY_MAX]);

/* The certificate's public key, for OpenSSL. */
int kc_cert_public_key(struct kc_bytes cert, EVP_PKEY **out);

/* The single CN as a NUL-terminated string; -EKEYREJECTED if not one. */
int kc_cert_cn(struct kc_bytes cert, char *out, size_t cap);

/* DER to PEM text ("CERTIFICATE"), malloc'ed and NUL-terminated. */
int kc_cert_to_pem(struct kc_bytes der, char **pem, size_t *pem_len);
/* PEM or DER file contents to DER (malloc'ed). */
int kc_cert_to_der(const uint8_t *buf, size_t len, uint8_t **der,
		   size_t *der_len);

#endif
