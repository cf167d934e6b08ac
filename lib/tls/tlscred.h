/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A TLS client's certificate chain and key as bytes: what tlsclient.h
 * connects with and tlsprep.h prepares once.
 */
#ifndef KC_TLSCRED_H
#define KC_TLSCRED_H

#include <stddef.h>

#include "wire/wire.h"

/* The client's id certificate chain (leaf first) and its private key. */
struct kc_tls_client_cred {
	const struct kc_bytes *chain; /* DER certificates */
	size_t chain_len;
	struct kc_bytes key_pkcs8; /* unencrypted PKCS#8 DER; caller wipes */
};

#endif
