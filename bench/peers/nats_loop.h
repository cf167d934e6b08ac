/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libnats' external event loop (natsOptions_SetEventLoop) on the
 * drivers' own loop (peer_loop.h), so one thread reads and writes every
 * NATS connection of a driver.
 *
 * With an external loop and natsOptions_SetSendAsap, libnats 3.4 starts
 * no reader and no flusher thread for a connection: it asks the loop to
 * watch the socket (attach), to write when it has output (write add and
 * remove), and the loop calls natsConnection_ProcessReadEvent and
 * natsConnection_ProcessWriteEvent. What remains of libnats' threads is
 * per process: its timer, asynchronous-callback and garbage-collector
 * threads, which wait on condition variables until a timer is due (the
 * 2-minute ping), a connection drops, or the library is closed.
 *
 * Known limit of libnats 3.4 with TLS: when a read or write event meets
 * a TLS record that has arrived (or left) only in part, natsSock_Read or
 * natsSock_Write waits for the socket in its own poll() before it
 * returns, so the loop stalls until the rest is through. On loopback the
 * rest follows at once.
 */
#ifndef KC_NATS_LOOP_H
#define KC_NATS_LOOP_H

#include <nats/nats.h>

#include "peer_loop.h"

struct nats_loop_conn {
	struct peer_loop_io io; /* first: the loop hands it back */
	struct peer_loop *loop;
	natsConnection *nc; /* set on attach */
	/* After each read event: take what the library queued. */
	void (*on_input)(struct nats_loop_conn *c);
};

/*
 * Puts the loop into opts. libnats hands attach() the same pointer for
 * every connection made with opts, so it points at *next, the
 * connection being made: one opts serves many connections (and one
 * SSL_CTX, whose certificates take long to load) as long as they are
 * made one at a time, *next set before each. Each must outlive its
 * connection.
 */
natsStatus nats_loop_options(natsOptions *opts, struct nats_loop_conn **next);

#endif
