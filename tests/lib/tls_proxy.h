/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A loopback TCP relay for one connection that can flip one byte of a
 * captured TLS record, either way: the man in the middle the tamper tests
 * need when the record layer is in the kernel and no user code ever sees
 * the ciphertext. It follows record boundaries from the first byte, so
 * once armed it flips the first byte of the next record body (RFC 8446
 * 5.2: the AEAD ciphertext), which the receiver must refuse.
 */
#ifndef KC_TEST_TLS_PROXY_H
#define KC_TEST_TLS_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct tls_proxy {
	int target_port;
	int lfd, port;
	int stop_pipe[2];
	pthread_t thread;
	bool running;
	atomic_bool arm[2]; /* [0] to the target, [1] back to the client */
	atomic_bool flipped[2];
};

/* Listens on 127.0.0.1 (p->port) and relays one connection to port. */
int tls_proxy_start(struct tls_proxy *p, int target_port);
/* to_target: flip in what the client sends, else in what it receives. */
void tls_proxy_arm(struct tls_proxy *p, bool to_target);
bool tls_proxy_flipped(struct tls_proxy *p, bool to_target);
/* Ends the relay (both sockets closed) and joins the thread. */
void tls_proxy_stop(struct tls_proxy *p);

#endif
