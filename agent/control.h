/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running agent's control socket, STATE/control.sock: how `kcourierd
 * revoke` (and later commands) reach a live agent. An AF_UNIX stream
 * socket, mode 0600 in the 0700 state directory, and every peer's
 * credentials checked (SO_PEERCRED): only the agent's own uid, or root,
 * is heard. One request per connection, one line each way:
 *
 *   "revoke ID\n"  ->  "ok N\n"     the client's N connections closed
 *                  ->  "error TEXT\n"
 *   "rotate-seal B64KEY B64CERT\n" -> "ok\n"  the new seal key in use
 *                  ->  "error TEXT\n"
 *
 * A request may carry a private key (rotate-seal): the buffers that held
 * it are wiped.
 *
 * The main thread serves it between signals (cmd_run.c), so a request
 * never waits on a worker.
 */
#ifndef KC_AGENT_CONTROL_H
#define KC_AGENT_CONTROL_H

#include <stddef.h>

/* A rotate-seal line: an RSA-2048 PKCS#8 and a certificate, in base64. */
#define KCD_CONTROL_LINE_MAX 8192

/* Binds and listens on DIR/control.sock (a stale one is replaced). fd or
 * -errno. */
int kcd_control_listen(const char *dir);
/* Unlinks the socket file and closes fd. */
void kcd_control_close(const char *dir, int fd);

/*
 * Serving one request: accepts on lfd, checks the peer, reads its line
 * and answers what handle wrote into reply (without the newline). A peer
 * of another uid gets "error not allowed" and is logged. 0 or -errno.
 */
typedef void kcd_control_fn(void *ctx, const char *request, char *reply,
			    size_t cap);
int kcd_control_serve_one(int lfd, kcd_control_fn *handle, void *ctx);

/*
 * The client side: sends request to DIR's agent and reads its answer
 * line into reply. -ENOENT or -ECONNREFUSED when no agent is running
 * there, other -errno.
 */
int kcd_control_ask(const char *dir, const char *request, char *reply,
		    size_t cap);

#endif
