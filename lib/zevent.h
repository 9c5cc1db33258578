/*
 * zevent.h - a small epoll event loop with millisecond timers (binary heap).
 */
#ifndef ZMTA_ZEVENT_H
#define ZMTA_ZEVENT_H

#include <stdint.h>

#define ZEV_READ 1u
#define ZEV_WRITE 2u
#define ZEV_ERROR 4u   /* given to callbacks on EPOLLERR/EPOLLHUP */
/* ZEV_EXCLUSIVE - with ZEV_READ at zev_io_add only: of several loops (in
 * several processes) watching the same descriptor, one is woken per event
 * (a shared listening socket; EPOLLEXCLUSIVE; ignored where unsupported);
 * such a descriptor cannot be changed with zev_io_mod */
#define ZEV_EXCLUSIVE 8u

typedef struct zev_loop zev_loop;
typedef void (*zev_io_fn)(zev_loop *loop, int fd, unsigned events, void *arg);
typedef void (*zev_timer_fn)(zev_loop *loop, void *arg);
typedef void (*zev_prewait_fn)(void *arg);

zev_loop *zev_new(void);
void zev_free(zev_loop *loop);
/* zev_io_add / mod / del - watch fd for ZEV_READ|ZEV_WRITE */
int zev_io_add(zev_loop *loop, int fd, unsigned events, zev_io_fn fn, void *arg);
int zev_io_mod(zev_loop *loop, int fd, unsigned events);
int zev_io_del(zev_loop *loop, int fd);
/* zev_timer_add - call fn once at monotonic time when_ms; returns id > 0 or 0 on ENOMEM */
uint64_t zev_timer_add(zev_loop *loop, long long when_ms, zev_timer_fn fn, void *arg);
/* zev_timer_cancel - Z_OK or Z_ENOENT */
int zev_timer_cancel(zev_loop *loop, uint64_t id);
/* zev_run_once - wait at most max_wait_ms (-1 forever) and dispatch */
int zev_run_once(zev_loop *loop, int max_wait_ms);
/* zev_run - until zev_stop */
int zev_run(zev_loop *loop);
void zev_stop(zev_loop *loop);
/* zev_timers - number of pending timers */
unsigned long zev_timers(const zev_loop *loop);
/* zev_set_prewait - call fn(arg) at the start of each zev_run_once, before
 * it waits (NULL: none) */
void zev_set_prewait(zev_loop *loop, zev_prewait_fn fn, void *arg);

#endif
