// SPDX-License-Identifier: GPL-2.0-only
/*
 * libnats' four event-loop callbacks on peer_loop (nats_loop.h). libnats
 * calls them from whichever thread connects or closes; peer_loop's add
 * and want_write are made for that.
 */
#include "nats_loop.h"

static void serve(struct peer_loop_io *io, unsigned int events)
{
	struct nats_loop_conn *c = (struct nats_loop_conn *)io;

	if (events & PEER_IO_READ) {
		natsConnection_ProcessReadEvent(c->nc);
		if (c->on_input)
			c->on_input(c);
	}
	if (events & PEER_IO_WRITE)
		natsConnection_ProcessWriteEvent(c->nc);
}

/* The "loop" libnats passes along points at the connection being made. */
static natsStatus attach(void **user, void *loop, natsConnection *nc,
			 natsSock fd)
{
	struct nats_loop_conn *c = *(struct nats_loop_conn **)loop;

	c->nc = nc;
	*user = c;
	if (peer_loop_add(c->loop, &c->io, fd, serve))
		return NATS_ERR;
	return NATS_OK;
}

/* libnats only ever removes: attach started the reading. */
static natsStatus read_add_remove(void *user, bool add)
{
	struct nats_loop_conn *c = user;

	if (!add)
		peer_loop_remove(c->loop, &c->io);
	return NATS_OK;
}

static natsStatus write_add_remove(void *user, bool add)
{
	struct nats_loop_conn *c = user;

	peer_loop_want_write(c->loop, &c->io, add);
	return NATS_OK;
}

static natsStatus detach(void *user)
{
	struct nats_loop_conn *c = user;

	peer_loop_remove(c->loop, &c->io);
	return NATS_OK;
}

natsStatus nats_loop_options(natsOptions *opts, struct nats_loop_conn **next)
{
	natsStatus s;

	s = natsOptions_SetEventLoop(opts, next, attach, read_add_remove,
				     write_add_remove, detach);
	/* No flusher thread: a publish asks the loop to write at once. */
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(opts, true);
	return s;
}
