// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client TLS credentials and priorities made once; see tlsprep.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <openssl/x509.h>

#include "tls/extkey.h"
#include "tls/tlsprep.h"

/* X25519 first: its key share is the cheaper one with GnuTLS (nettle). */
#define PRIORITY                                                               \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-ALL"
#define PRIORITY_MAX 128
#define CHAIN_MAX 8
#define CIPHER_NAME_MAX 32

static int refuse(int err, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return err;
}

static bool same_datum(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	return a->size == b->size && !memcmp(a->data, b->data, a->size);
}

/*
 * The key's public half as DER SubjectPublicKeyInfo: through GnuTLS for a
 * key it imported, through OpenSSL for one OpenSSL signs with (GnuTLS
 * cannot read the public half of an external key).
 */
static int key_spki(const struct kc_tls_prep_args *a, gnutls_privkey_t key,
		    gnutls_datum_t *out)
{
	gnutls_pubkey_t pub = NULL;
	unsigned char *der = NULL;
	int len, ret = -EINVAL;

	if (a->sign_key) {
		len = i2d_PUBKEY(a->sign_key, &der);
		if (len <= 0)
			return -EINVAL;
		out->data = gnutls_malloc((size_t)len);
		if (out->data) {
			memcpy(out->data, der, (size_t)len);
			out->size = (unsigned int)len;
			ret = 0;
		}
		OPENSSL_free(der);
		return ret;
	}
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out) >= 0)
		ret = 0;
	gnutls_pubkey_deinit(pub);
	return ret;
}

static bool key_matches_cert(const struct kc_tls_prep_args *a,
			     struct kc_tls_client_prep *p)
{
	gnutls_datum_t mine = { NULL, 0 }, cert = { NULL, 0 };
	bool ok = false;

	if (!key_spki(a, p->key, &mine) &&
	    gnutls_pubkey_export2(p->pcerts[0].pubkey, GNUTLS_X509_FMT_DER,
				  &cert) >= 0)
		ok = same_datum(&mine, &cert);
	gnutls_free(mine.data);
	gnutls_free(cert.data);
	return ok;
}

static int import_key(const struct kc_tls_prep_args *a,
		      struct kc_tls_client_prep *p, char *why, size_t why_len)
{
	gnutls_datum_t d = { (unsigned char *)a->cred->key_pkcs8.p,
			     (unsigned int)a->cred->key_pkcs8.len };

	if (a->sign_key) {
		if (kc_privkey_from_evp(a->sign_key, &p->key))
			return refuse(-EINVAL, why, why_len,
				      "client key is not an RSA key");
		return 0;
	}
	if (gnutls_privkey_init(&p->key) < 0)
		return refuse(-ENOMEM, why, why_len, "out of memory");
	if (gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_DER,
					   NULL, GNUTLS_PKCS_PLAIN) < 0)
		return refuse(-EINVAL, why, why_len,
			      "client key is not PKCS#8 DER");
	return 0;
}

static int load_cred(const struct kc_tls_prep_args *a,
		     struct kc_tls_client_prep *p, char *why, size_t why_len)
{
	const struct kc_tls_client_cred *cred = a->cred;
	gnutls_datum_t d;
	size_t i;
	int ret;

	if (!cred->chain_len || cred->chain_len > CHAIN_MAX)
		return refuse(-EINVAL, why, why_len,
			      "client certificate chain missing");
	p->pcerts = calloc(cred->chain_len, sizeof(*p->pcerts));
	if (!p->pcerts)
		return refuse(-ENOMEM, why, why_len, "out of memory");
	for (i = 0; i < cred->chain_len; i++) {
		d.data = (unsigned char *)cred->chain[i].p;
		d.size = (unsigned int)cred->chain[i].len;
		if (gnutls_pcert_import_x509_raw(&p->pcerts[i], &d,
						 GNUTLS_X509_FMT_DER, 0) < 0)
			return refuse(-EINVAL, why, why_len,
				      "client certificate %zu does not parse",
				      i);
		p->npcerts = (unsigned int)i + 1;
	}
	ret = import_key(a, p, why, why_len);
	if (ret)
		return ret;
	if (!key_matches_cert(a, p))
		return refuse(-EINVAL, why, why_len,
			      "client key does not match its certificate");
	gnutls_certificate_set_retrieve_function2(p->xcred, a->retrieve);
	return 0;
}

/*
 * A cipher name is spliced into the priority string, so only the bytes of
 * GnuTLS cipher names get in ("+VERS-TLS1.2" has a '+' and a '.').
 */
static bool cipher_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len >= CIPHER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return false;
	return gnutls_cipher_get_id(name) != GNUTLS_CIPHER_UNKNOWN;
}

static int make_priority(struct kc_tls_client_prep *p, const char *cipher,
			 char *why, size_t why_len)
{
	char text[PRIORITY_MAX];

	if (!cipher) {
		snprintf(text, sizeof(text), "%s", PRIORITY);
	} else if (cipher_name_ok(cipher)) {
		snprintf(text, sizeof(text), "%s:-CIPHER-ALL:+%s", PRIORITY,
			 cipher);
	} else {
		return refuse(-EINVAL, why, why_len, "unknown cipher '%s'",
			      cipher);
	}
	if (gnutls_priority_init(&p->prio, text, NULL) < 0)
		return refuse(-EINVAL, why, why_len, "bad TLS priority");
	return 0;
}

int kc_tls_prep_new(const struct kc_tls_prep_args *a,
		    struct kc_tls_client_prep **out, char *why, size_t why_len)
{
	struct kc_tls_client_prep *p;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return refuse(-ENOMEM, why, why_len, "out of memory");
	ret = make_priority(p, a->cipher, why, why_len);
	if (!ret && gnutls_certificate_allocate_credentials(&p->xcred) < 0)
		ret = refuse(-ENOMEM, why, why_len, "out of memory");
	if (!ret && a->cred)
		ret = load_cred(a, p, why, why_len);
	if (ret) {
		kc_tls_prep_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void kc_tls_prep_free(struct kc_tls_client_prep *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->npcerts; i++)
		gnutls_pcert_deinit(&p->pcerts[i]);
	free(p->pcerts);
	gnutls_privkey_deinit(p->key);
	if (p->xcred)
		gnutls_certificate_free_credentials(p->xcred);
	if (p->prio)
		gnutls_priority_deinit(p->prio);
	free(p);
}
