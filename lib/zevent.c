/*
 * NAME
 *	zevent - epoll event loop with millisecond timers in a binary heap
 * SUMMARY
 *	Watches file descriptors for readability/writability and fires
 *	one-shot timers at monotonic millisecond times.
 * SYNOPSIS
 *	zev_loop *zev_new(void);
 *	void zev_free(zev_loop *loop);
 *	int zev_io_add(zev_loop *loop, int fd, unsigned events, zev_io_fn fn, void *arg);
 *	int zev_io_mod(zev_loop *loop, int fd, unsigned events);
 *	int zev_io_del(zev_loop *loop, int fd);
 *	uint64_t zev_timer_add(zev_loop *loop, long long when_ms, zev_timer_fn fn, void *arg);
 *	int zev_timer_cancel(zev_loop *loop, uint64_t id);
 *	int zev_run_once(zev_loop *loop, int max_wait_ms);
 *	int zev_run(zev_loop *loop);
 *	void zev_stop(zev_loop *loop);
 *	unsigned long zev_timers(const zev_loop *loop);
 *	void zev_set_prewait(zev_loop *loop, zev_prewait_fn fn, void *arg);
 * DESCRIPTION
 *	Times are zmono_ms() values.  Each zev_run_once waits until the
 *	earliest timer (or max_wait_ms), dispatches ready descriptors, then
 *	fires the timers that were due when the timer phase began, earliest
 *	first (ties in order of creation).  Callbacks may add and cancel
 *	timers and add, modify and delete descriptors: an event for a
 *	descriptor deleted (or deleted and re-added) earlier in the same
 *	round is not delivered, and a timer added during the timer phase
 *	runs in a later round at the earliest.
 *	ZEV_EXCLUSIVE at zev_io_add asks for EPOLLEXCLUSIVE (read interest
 *	only, as epoll(7) allows): when several processes' loops watch one
 *	listening socket, a new connection wakes one of them, not all; if
 *	the kernel refuses the flag (EINVAL, before Linux 4.5) the
 *	descriptor is added without it.
 *	zev_run returns when zev_stop is called or nothing is left to wait on.
 *	A prewait hook (zev_set_prewait) runs at the start of every
 *	zev_run_once, before the wait: the place to write out what the last
 *	round's callbacks collected (held log lines, batches).
 * DIAGNOSTICS
 *	Z_OK, Z_EIO (epoll failure, errno kept), Z_ENOMEM, Z_ENOENT
 *	(unknown fd or timer), Z_ERR (fd already registered / bad fd).
 * SECURITY
 *	No input parsing; correctness of bookkeeping is what matters.  It
 *	must never call back for a timer or descriptor already deleted in
 *	the same round.
 * BUGS
 *	zev_timer_cancel is linear in the number of timers.
 * SEE ALSO
 *	epoll(7), zutil.h (zmono_ms)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "zerr.h"
#include "zevent.h"
#include "zutil.h"

struct zev_io {
	zev_io_fn fn;
	void *arg;
	unsigned events;
	uint32_t gen;     /* bumped on every add, so stale events are ignored */
	int active;
};

struct zev_timer {
	long long when;
	uint64_t id;
	zev_timer_fn fn;
	void *arg;
};

struct zev_loop {
	int epfd;
	struct zev_io *io;
	size_t nio;
	struct zev_timer *heap;
	size_t nheap, capheap;
	struct zev_timer *firing;   /* timers taken off the heap this round */
	size_t nfiring, capfiring;
	uint64_t next_id;
	uint32_t next_gen;
	int stop;
	unsigned long nfds;
	zev_prewait_fn prewait;     /* zev_set_prewait, or NULL */
	void *prewait_arg;
};

/* zev_new - create a loop */
zev_loop *zev_new(void)
{
	zev_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->next_id = 1;
	l->next_gen = 1;
	return l;
}

/* zev_free - destroy a loop (descriptors are not closed) */
void zev_free(zev_loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop->io);
	free(loop->heap);
	free(loop->firing);
	free(loop);
}

/* zev_epoll_events - our flags to epoll's */
static uint32_t zev_epoll_events(unsigned events)
{
	uint32_t e = 0;

	if (events & ZEV_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & ZEV_WRITE)
		e |= EPOLLOUT;
	return e;
}

/* zev_io_add - watch fd */
int zev_io_add(zev_loop *loop, int fd, unsigned events, zev_io_fn fn, void *arg)
{
	struct epoll_event ev;

	if (fd < 0 || fn == NULL)
		return Z_ERR;
	if ((size_t)fd >= loop->nio) {
		size_t n = loop->nio ? loop->nio : 16;
		struct zev_io *t;
		while (n <= (size_t)fd)
			n *= 2;
		t = realloc(loop->io, n * sizeof(*t));
		if (t == NULL)
			return Z_ENOMEM;
		memset(t + loop->nio, 0, (n - loop->nio) * sizeof(*t));
		loop->io = t;
		loop->nio = n;
	}
	if (loop->io[fd].active)
		return Z_ERR;
	memset(&ev, 0, sizeof(ev));
	ev.events = zev_epoll_events(events);
	loop->next_gen++;
	ev.data.u64 = ((uint64_t)loop->next_gen << 32) | (uint32_t)fd;
	if (events & ZEV_EXCLUSIVE) {
		/* epoll refuses EPOLLRDHUP beside EPOLLEXCLUSIVE */
		struct epoll_event xev = ev;
		xev.events = EPOLLIN | EPOLLEXCLUSIVE;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &xev) == 0)
			goto added;
		if (errno != EINVAL)
			return Z_EIO;
	}
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return Z_EIO;
added:
	loop->io[fd].fn = fn;
	loop->io[fd].arg = arg;
	loop->io[fd].events = events & (ZEV_READ | ZEV_WRITE);
	loop->io[fd].gen = loop->next_gen;
	loop->io[fd].active = 1;
	loop->nfds++;
	return Z_OK;
}

/* zev_io_mod - change the events watched */
int zev_io_mod(zev_loop *loop, int fd, unsigned events)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= loop->nio || !loop->io[fd].active)
		return Z_ENOENT;
	memset(&ev, 0, sizeof(ev));
	ev.events = zev_epoll_events(events);
	ev.data.u64 = ((uint64_t)loop->io[fd].gen << 32) | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
		return Z_EIO;
	loop->io[fd].events = events;
	return Z_OK;
}

/* zev_io_del - stop watching fd (call before closing it) */
int zev_io_del(zev_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nio || !loop->io[fd].active)
		return Z_ENOENT;
	/* the fd may already be closed: ignore EBADF/ENOENT */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->io[fd].active = 0;
	loop->io[fd].fn = NULL;
	loop->nfds--;
	return Z_OK;
}

/* zev_before - heap order: earlier time, then lower id */
static int zev_before(const struct zev_timer *a, const struct zev_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

/* zev_sift_up - restore heap order upwards from i */
static void zev_sift_up(zev_loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct zev_timer t;
		if (!zev_before(&l->heap[i], &l->heap[p]))
			break;
		t = l->heap[i];
		l->heap[i] = l->heap[p];
		l->heap[p] = t;
		i = p;
	}
}

/* zev_sift_down - restore heap order downwards from i */
static void zev_sift_down(zev_loop *l, size_t i)
{
	for (;;) {
		size_t a = 2 * i + 1, b = a + 1, m = i;
		struct zev_timer t;
		if (a < l->nheap && zev_before(&l->heap[a], &l->heap[m]))
			m = a;
		if (b < l->nheap && zev_before(&l->heap[b], &l->heap[m]))
			m = b;
		if (m == i)
			break;
		t = l->heap[i];
		l->heap[i] = l->heap[m];
		l->heap[m] = t;
		i = m;
	}
}

/* zev_heap_remove - remove heap entry i */
static void zev_heap_remove(zev_loop *l, size_t i)
{
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	zev_sift_down(l, i);
	zev_sift_up(l, i);
}

/* zev_timer_add - call fn once at when_ms */
uint64_t zev_timer_add(zev_loop *loop, long long when_ms, zev_timer_fn fn, void *arg)
{
	if (fn == NULL)
		return 0;
	if (loop->nheap == loop->capheap) {
		size_t n = loop->capheap ? loop->capheap * 2 : 16;
		struct zev_timer *t;
		if (n > ((size_t)-1) / sizeof(*t))
			return 0;
		t = realloc(loop->heap, n * sizeof(*t));
		if (t == NULL)
			return 0;
		loop->heap = t;
		loop->capheap = n;
	}
	loop->heap[loop->nheap].when = when_ms;
	loop->heap[loop->nheap].id = loop->next_id;
	loop->heap[loop->nheap].fn = fn;
	loop->heap[loop->nheap].arg = arg;
	loop->nheap++;
	zev_sift_up(loop, loop->nheap - 1);
	return loop->next_id++;
}

/* zev_timer_cancel - forget a pending timer */
int zev_timer_cancel(zev_loop *loop, uint64_t id)
{
	for (size_t i = 0; i < loop->nheap; i++)
		if (loop->heap[i].id == id) {
			zev_heap_remove(loop, i);
			return Z_OK;
		}
	for (size_t i = 0; i < loop->nfiring; i++)
		if (loop->firing[i].id == id && loop->firing[i].fn != NULL) {
			loop->firing[i].fn = NULL;
			return Z_OK;
		}
	return Z_ENOENT;
}

/* zev_timers - number of pending timers */
unsigned long zev_timers(const zev_loop *loop)
{
	unsigned long n = loop->nheap;

	for (size_t i = 0; i < loop->nfiring; i++)
		if (loop->firing[i].fn != NULL)
			n++;
	return n;
}

/* zev_fire_timers - run the timers due at now */
static int zev_fire_timers(zev_loop *loop, long long now)
{
	loop->nfiring = 0;
	while (loop->nheap > 0 && loop->heap[0].when <= now) {
		if (loop->nfiring == loop->capfiring) {
			size_t c = loop->capfiring ? loop->capfiring * 2 : 16;
			struct zev_timer *t = realloc(loop->firing, c * sizeof(*t));
			if (t == NULL)
				break; /* the rest fire next round */
			loop->firing = t;
			loop->capfiring = c;
		}
		loop->firing[loop->nfiring++] = loop->heap[0];
		zev_heap_remove(loop, 0);
	}
	for (size_t i = 0; i < loop->nfiring; i++) {
		zev_timer_fn fn = loop->firing[i].fn;
		if (fn == NULL)
			continue;
		loop->firing[i].fn = NULL;
		fn(loop, loop->firing[i].arg);
	}
	loop->nfiring = 0;
	return Z_OK;
}

/* zev_run_once - wait at most max_wait_ms (-1 forever) and dispatch */
int zev_run_once(zev_loop *loop, int max_wait_ms)
{
	struct epoll_event evs[64];
	int timeout = max_wait_ms;
	int n;
	long long now;

	if (loop->prewait != NULL)
		loop->prewait(loop->prewait_arg);
	if (loop->nheap > 0) {
		long long d = loop->heap[0].when - zmono_ms();
		if (d < 0)
			d = 0;
		if (d > 0x7fffffff)
			d = 0x7fffffff;
		if (timeout < 0 || d < timeout)
			timeout = (int)d;
	}
	n = epoll_wait(loop->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
	if (n < 0) {
		if (errno != EINTR)
			return Z_EIO;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)(evs[i].data.u64 & 0xffffffffu);
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		unsigned what = 0;
		struct zev_io *io;

		if (fd < 0 || (size_t)fd >= loop->nio)
			continue;
		io = &loop->io[fd];
		if (!io->active || io->gen != gen)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
			what |= ZEV_READ;
		if (evs[i].events & EPOLLOUT)
			what |= ZEV_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			what |= ZEV_ERROR | (io->events & ZEV_READ);
		what &= io->events | ZEV_ERROR;
		if (what == 0)
			continue;
		io->fn(loop, fd, what, io->arg);
	}
	now = zmono_ms();
	return zev_fire_timers(loop, now);
}

/* zev_run - dispatch until zev_stop or nothing is left */
int zev_run(zev_loop *loop)
{
	int rc = Z_OK;

	loop->stop = 0;
	while (!loop->stop) {
		if (loop->nfds == 0 && loop->nheap == 0)
			break;
		rc = zev_run_once(loop, -1);
		if (rc != Z_OK)
			break;
	}
	loop->stop = 0;
	return rc;
}

/* zev_set_prewait - fn(arg) before every wait (NULL: none) */
void zev_set_prewait(zev_loop *loop, zev_prewait_fn fn, void *arg)
{
	loop->prewait = fn;
	loop->prewait_arg = arg;
}

/* zev_stop - make zev_run return after the current round */
void zev_stop(zev_loop *loop)
{
	loop->stop = 1;
}
