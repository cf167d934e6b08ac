// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client connection: framing over tlsclient.c and the queue of events that
 * arrive while an answer is awaited; see client.h.
 *
 * Received bytes collect in one buffer; a frame handed out is a view into
 * it, and the space is reclaimed only at the start of the next public call,
 * when that view is dead. Queued events are copies, so the buffer can be
 * compacted while waiting for an answer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "tls/tcpconn.h"

#define RX_CHUNK 65536

struct queued {
	struct queued *next;
	size_t len;
	uint8_t data[];
};

struct kc_client {
	struct kc_tls_client *tls;
	uint8_t *rx;
	size_t rx_start, rx_end, rx_cap;
	struct queued *head, **tail;
	struct queued *current; /* handed out by next_event */
	int status;
	char error[256];
};

static int fail(struct kc_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct kc_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->status = -1;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return err;
}

static int fail_tls(struct kc_client *c, int err)
{
	if (err == -ETIMEDOUT)
		return fail(c, err, "timed out waiting for the agent");
	return fail(c, err, "%s", kc_tls_client_strerror());
}

int kc_client_connect(const char *addr_port, const char *pin_hex,
		      const struct kc_tls_client_cred *cred,
		      unsigned int timeout_ms, struct kc_client **out)
{
	struct kc_tls_client_opts opts = {
		.cred = cred,
		.timeout_ms = timeout_ms,
	};

	return kc_client_connect_opts(addr_port, pin_hex, &opts, out);
}

int kc_client_connect_opts(const char *addr_port, const char *pin_hex,
			   const struct kc_tls_client_opts *opts,
			   struct kc_client **out)
{
	struct kc_client *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->tail = &c->head;
	c->status = -1;
	c->rx_cap = RX_CHUNK;
	c->rx = malloc(c->rx_cap);
	if (!c->rx) {
		free(c);
		return -ENOMEM;
	}
	ret = kc_tls_client_connect_opts(addr_port, pin_hex, opts, &c->tls);
	if (ret) {
		free(c->rx);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

static void release_current(struct kc_client *c)
{
	free(c->current);
	c->current = NULL;
}

void kc_client_close(struct kc_client *c)
{
	struct queued *q;

	if (!c)
		return;
	release_current(c);
	while ((q = c->head)) {
		c->head = q->next;
		free(q);
	}
	kc_tls_client_close(c->tls);
	free(c->rx);
	free(c);
}

struct kc_tls_client *kc_client_tls(struct kc_client *c)
{
	return c->tls;
}

int kc_client_status(const struct kc_client *c)
{
	return c->status;
}

const char *kc_client_error(const struct kc_client *c)
{
	return c->error;
}

int kc_client_send(struct kc_client *c, const struct kc_frame *f)
{
	size_t len = kc_frame_size(f);
	uint8_t *buf;
	int ret;

	if (!len)
		return fail(c, -EMSGSIZE, "request too large to encode");
	buf = malloc(len);
	if (!buf)
		return fail(c, -ENOMEM, "out of memory");
	kc_frame_encode(f, buf, len);
	ret = kc_tls_client_send(c->tls, buf, len);
	free(buf);
	return ret ? fail_tls(c, ret) : 0;
}

/* Receiving. */

/* Room for `need` unread bytes from rx_start; views die here. */
static int rx_reserve(struct kc_client *c, size_t need)
{
	size_t unread = c->rx_end - c->rx_start;
	uint8_t *p;

	if (c->rx_start) {
		memmove(c->rx, c->rx + c->rx_start, unread);
		c->rx_start = 0;
		c->rx_end = unread;
	}
	if (need <= c->rx_cap)
		return 0;
	p = realloc(c->rx, need);
	if (!p)
		return -ENOMEM;
	c->rx = p;
	c->rx_cap = need;
	return 0;
}

/* Bytes the first frame needs in all (its header tells, once in). */
static size_t rx_want(const struct kc_client *c)
{
	size_t unread = c->rx_end - c->rx_start;
	const uint8_t *p = c->rx + c->rx_start;

	if (unread < KC_FRAME_HDR_LEN)
		return unread + RX_CHUNK;
	return KC_FRAME_HDR_LEN - 1 +
	       ((size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
		p[3]);
}

static int rx_fill(struct kc_client *c, uint64_t deadline)
{
	size_t want = rx_want(c);
	long left = kc_ms_left(deadline);
	ssize_t n;

	if (left < 0)
		return fail(c, -ETIMEDOUT, "timed out waiting for the agent");
	if (want < c->rx_end - c->rx_start + RX_CHUNK)
		want = c->rx_end - c->rx_start + RX_CHUNK;
	if (rx_reserve(c, want))
		return fail(c, -ENOMEM, "out of memory");
	n = kc_tls_client_recv(c->tls, c->rx + c->rx_end,
			       c->rx_cap - c->rx_end, (unsigned int)left);
	if (n == 0)
		return fail(c, -ECONNRESET, "the agent closed the connection");
	if (n < 0)
		return fail_tls(c, (int)n);
	c->rx_end += (size_t)n;
	return 0;
}

/* The next whole frame on the wire, as a view into rx. */
static int read_frame(struct kc_client *c, uint64_t deadline,
		      const uint8_t **frame, size_t *len)
{
	long n;
	int ret;

	for (;;) {
		n = kc_frame_peek(c->rx + c->rx_start, c->rx_end - c->rx_start,
				  KC_CLIENT_MAX_FRAME);
		if (n > 0)
			break;
		if (n < 0)
			return fail(c, -EPROTO, "the agent broke the framing");
		ret = rx_fill(c, deadline);
		if (ret)
			return ret;
	}
	*frame = c->rx + c->rx_start;
	*len = (size_t)n;
	c->rx_start += (size_t)n;
	return 0;
}

static int decode(struct kc_client *c, const uint8_t *frame, size_t len,
		  struct kc_frame *f)
{
	if (kc_frame_decode(frame, len, f))
		return fail(c, -EPROTO,
			    "the agent sent a frame that does not decode (type 0x%02x)",
			    len > 4 ? frame[4] : 0);
	if (f->type != KC_T_ERROR)
		return 0;
	c->status = f->u.error.code;
	snprintf(c->error, sizeof(c->error), "%.*s",
		 (int)f->u.error.text.len, (const char *)f->u.error.text.p);
	return -EREMOTEIO;
}

static bool is_event(uint8_t type)
{
	return type == KC_T_DELIVER || type == KC_T_RECEIPT;
}

static int enqueue(struct kc_client *c, const uint8_t *frame, size_t len)
{
	struct queued *q = malloc(sizeof(*q) + len);

	if (!q)
		return fail(c, -ENOMEM, "out of memory");
	q->next = NULL;
	q->len = len;
	memcpy(q->data, frame, len);
	*c->tail = q;
	c->tail = &q->next;
	return 0;
}

/* Starts a public receiving call: the last views handed out die. */
static void begin_call(struct kc_client *c)
{
	release_current(c);
	c->status = -1;
	c->error[0] = '\0';
}

int kc_client_await(struct kc_client *c, uint8_t type, unsigned int timeout_ms,
		    struct kc_frame *f)
{
	uint64_t deadline = kc_deadline(timeout_ms);
	const uint8_t *frame;
	size_t len;
	int ret;

	begin_call(c);
	for (;;) {
		ret = read_frame(c, deadline, &frame, &len);
		if (!ret && is_event(frame[4]))
			ret = enqueue(c, frame, len);
		else if (!ret)
			break;
		if (ret)
			return ret;
	}
	ret = decode(c, frame, len, f);
	if (!ret && f->type != type)
		ret = fail(c, -EPROTO,
			   "the agent answered with type 0x%02x, not 0x%02x",
			   f->type, type);
	return ret;
}

int kc_client_call(struct kc_client *c, const struct kc_frame *req,
		   uint8_t answer_type, unsigned int timeout_ms,
		   struct kc_frame *answer)
{
	int ret = kc_client_send(c, req);

	return ret ? ret : kc_client_await(c, answer_type, timeout_ms, answer);
}

static int pop_event(struct kc_client *c, struct kc_frame *f)
{
	struct queued *q = c->head;

	c->head = q->next;
	if (!c->head)
		c->tail = &c->head;
	c->current = q;
	return decode(c, q->data, q->len, f);
}

int kc_client_next_frame(struct kc_client *c, unsigned int timeout_ms,
			 struct kc_frame *f)
{
	const uint8_t *frame;
	size_t len;
	int ret;

	begin_call(c);
	if (c->head)
		return pop_event(c, f);
	ret = read_frame(c, kc_deadline(timeout_ms), &frame, &len);
	return ret ? ret : decode(c, frame, len, f);
}

int kc_client_next_event(struct kc_client *c, unsigned int timeout_ms,
			 struct kc_frame *f)
{
	int ret = kc_client_next_frame(c, timeout_ms, f);

	if (!ret && !is_event(f->type))
		ret = fail(c, -EPROTO,
			   "the agent sent type 0x%02x unasked", f->type);
	return ret;
}

bool kc_client_event_ready(struct kc_client *c)
{
	if (c->head || kc_tls_client_pending(c->tls))
		return true;
	return kc_frame_peek(c->rx + c->rx_start, c->rx_end - c->rx_start,
			     KC_CLIENT_MAX_FRAME) != 0;
}

/*
 * The agent handles every frame that came before our close_notify, then
 * answers with its own close_notify and FIN. Waiting for that (bounded)
 * is how a DELIVERED, which has no answer, is known to have arrived; the
 * socket is then empty when closed, so no reset can throw away what we
 * sent. Events read meanwhile stay queued for kc_client_next_event().
 */
int kc_client_shutdown(struct kc_client *c, unsigned int bound_ms)
{
	uint64_t deadline = kc_deadline(bound_ms ? bound_ms : 1);
	const uint8_t *frame;
	size_t len;
	int ret;

	begin_call(c);
	ret = kc_tls_client_bye(c->tls);
	if (ret)
		return fail_tls(c, ret);
	for (;;) {
		ret = read_frame(c, deadline, &frame, &len);
		if (ret == -ECONNRESET && c->rx_start == c->rx_end)
			return 0; /* the agent's close_notify, or its FIN */
		if (ret)
			return ret;
		if (is_event(frame[4]) && enqueue(c, frame, len))
			return -ENOMEM;
	}
}
