/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A raw GnuTLS client whose transport is a pair of memory queues, facing
 * the agent's TLS engine (agent/tls.c) in the same thread: for clients
 * that break the rules, and for steering exactly which bytes the engine
 * sees. test_tls.c and test_ktls.c use it.
 */
#ifndef KC_TEST_TLS_MEM_H
#define KC_TEST_TLS_MEM_H

#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

#include "../agent/conn/bytebuf.h"
#include "../agent/conn/tls.h"

struct rawcli {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	struct kc_bytebuf in;  /* from the agent */
	struct kc_bytebuf out; /* to the agent */
};

/* A client session on priority prio, ALPN alpn (NULL: none). */
int rawcli_init(struct rawcli *rc, const char *prio, const char *alpn,
		unsigned int flags);
void rawcli_free(struct rawcli *rc);
/* Points session s at rc's queues; s must be rc->s (a raw server, too). */
void rawcli_set_transport(struct rawcli *rc, gnutls_session_t s);

/* Moves queued bytes both ways; returns how many moved. */
size_t rawcli_shuttle(struct rawcli *rc, struct kc_tls_conn *c);
/* Runs both handshakes as far as they go; *cret GnuTLS's, *sret ours. */
void rawcli_handshake(struct rawcli *rc, struct kc_tls_conn *c, int *cret,
		      int *sret);
/* gnutls_record_recv after moving bytes as long as it waits for them. */
ssize_t rawcli_recv(struct rawcli *rc, struct kc_tls_conn *c, void *p,
		    size_t cap);
/*
 * A raw client offering only `cipher` that agreed on everything with a
 * new engine connection: 0, or the failing side's error.
 */
int rawcli_open(struct rawcli *rc, struct kc_tls_server *srv,
		const char *cipher, struct kc_tls_conn **conn);

#endif
