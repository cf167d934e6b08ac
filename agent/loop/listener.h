/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Listening sockets: one SO_REUSEPORT socket per worker, so the kernel
 * spreads new connections over the workers without a shared accept queue.
 * (The ADDR:PORT text is parsed by config.c's kc_listen_parse.)
 */
#ifndef KC_LISTENER_H
#define KC_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Bound, listening, close-on-exec socket; returns the fd or -errno. Port 0
 * binds an ephemeral port and writes it back into *addr, so the next
 * worker's socket joins the same port group.
 */
int kc_listener_open(struct sockaddr_storage *addr, socklen_t len);
/* "127.0.0.1:7443" / "[::1]:7443" for log lines. */
void kc_listener_format(const struct sockaddr_storage *addr, char *out,
			size_t cap);

#endif
