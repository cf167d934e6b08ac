/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * GnuTLS reports failures as its own negative codes; the agent speaks
 * -errno. Memory stays memory, anything that failed to parse is a bad
 * message, and the rest is an I/O-class error the caller cannot fix.
 */
#ifndef KC_AGENT_GNUTLS_UTIL_H
#define KC_AGENT_GNUTLS_UTIL_H

#include <errno.h>

#include <gnutls/gnutls.h>

static inline int kc_gnutls_err(int rc)
{
	if (rc >= 0)
		return 0;
	switch (rc) {
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	case GNUTLS_E_ASN1_DER_ERROR:
	case GNUTLS_E_ASN1_DER_OVERFLOW:
	case GNUTLS_E_ASN1_TAG_ERROR:
	case GNUTLS_E_ASN1_ELEMENT_NOT_FOUND:
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR:
	case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

#endif
