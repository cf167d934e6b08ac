// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client TLS credentials from an OpenSSL key; see clientcred.h.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "tls/clientcred.h"
#include "crypto/keyfile.h"

int kc_client_cred_init(struct kc_client_cred *cc, const uint8_t *cert,
			size_t cert_len, EVP_PKEY *key)
{
	int ret;

	memset(cc, 0, sizeof(*cc));
	ret = kc_key_pkcs8_der(key, &cc->key_der, &cc->key_der_len);
	if (ret)
		return ret;
	cc->chain = (struct kc_bytes){ cert, cert_len };
	cc->cred = (struct kc_tls_client_cred){
		.chain = &cc->chain,
		.chain_len = 1,
		.key_pkcs8 = { cc->key_der, cc->key_der_len },
	};
	return 0;
}

void kc_client_cred_wipe(struct kc_client_cred *cc)
{
	OPENSSL_clear_free(cc->key_der, cc->key_der_len);
	memset(cc, 0, sizeof(*cc));
}
