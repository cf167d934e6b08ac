/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent end of PROTOCOL.md section 3 on a loopback socket, for the
 * transport tests (test_tls.c, test_ktls.c): a thread pumps bytes between
 * the socket and the agent's TLS engine (agent/tls.c) the way the ring
 * does. After the handshake it writes one greeting line,
 * "peer:<kc_tls_peer() result>:<id>\n", then echoes what it reads.
 *
 * With `ktls` set it moves the record layer into the kernel
 * (kc_tls_start_ktls) at the first record boundary once `ktls_after`
 * bytes were echoed (0: right after the handshake, before the greeting),
 * and from then on reads with recvmsg(2) and the record type, like the
 * agent: close_notify is a clean end, a failed record -EBADMSG.
 *
 * Also here: the test PKI every transport test starts from, and the
 * client calls the tests share.
 */
#ifndef KC_TEST_TLS_ECHO_H
#define KC_TEST_TLS_ECHO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../agent/conn/tls.h"
#include "lib/testpki.h"
#include "tls/tlsclient.h"

#define ECHO_LINE_MAX 256

/* A CA, the agent's certificate and one client's, and the CA's pin. */
struct echo_pki {
	struct testpki_cert ca, server, client;
	char pin[65];
};

/* client_cn NULL: no client certificate. 0 or -errno. */
int echo_pki_make(struct echo_pki *p, const char *client_cn);
void echo_pki_free(struct echo_pki *p);

struct kc_tls_blob echo_blob(const gnutls_datum_t *d);
/* An engine server for leaf (chain leaf, ca); out_max 0: the default. */
int echo_server_new(const struct testpki_cert *leaf,
		    const struct testpki_cert *ca, size_t out_max,
		    struct kc_tls_server **srv);

/*
 * Follows TLS record boundaries (RFC 8446 5.1) in a byte stream and, once
 * armed, flips the first byte of the next record body.
 */
struct echo_tamper {
	uint8_t hdr[5];
	size_t hdr_got;
	size_t body_left;
	bool body_start;
	bool armed;
	bool flipped;
};

void echo_tamper_scan(struct echo_tamper *t, uint8_t *p, size_t n);

struct echo_agent {
	/* set before echo_agent_start */
	struct kc_tls_server *srv;
	int nconns; /* connections to serve one after another; 0 is 1 */
	bool bye_after_greeting;
	bool tamper; /* flip a byte of the first record after the greeting */
	bool ktls;
	size_t ktls_after;

	int lfd;
	int port;
	pthread_t thread;
	bool running;

	/* what the last connection saw */
	int hs_rc;
	int peer_rc;
	char peer_id[KC_TLS_ID_SIZE];
	int read_rc; /* 1: still open at EOF, 0: close_notify, < 0 error */
	char reason[ECHO_LINE_MAX];
	char cipher[32];
	size_t echoed;
	bool flipped;
	int ktls_rc; /* kc_tls_start_ktls: 0 on, 1 not tried, < 0 refused */
};

/* Listens on loopback (AF_INET or AF_INET6) and starts the thread. */
int echo_agent_start(struct echo_agent *a, int family);
/* Waits for the thread; shutdown() wakes an accept() nobody reached. */
void echo_agent_stop(struct echo_agent *a);

/* A listening loopback socket on a free port: the fd or -errno. */
int echo_listen_on(int family, int *port);

/* kc_tls_client_connect_opts to 127.0.0.1:port, cert NULL for none. */
int echo_connect(int port, const char *pin, const struct testpki_cert *cert,
		 const struct kc_tls_client_opts *base,
		 struct kc_tls_client **out);
int echo_client_connect(const struct echo_agent *a, const char *pin,
			const struct testpki_cert *cert, const char *cipher,
			struct kc_tls_client **out);

/* Reads up to and including '\n'; returns the length or -errno. */
int echo_read_line(struct kc_tls_client *c, char *line, size_t cap);
/* Reads exactly len bytes: 0, or -errno (-ECONNRESET at a clean end). */
int echo_recv_all(struct kc_tls_client *c, uint8_t *p, size_t len);

#endif
