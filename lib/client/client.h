/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A client connection to the agent (PROTOCOL.md sections 3-4): TLS with
 * the CA pin (tlsclient.h), then frames in both directions.
 *
 * Answers come in request order, but on an authenticated connection the
 * agent may slip a DELIVER or RECEIPT in anywhere, even between a request
 * and its answer. kc_client_await() therefore sets those aside in a queue,
 * and kc_client_next_event() hands out the queue before reading more.
 *
 * A struct kc_frame filled here points into the connection's buffers: it
 * stays valid until the next kc_client_await/_call/_next_event call on the
 * same connection.
 *
 * Returns 0 or -errno. -EREMOTEIO means the agent answered with ERROR:
 * kc_client_status() gives its code (status.h) and kc_client_error() its
 * text. Transport failures give tlsclient.h's -errno values, with
 * kc_client_error() explaining them; -EPROTO is also an answer of an
 * unexpected type, or a frame that does not decode.
 */
#ifndef KC_CLIENT_H
#define KC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tlsclient.h"
#include "wire/wire.h"

/* Largest frame accepted from the agent (a DELIVER carries a message). */
#define KC_CLIENT_MAX_FRAME (64u << 20)
/* Default wait for an answer. */
#define KC_CLIENT_TIMEOUT_MS 30000

struct kc_client;

/* cred NULL: no client certificate (REGISTER only). */
int kc_client_connect(const char *addr_port, const char *pin_hex,
		      const struct kc_tls_client_cred *cred,
		      unsigned int timeout_ms, struct kc_client **out);
/* The same with every TLS option (a prepared credential, tlsclient.h). */
int kc_client_connect_opts(const char *addr_port, const char *pin_hex,
			   const struct kc_tls_client_opts *opts,
			   struct kc_client **out);
void kc_client_close(struct kc_client *c);
/*
 * The orderly end before kc_client_close: close_notify after every frame
 * sent so far, then a wait of at most bound_ms for the agent's own close,
 * which it sends once it has handled all of them. DELIVER and RECEIPT
 * read meanwhile are queued for kc_client_next_event(). 0 when the agent
 * closed in time, -ETIMEDOUT when not, other -errno on failure.
 */
int kc_client_shutdown(struct kc_client *c, unsigned int bound_ms);

/* The TLS connection under it (peer chain, pinned CA certificate). */
struct kc_tls_client *kc_client_tls(struct kc_client *c);

/* Encodes and sends one frame. */
int kc_client_send(struct kc_client *c, const struct kc_frame *f);

/*
 * Waits for the next answer, which must be of type `type`; DELIVER and
 * RECEIPT read meanwhile are queued. timeout_ms 0 waits forever.
 */
int kc_client_await(struct kc_client *c, uint8_t type, unsigned int timeout_ms,
		    struct kc_frame *f);

/* kc_client_send, then kc_client_await. */
int kc_client_call(struct kc_client *c, const struct kc_frame *req,
		   uint8_t answer_type, unsigned int timeout_ms,
		   struct kc_frame *answer);

/*
 * The next DELIVER or RECEIPT, queued ones first. -ETIMEDOUT when none
 * came for timeout_ms (0 waits forever), -ECONNRESET when the agent
 * closed the connection; an ERROR gives -EREMOTEIO, any other frame
 * -EPROTO.
 */
int kc_client_next_event(struct kc_client *c, unsigned int timeout_ms,
			 struct kc_frame *f);
/*
 * The next frame of any type, queued events first: for a caller that
 * pipelines requests and takes answers and events as they come. Same
 * returns as kc_client_next_event(), but an answer is not -EPROTO.
 */
int kc_client_next_frame(struct kc_client *c, unsigned int timeout_ms,
			 struct kc_frame *f);
/*
 * True if an event is queued, or bytes are received and buffered (which
 * may be any frame, or the start of one).
 */
bool kc_client_event_ready(struct kc_client *c);

/* Code of the last ERROR frame, or -1 when the last failure was local. */
int kc_client_status(const struct kc_client *c);
/* Text of the last failure: the agent's ERROR text or a local reason. */
const char *kc_client_error(const struct kc_client *c);

#endif
