/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The broker drivers' event loop: one thread serves every connection, so
 * a driver costs its broker's peer a core at most and usually much less.
 *
 * A connection is a struct peer_loop_io embedded in the driver's own
 * state: its socket and serve(), which the loop calls when the socket is
 * readable, when the driver has output queued (want_write), or when input
 * already sits decrypted inside the TLS library (pending), which no poll
 * can see.
 *
 * One turn: write what is queued, wait (epoll, level-triggered) until the
 * deadline or readiness, serve what is ready, write what serving queued.
 * Writes are tried directly: only a write that would block arms EPOLLOUT
 * for its socket until the socket drains.
 *
 * Threads: the thread that called peer_loop_init() turns the loop.
 * peer_loop_add(), peer_loop_want_write() and peer_loop_wake() may also be
 * called from other threads (libnats attaches a connection, and queues its
 * SUB, on whichever thread connects); everything else belongs to the loop's
 * thread, or to any thread while the loop is not turning.
 */
#ifndef KC_PEER_LOOP_H
#define KC_PEER_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PEER_IO_READ 1u
#define PEER_IO_WRITE 2u

struct peer_loop_io {
	int fd;
	/* events: PEER_IO_READ and/or PEER_IO_WRITE. */
	void (*serve)(struct peer_loop_io *io, unsigned int events);
	/* The driver's, through the setters below. */
	bool want_write; /* atomic: other threads may set it */
	bool pending;
	/* The loop's. */
	bool active, armed_out;
	uint64_t served_turn;
};

struct peer_loop {
	int epfd, wakefd;
	pthread_t owner;
	pthread_mutex_t lock; /* serialises adds */
	struct peer_loop_io **ios;
	unsigned int cap;
	unsigned int n; /* atomic: published after ios[n - 1] */
	uint64_t turn;
};

/* Room for cap connections. Returns 0 or -errno. */
int peer_loop_init(struct peer_loop *l, unsigned int cap);
void peer_loop_free(struct peer_loop *l);

/* Starts watching fd for input; serve() runs on the loop's thread. */
int peer_loop_add(struct peer_loop *l, struct peer_loop_io *io, int fd,
		  void (*serve)(struct peer_loop_io *, unsigned int));
/* The loop forgets io; call while its fd is still open. */
void peer_loop_remove(struct peer_loop *l, struct peer_loop_io *io);

/* The driver has output queued for io (or no longer has). */
void peer_loop_want_write(struct peer_loop *l, struct peer_loop_io *io,
			  bool want);
/* Input waits inside a library's buffer: serve io without polling. */
static inline void peer_loop_pending(struct peer_loop_io *io, bool pending)
{
	io->pending = pending;
}

/* One turn; waits at most until deadline (CLOCK_MONOTONIC ns). */
void peer_loop_turn(struct peer_loop *l, uint64_t deadline_ns);
/* Ends a wait of the loop early, from any thread. */
void peer_loop_wake(struct peer_loop *l);

/*
 * Runs fn(arg) on a thread of its own while this thread turns the loop,
 * for library calls that block until the loop has read their answer
 * (libnats' requests and flushes). Returns fn's result, or -errno when
 * the thread could not start.
 */
int peer_loop_beside(struct peer_loop *l, int (*fn)(void *), void *arg);

#endif
