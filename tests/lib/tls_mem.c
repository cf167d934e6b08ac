// SPDX-License-Identifier: GPL-2.0-only
/*
 * A raw GnuTLS client in memory against the agent's engine: see
 * tls_mem.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/tls_mem.h"

#define MEM_ROUNDS 64
#define PRIO_MAX 256

static ssize_t raw_push(gnutls_transport_ptr_t ptr, const void *p, size_t n)
{
	struct rawcli *rc = ptr;

	return kc_bytebuf_append(&rc->out, p, n) ? -1 : (ssize_t)n;
}

static ssize_t raw_pull(gnutls_transport_ptr_t ptr, void *p, size_t n)
{
	struct rawcli *rc = ptr;
	size_t avail = kc_bytebuf_size(&rc->in);

	if (!avail) {
		gnutls_transport_set_errno(rc->s, EAGAIN);
		return -1;
	}
	n = n < avail ? n : avail;
	memcpy(p, kc_bytebuf_data(&rc->in), n);
	kc_bytebuf_consume(&rc->in, n);
	return (ssize_t)n;
}

void rawcli_set_transport(struct rawcli *rc, gnutls_session_t s)
{
	gnutls_transport_set_ptr(s, rc);
	gnutls_transport_set_push_function(s, raw_push);
	gnutls_transport_set_pull_function(s, raw_pull);
}

int rawcli_init(struct rawcli *rc, const char *prio, const char *alpn,
		unsigned int flags)
{
	gnutls_datum_t proto = { (unsigned char *)alpn,
				 alpn ? (unsigned int)strlen(alpn) : 0 };

	memset(rc, 0, sizeof(*rc));
	if (gnutls_certificate_allocate_credentials(&rc->cred) < 0 ||
	    gnutls_init(&rc->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | flags) < 0 ||
	    gnutls_priority_set_direct(rc->s, prio, NULL) < 0 ||
	    gnutls_credentials_set(rc->s, GNUTLS_CRD_CERTIFICATE, rc->cred) < 0)
		return -EINVAL;
	if (alpn && gnutls_alpn_set_protocols(rc->s, &proto, 1, 0) < 0)
		return -EINVAL;
	gnutls_handshake_set_timeout(rc->s, 0);
	rawcli_set_transport(rc, rc->s);
	return 0;
}

void rawcli_free(struct rawcli *rc)
{
	if (rc->s)
		gnutls_deinit(rc->s);
	if (rc->cred)
		gnutls_certificate_free_credentials(rc->cred);
	kc_bytebuf_free(&rc->in);
	kc_bytebuf_free(&rc->out);
	memset(rc, 0, sizeof(*rc));
}

size_t rawcli_shuttle(struct rawcli *rc, struct kc_tls_conn *c)
{
	size_t n = kc_bytebuf_size(&rc->out), moved = 0;
	const uint8_t *p;

	if (n && !kc_tls_feed(c, kc_bytebuf_data(&rc->out), n)) {
		kc_bytebuf_consume(&rc->out, n);
		moved += n;
	}
	kc_tls_pending_output(c, &p, &n);
	if (n && !kc_bytebuf_append(&rc->in, p, n)) {
		kc_tls_consume_output(c, n);
		moved += n;
	}
	return moved;
}

void rawcli_handshake(struct rawcli *rc, struct kc_tls_conn *c, int *cret,
		      int *sret)
{
	int i;

	*cret = GNUTLS_E_AGAIN;
	*sret = -EAGAIN;
	for (i = 0; i < MEM_ROUNDS; i++) {
		if (*cret == GNUTLS_E_AGAIN)
			*cret = gnutls_handshake(rc->s);
		rawcli_shuttle(rc, c);
		if (*sret == -EAGAIN)
			*sret = kc_tls_handshake_step(c);
		rawcli_shuttle(rc, c);
		if (*cret != GNUTLS_E_AGAIN && *sret != -EAGAIN)
			break;
	}
}

ssize_t rawcli_recv(struct rawcli *rc, struct kc_tls_conn *c, void *p,
		    size_t cap)
{
	ssize_t n = GNUTLS_E_AGAIN;
	int i;

	for (i = 0; i < MEM_ROUNDS && n == GNUTLS_E_AGAIN; i++) {
		rawcli_shuttle(rc, c);
		n = gnutls_record_recv(rc->s, p, cap);
	}
	return n;
}

int rawcli_open(struct rawcli *rc, struct kc_tls_server *srv,
		const char *cipher, struct kc_tls_conn **conn)
{
	char prio[PRIO_MAX];
	int cret, sret;

	snprintf(prio, sizeof(prio), "%s:-CIPHER-ALL:+%s", KC_TLS_PRIORITY,
		 cipher);
	if (rawcli_init(rc, prio, KC_TLS_ALPN, GNUTLS_NO_TICKETS) ||
	    kc_tls_conn_new(srv, conn))
		return -EINVAL;
	rawcli_handshake(rc, *conn, &cret, &sret);
	return cret ? cret : sret;
}
