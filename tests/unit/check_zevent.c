/*
 * NAME
 *	check_zevent - unit tests for the epoll event loop and timer heap
 * SUMMARY
 *	Timer order, cancellation (also from callbacks), io on a pipe,
 *	deleting descriptors during dispatch, ZEV_EXCLUSIVE in two loops.
 * SYNOPSIS
 *	check_zevent (run by make check)
 * DESCRIPTION
 *	Timers are set in the past or a few ms ahead; no timing assertions.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Test code; no outside input.
 * BUGS
 *	None known.
 * SEE ALSO
 *	lib/zevent.h
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "zbuf.h"
#include "zevent.h"
#include "zutil.h"

static zbuf order = ZBUF_INIT(256);
static uint64_t to_cancel;

/* t_mark - timer callback: append its name */
static void t_mark(zev_loop *loop, void *arg)
{
	zbuf_puts(&order, (const char *)arg);
}

/* t_cancel_other - timer callback that cancels another due timer */
static void t_cancel_other(zev_loop *loop, void *arg)
{
	zbuf_puts(&order, (const char *)arg);
	ck_assert_int_eq(zev_timer_cancel(loop, to_cancel), Z_OK);
}

/* t_add_more - timer callback that adds an immediately due timer */
static void t_add_more(zev_loop *loop, void *arg)
{
	zbuf_puts(&order, (const char *)arg);
	ck_assert_uint_ne(zev_timer_add(loop, 0, t_mark, "N"), 0);
}

START_TEST(test_timer_order)
{
	zev_loop *l = zev_new();
	long long now = zmono_ms();
	static const int whens[] = { 50, 10, 30, 20, 40, 10, 0, -5 };
	static const char *const names[] = { "f", "b", "d", "c", "e", "B", "a", "Z" };
	uint64_t ids[8];

	ck_assert_ptr_nonnull(l);
	zbuf_reset(&order);
	for (int i = 0; i < 8; i++) {
		ids[i] = zev_timer_add(l, now + whens[i], t_mark, (void *)names[i]);
		ck_assert_uint_gt(ids[i], 0);
	}
	ck_assert_uint_eq(zev_timers(l), 8);
	ck_assert_int_eq(zev_timer_cancel(l, ids[4]), Z_OK); /* "e" */
	ck_assert_int_eq(zev_timer_cancel(l, ids[4]), Z_ENOENT);
	ck_assert_uint_eq(zev_timers(l), 7);
	while (zev_timers(l) > 0)
		ck_assert_int_eq(zev_run_once(l, 1000), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&order), "ZabBcdf");
	zev_free(l);
}
END_TEST

START_TEST(test_timer_callbacks)
{
	zev_loop *l = zev_new();
	long long now = zmono_ms();

	zbuf_reset(&order);
	zev_timer_add(l, now - 10, t_cancel_other, "1");
	to_cancel = zev_timer_add(l, now - 5, t_mark, "X");  /* due, cancelled by "1" */
	zev_timer_add(l, now - 1, t_add_more, "2");
	ck_assert_int_eq(zev_run_once(l, 0), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&order), "12");  /* "N" waits for the next round */
	ck_assert_uint_eq(zev_timers(l), 1);
	ck_assert_int_eq(zev_run_once(l, 0), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&order), "12N");
	ck_assert_uint_eq(zev_timers(l), 0);
	ck_assert_int_eq(zev_run(l), Z_OK); /* nothing left: returns */
	zev_free(l);
}
END_TEST

struct pipe_ctx {
	int rfd, wfd, other_rfd;
	zbuf got;
	int calls;
	int deleted_other;
};

/* on_read - read callback: collect bytes, stop at EOF, delete the other fd */
static void on_read(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct pipe_ctx *c = arg;
	char buf[64];
	ssize_t n;

	c->calls++;
	ck_assert(ev & ZEV_READ);
	n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		zbuf_append(&c->got, buf, (size_t)n);
	} else {
		ck_assert_int_eq(zev_io_del(loop, fd), Z_OK);
		zev_stop(loop);
	}
	if (c->other_rfd >= 0 && !c->deleted_other) {
		/* delete the other ready descriptor: its event must not arrive */
		ck_assert_int_eq(zev_io_del(loop, c->other_rfd), Z_OK);
		c->deleted_other = 1;
	}
}

/* on_write - write callback: send "ping" once and close */
static void on_write(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct pipe_ctx *c = arg;

	ck_assert(ev & ZEV_WRITE);
	ck_assert_int_eq(zwrite_all(fd, "ping", 4), Z_OK);
	ck_assert_int_eq(zev_io_del(loop, fd), Z_OK);
	close(fd);
	c->wfd = -1;
}

/* prewait_mark - the prewait hook: "P" into the order record */
static void prewait_mark(void *arg)
{
	(void)arg;
	zbuf_putc(&order, 'P');
}

/* the prewait hook runs before every wait, before the timers of the round */
START_TEST(test_prewait)
{
	zev_loop *l = zev_new();
	long long now = zmono_ms();

	zbuf_reset(&order);
	zev_set_prewait(l, prewait_mark, NULL);
	ck_assert(zev_timer_add(l, now, t_mark, "a") > 0);
	ck_assert(zev_timer_add(l, now + 20, t_mark, "b") > 0);
	ck_assert_int_eq(zev_run(l), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&order), "PaPb");
	zev_set_prewait(l, NULL, NULL);
	ck_assert(zev_timer_add(l, now, t_mark, "c") > 0);
	ck_assert_int_eq(zev_run(l), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&order), "PaPbc");
	zev_free(l);
}
END_TEST

START_TEST(test_io_pipe)
{
	zev_loop *l = zev_new();
	struct pipe_ctx c;
	int fds[2];

	memset(&c, 0, sizeof(c));
	zbuf_init(&c.got, 64);
	c.other_rfd = -1;
	ck_assert_int_eq(pipe(fds), 0);
	c.rfd = fds[0];
	c.wfd = fds[1];
	ck_assert_int_eq(zev_io_add(l, c.rfd, ZEV_READ, on_read, &c), Z_OK);
	ck_assert_int_eq(zev_io_add(l, c.rfd, ZEV_READ, on_read, &c), Z_ERR);
	ck_assert_int_eq(zev_io_add(l, c.wfd, 0, on_write, &c), Z_OK);
	ck_assert_int_eq(zev_io_mod(l, c.wfd, ZEV_WRITE), Z_OK);
	ck_assert_int_eq(zev_io_mod(l, 999, ZEV_WRITE), Z_ENOENT);
	ck_assert_int_eq(zev_run(l), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&c.got), "ping");
	ck_assert_int_eq(c.wfd, -1);
	ck_assert_int_eq(zev_io_del(l, c.rfd), Z_ENOENT);
	close(c.rfd);
	zbuf_free(&c.got);
	zev_free(l);
}
END_TEST

static int other_calls;

/* on_other - count deliveries */
static void on_other(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	other_calls++;
}

static unsigned excl_ev[2];

/* on_excl - record what loop arg's callback was given */
static void on_excl(zev_loop *loop, int fd, unsigned ev, void *arg)
{
	(void)loop;
	(void)fd;
	excl_ev[*(int *)arg] |= ev;
}

/* one descriptor watched by two loops with ZEV_EXCLUSIVE: each still
 * dispatches it as plain ZEV_READ, and it can be deleted again */
START_TEST(test_exclusive)
{
	zev_loop *a = zev_new(), *b = zev_new();
	int fds[2], ia = 0, ib = 1;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(pipe(fds), 0);
	excl_ev[0] = excl_ev[1] = 0;
	ck_assert_int_eq(zev_io_add(a, fds[0], ZEV_READ | ZEV_EXCLUSIVE, on_excl, &ia), Z_OK);
	ck_assert_int_eq(zev_io_add(b, fds[0], ZEV_READ | ZEV_EXCLUSIVE, on_excl, &ib), Z_OK);
	ck_assert_int_eq(zev_run_once(a, 0), Z_OK);
	ck_assert_uint_eq(excl_ev[0], 0);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	/* level-triggered: each loop that looks finds it readable */
	ck_assert_int_eq(zev_run_once(a, 1000), Z_OK);
	ck_assert_int_eq(zev_run_once(b, 1000), Z_OK);
	ck_assert_uint_eq(excl_ev[0], ZEV_READ);
	ck_assert_uint_eq(excl_ev[1], ZEV_READ);
	ck_assert_int_eq(zev_io_del(a, fds[0]), Z_OK);
	ck_assert_int_eq(zev_io_del(b, fds[0]), Z_OK);
	close(fds[0]);
	close(fds[1]);
	zev_free(a);
	zev_free(b);
}
END_TEST

START_TEST(test_del_during_dispatch)
{
	zev_loop *l = zev_new();
	struct pipe_ctx a, b;
	int p1[2], p2[2];
	int rounds;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	zbuf_init(&a.got, 64);
	zbuf_init(&b.got, 64);
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	ck_assert_int_eq(zwrite_all(p1[1], "x", 1), Z_OK);
	ck_assert_int_eq(zwrite_all(p2[1], "y", 1), Z_OK);
	/* whichever callback runs first deletes the other */
	a.other_rfd = p2[0];
	b.other_rfd = p1[0];
	ck_assert_int_eq(zev_io_add(l, p1[0], ZEV_READ, on_read, &a), Z_OK);
	ck_assert_int_eq(zev_io_add(l, p2[0], ZEV_READ, on_read, &b), Z_OK);
	ck_assert_int_eq(zev_run_once(l, 1000), Z_OK);
	ck_assert_int_eq(a.calls + b.calls, 1);
	/* re-add the deleted one with another callback: the old event is stale */
	other_calls = 0;
	if (a.calls)
		ck_assert_int_eq(zev_io_add(l, p2[0], ZEV_READ, on_other, NULL), Z_OK);
	else
		ck_assert_int_eq(zev_io_add(l, p1[0], ZEV_READ, on_other, NULL), Z_OK);
	for (rounds = 0; rounds < 5 && other_calls == 0; rounds++)
		ck_assert_int_eq(zev_run_once(l, 100), Z_OK);
	ck_assert_int_eq(other_calls, 1); /* still readable: delivered to the new one */
	close(p1[0]); close(p1[1]); close(p2[0]); close(p2[1]);
	zbuf_free(&a.got);
	zbuf_free(&b.got);
	zev_free(l);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("zevent");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_timer_order);
	tcase_add_test(tc, test_timer_callbacks);
	tcase_add_test(tc, test_io_pipe);
	tcase_add_test(tc, test_prewait);
	tcase_add_test(tc, test_del_during_dispatch);
	tcase_add_test(tc, test_exclusive);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	zbuf_free(&order);
	return failed == 0 ? 0 : 1;
}
