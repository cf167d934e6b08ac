// SPDX-License-Identifier: GPL-2.0-only
/*
 * The broker drivers' event loop (peer_loop.h): epoll for readiness,
 * direct writes, an eventfd to wake it from other threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "peer_loop.h"

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull
#define EVENTS_PER_WAIT 64
/* How often the loop looks whether a thread beside it has finished. */
#define BESIDE_POLL_NS (100 * NSEC_PER_MSEC)

int peer_loop_init(struct peer_loop *l, unsigned int cap)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	memset(l, 0, sizeof(*l));
	l->epfd = l->wakefd = -1;
	l->owner = pthread_self();
	l->cap = cap;
	l->ios = calloc(cap, sizeof(*l->ios));
	if (!l->ios)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wakefd < 0)
		return -errno;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev))
		return -errno;
	return 0;
}

void peer_loop_free(struct peer_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	if (l->ios)
		pthread_mutex_destroy(&l->lock);
	free(l->ios);
	l->ios = NULL;
	l->epfd = l->wakefd = -1;
}

static bool on_loop_thread(const struct peer_loop *l)
{
	return pthread_equal(pthread_self(), l->owner);
}

void peer_loop_wake(struct peer_loop *l)
{
	uint64_t one = 1;

	/* A full counter already means "wake up": nothing to add. */
	if (write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

int peer_loop_add(struct peer_loop *l, struct peer_loop_io *io, int fd,
		  void (*serve)(struct peer_loop_io *, unsigned int))
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = io };
	unsigned int n;
	int err = 0;

	io->fd = fd;
	io->serve = serve;
	io->pending = io->armed_out = false;
	io->active = true;
	pthread_mutex_lock(&l->lock);
	n = __atomic_load_n(&l->n, __ATOMIC_RELAXED);
	if (n >= l->cap)
		err = -ENOSPC;
	else if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		err = -errno;
	if (!err) {
		l->ios[n] = io;
		__atomic_store_n(&l->n, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&l->lock);
	if (!err && !on_loop_thread(l))
		peer_loop_wake(l);
	return err;
}

void peer_loop_remove(struct peer_loop *l, struct peer_loop_io *io)
{
	if (!io->active)
		return;
	io->active = false;
	/* Fails harmlessly when the library closed the socket already. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void peer_loop_want_write(struct peer_loop *l, struct peer_loop_io *io,
			  bool want)
{
	__atomic_store_n(&io->want_write, want, __ATOMIC_RELEASE);
	if (want && !on_loop_thread(l))
		peer_loop_wake(l);
}

static void arm_out(struct peer_loop *l, struct peer_loop_io *io, bool arm)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = io };

	if (io->armed_out == arm)
		return;
	if (arm)
		ev.events |= EPOLLOUT;
	if (!epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev))
		io->armed_out = arm;
}

static bool wants_write(const struct peer_loop_io *io)
{
	return __atomic_load_n(&io->want_write, __ATOMIC_ACQUIRE);
}

static void serve(struct peer_loop *l, struct peer_loop_io *io,
		  unsigned int events)
{
	if (!io->active)
		return;
	if (events & PEER_IO_READ)
		io->served_turn = l->turn;
	io->serve(io, events);
	if (!io->active)
		return;
	/* Output that is still queued after a write would block. */
	if (events & PEER_IO_WRITE)
		arm_out(l, io, wants_write(io));
}

static unsigned int count(const struct peer_loop *l)
{
	return __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);
}

/* Every io with output queued writes it now, unless its socket is full. */
static void write_queued(struct peer_loop *l)
{
	unsigned int i, n = count(l);

	for (i = 0; i < n; i++) {
		struct peer_loop_io *io = l->ios[i];

		if (io->active && !io->armed_out && wants_write(io))
			serve(l, io, PEER_IO_WRITE);
	}
}

static bool any_pending(const struct peer_loop *l)
{
	unsigned int i, n = count(l);

	for (i = 0; i < n; i++)
		if (l->ios[i]->active && l->ios[i]->pending)
			return true;
	return false;
}

/* Input that a library holds already: epoll does not know of it. */
static void serve_pending(struct peer_loop *l)
{
	unsigned int i, n = count(l);

	for (i = 0; i < n; i++) {
		struct peer_loop_io *io = l->ios[i];

		if (io->active && io->pending && io->served_turn != l->turn)
			serve(l, io, PEER_IO_READ);
	}
}

static void drain_wakeups(struct peer_loop *l)
{
	uint64_t v;

	if (read(l->wakefd, &v, sizeof(v)) < 0)
		return;
}

static unsigned int io_events(uint32_t ev)
{
	unsigned int events = 0;

	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		events |= PEER_IO_READ;
	if (ev & EPOLLOUT)
		events |= PEER_IO_WRITE;
	return events;
}

/* epoll_pwait2 takes nanoseconds; kernels before 5.11 get milliseconds. */
static int wait_events(struct peer_loop *l, struct epoll_event *ev,
		       uint64_t wait_ns)
{
	struct timespec ts = { (time_t)(wait_ns / NSEC_PER_SEC),
			       (long)(wait_ns % NSEC_PER_SEC) };
	int n;

	n = epoll_pwait2(l->epfd, ev, EVENTS_PER_WAIT, &ts, NULL);
	if (n >= 0 || errno != ENOSYS)
		return n;
	return epoll_wait(l->epfd, ev, EVENTS_PER_WAIT,
			  (int)((wait_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
}

void peer_loop_turn(struct peer_loop *l, uint64_t deadline_ns)
{
	struct epoll_event ev[EVENTS_PER_WAIT];
	uint64_t now, wait_ns = 0;
	int i, n;

	l->turn++;
	write_queued(l);
	now = kc_mono_ns();
	if (!any_pending(l) && deadline_ns > now)
		wait_ns = deadline_ns - now;
	n = wait_events(l, ev, wait_ns);
	for (i = 0; i < n; i++) {
		if (!ev[i].data.ptr)
			drain_wakeups(l);
		else
			serve(l, ev[i].data.ptr, io_events(ev[i].events));
	}
	serve_pending(l);
	write_queued(l);
}

struct beside {
	struct peer_loop *loop;
	int (*fn)(void *);
	void *arg;
	int result;
	bool done;
};

static void *beside_main(void *p)
{
	struct beside *b = p;

	b->result = b->fn(b->arg);
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	peer_loop_wake(b->loop);
	return NULL;
}

int peer_loop_beside(struct peer_loop *l, int (*fn)(void *), void *arg)
{
	struct beside b = { .loop = l, .fn = fn, .arg = arg };
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, beside_main, &b);
	if (err)
		return -err;
	while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE))
		peer_loop_turn(l, kc_mono_ns() + BESIDE_POLL_NS);
	pthread_join(t, NULL);
	return b.result;
}
