/*
 * NAME
 *	check_removal - unit tests for the removal of finished messages
 * SUMMARY
 *	Control files and bodies wait until removal_flush, a full batch
 *	flushes before the next entry, entries without a body or with files
 *	already gone are fine, an over-long path is refused and its files
 *	stay, a control file that cannot be removed keeps its body, with an
 *	event loop the zero-delay timer flushes on its own, the worker thread
 *	removes a batch off the loop, a number is free (not busy) as
 *	soon as its body is gone, before the loop takes the batch back, and
 *	a batch that fills while the worker is busy grows instead of making
 *	the loop wait.
 * SYNOPSIS
 *	tests/unit/check_removal (run by make check)
 * DESCRIPTION
 *	Each test makes a scratch postoffice (transport/, transport/K/,
 *	queue/, queue/K/) under $TMPDIR, works from transport/ like the
 *	scheduler and removes the tree at the end.
 * DIAGNOSTICS
 *	libcheck output; exit 1 when a check fails.
 * SECURITY
 *	Touches only its own scratch directory.
 * BUGS
 *	The fsync order is not observable from here (no crash injection);
 *	the worker tests wait for files to go with a bounded poll (no
 *	timing assertion);
 *	sched-*.sh and faults-disk.sh cover the whole path.
 * SEE ALSO
 *	scheduler/removal.c
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "removal.h"
#include "zerr.h"
#include "zevent.h"
#include "zutil.h"
#include "runsuite.h"

static char top[PATH_MAX], oldcwd[PATH_MAX];

/* mk - create a file relative to the current directory */
static void mk(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x\n", 2), 2);
	close(fd);
}

/* exists - does path exist? */
static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* setup - scratch postoffice, cwd = its transport/ */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	ck_assert_ptr_nonnull(getcwd(oldcwd, sizeof oldcwd));
	snprintf(top, sizeof top, "%s/check_removal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(top));
	ck_assert_int_eq(chdir(top), 0);
	ck_assert_int_eq(mkdir("transport", 0700), 0);
	ck_assert_int_eq(mkdir("transport/K", 0700), 0);
	ck_assert_int_eq(mkdir("queue", 0700), 0);
	ck_assert_int_eq(mkdir("queue/K", 0700), 0);
	ck_assert_int_eq(chdir("transport"), 0);
}

/* teardown - remove the scratch tree */
static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	ck_assert_int_eq(chdir(oldcwd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* t_batch - files stay until the flush, then all go; busy until then */
START_TEST(t_batch)
{
	removal rm;
	removal_init(&rm, NULL, 0);
	mk("11"); mk("../queue/11");
	mk("K/12"); mk("../queue/K/12");
	mk("13"); mk("../queue/13");
	removal_add(&rm, 11, "", "11", "../queue/11", "S11");
	removal_add(&rm, 12, "K/", "K/12", "../queue/K/12", "S12");
	removal_add(&rm, 13, "", "13", "../queue/13", "S13");
	ck_assert_uint_eq(rm.fill.n, 3);
	ck_assert(removal_busy(&rm, 11) && removal_busy(&rm, 12) && removal_busy(&rm, 13));
	ck_assert(!removal_busy(&rm, 14));
	ck_assert(exists("11") && exists("../queue/11") && exists("../queue/K/12"));
	removal_flush(&rm);
	ck_assert_uint_eq(rm.fill.n, 0);
	ck_assert(!exists("11") && !exists("K/12") && !exists("13"));
	ck_assert(!exists("../queue/11") && !exists("../queue/K/12") && !exists("../queue/13"));
	ck_assert(!removal_busy(&rm, 11) && !removal_busy(&rm, 12));
	removal_flush(&rm);     /* empty: nothing happens */
	removal_free(&rm);
}
END_TEST

/* t_full - a full batch is flushed before the next entry goes in */
START_TEST(t_full)
{
	removal rm;
	removal_init(&rm, NULL, 2);
	mk("21"); mk("../queue/21");
	mk("22"); mk("../queue/22");
	mk("23"); mk("../queue/23");
	removal_add(&rm, 21, "", "21", "../queue/21", NULL);
	removal_add(&rm, 22, "", "22", "../queue/22", NULL);
	ck_assert(exists("../queue/21") && exists("../queue/22") && exists("21"));
	removal_add(&rm, 23, "", "23", "../queue/23", NULL);
	ck_assert(!exists("../queue/21") && !exists("../queue/22") && !exists("22"));
	ck_assert(exists("../queue/23") && exists("23"));
	ck_assert_uint_eq(rm.fill.n, 1);
	removal_free(&rm);
	ck_assert(!exists("../queue/23") && !exists("23"));
}
END_TEST

/* t_odd - no body, files already gone, over-long paths, an empty name */
START_TEST(t_odd)
{
	removal rm;
	char longp[200];
	removal_init(&rm, NULL, 0);
	mk("31"); mk("../queue/31");
	mk("30");
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	memcpy(longp, "../queue/31", 11);   /* would name 31 if it were cut */
	removal_add(&rm, 30, "", "30", NULL, "S30");
	removal_add(&rm, 39, "", "39", "../queue/39", "S39");     /* ENOENT: fine */
	removal_add(&rm, 31, "", "31", longp, "S31");             /* refused */
	removal_add(&rm, 32, "", "", "../queue/31", "S32");       /* "" is no name */
	ck_assert_uint_eq(rm.fill.n, 3);
	removal_flush(&rm);
	ck_assert(!exists("30"));
	ck_assert(exists("31") && exists("../queue/31"));
	removal_free(&rm);
}
END_TEST

/* t_ctlstays - a control file that cannot be removed keeps its body */
START_TEST(t_ctlstays)
{
	removal rm;
	removal_init(&rm, NULL, 0);
	ck_assert_int_eq(mkdir("51", 0700), 0);   /* unlink fails: EISDIR */
	mk("51/x");
	mk("../queue/51");
	removal_add(&rm, 51, "", "51", "../queue/51", "S51");
	removal_flush(&rm);
	ck_assert(exists("51") && exists("../queue/51"));
	ck_assert(!removal_busy(&rm, 51));        /* the next scan reads it again */
	removal_free(&rm);
	ck_assert_int_eq(unlink("51/x"), 0);
	ck_assert_int_eq(rmdir("51"), 0);
}
END_TEST

/* stop - end the loop */
static void stop(zev_loop *loop, void *arg)
{
	(void)arg;
	zev_stop(loop);
}

/* t_loop - with a loop (no worker) the batch flushes from a zero-delay timer */
START_TEST(t_loop)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 0);
	mk("K/41"); mk("../queue/K/41");
	mk("42"); mk("../queue/42");
	removal_add(&rm, 41, "K/", "K/41", "../queue/K/41", NULL);
	removal_add(&rm, 42, "", "42", "../queue/42", NULL);
	ck_assert_int_eq(rm.armed, 1);
	ck_assert_uint_eq(zev_timers(loop), 1);     /* one timer per batch */
	ck_assert(exists("../queue/K/41") && exists("K/41"));
	zev_timer_add(loop, zmono_ms() + 50, stop, NULL);
	zev_run(loop);
	ck_assert_int_eq(rm.armed, 0);
	ck_assert_uint_eq(rm.fill.n, 0);
	ck_assert(!exists("../queue/K/41") && !exists("../queue/42") && !exists("42"));
	removal_free(&rm);
	zev_free(loop);
}
END_TEST

/* gone_within - poll (bounded: 10 s) until path is gone; 1 when it is */
static int gone_within(const char *path)
{
	for (int i = 0; i < 2000; i++) {
		if (!exists(path))
			return 1;
		usleep(5000);
	}
	return 0;
}

/* t_worker - the worker removes the batch; the loop logs and takes it back */
START_TEST(t_worker)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 0);
	ck_assert_int_eq(removal_start(&rm, loop), Z_OK);
	ck_assert_int_eq(rm.running, 1);
	for (int i = 60; i < 70; i++) {
		char c[16], q[32];
		snprintf(c, sizeof c, "%s%d", i % 2 ? "K/" : "", i);
		snprintf(q, sizeof q, "../queue/%s", c);
		mk(c);
		mk(q);
		removal_add(&rm, (unsigned long)i, i % 2 ? "K/" : "", c, q, NULL);
	}
	ck_assert(removal_busy(&rm, 60) && removal_busy(&rm, 69));
	zev_timer_add(loop, zmono_ms() + 100, stop, NULL);
	zev_run(loop);          /* the timer hands the batch over */
	ck_assert_uint_ge(rm.batches, 1);
	ck_assert(gone_within("../queue/K/69") && gone_within("../queue/60"));
	ck_assert(!exists("60") && !exists("K/69"));
	removal_free(&rm);      /* waits for the worker, stops it */
	ck_assert_int_eq(rm.running, 0);
	zev_free(loop);
}
END_TEST

/* t_numberfree - a number is free as soon as its body is gone, before the
 * loop takes the batch back: a new message reusing it is not "known" */
START_TEST(t_numberfree)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 0);
	ck_assert_int_eq(removal_start(&rm, loop), Z_OK);
	mk("71"); mk("../queue/71");
	removal_add(&rm, 71, "", "71", "../queue/71", NULL);
	ck_assert(removal_busy(&rm, 71));
	removal_flush(&rm);     /* handed over; the loop does not run */
	ck_assert_uint_eq(rm.batches, 1);
	ck_assert(gone_within("../queue/71"));
	/* the worker may still be in its pause: no loop round yet */
	ck_assert_uint_eq(rm.fill.n, 0);
	ck_assert(!removal_busy(&rm, 71));
	removal_free(&rm);
	zev_free(loop);
}
END_TEST

/* t_pace - the worker starts at most one batch per 20 ms, so messages
 * finishing one after another share batches (and transport/ fsyncs):
 * without the pause each flush below would find the worker idle and
 * start a batch of one.  The bound cannot fail from load: a batch ends
 * at least 20 ms after it started.  No fixed count: on a loaded machine
 * a pass of the loop can take over 20 ms, and then 60 batches are right. */
START_TEST(t_pace)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 0);
	ck_assert_int_eq(removal_start(&rm, loop), Z_OK);
	long long t0 = zmono_ms();
	for (int i = 100; i < 160; i++) {
		char c[16], q[32];
		snprintf(c, sizeof c, "%d", i);
		snprintf(q, sizeof q, "../queue/%d", i);
		mk(c);
		mk(q);
		removal_add(&rm, (unsigned long)i, "", c, q, NULL);
		removal_flush(&rm);
		usleep(2000);
	}
	removal_wait(&rm);
	long long ms = zmono_ms() - t0;
	ck_assert(!exists("../queue/100") && !exists("../queue/159") && !exists("159"));
	/* (+2: removal_wait cuts the pause of the last two batches) */
	ck_assert_uint_le(rm.batches, (unsigned long)(ms / 20 + 2));
	removal_free(&rm);
	zev_free(loop);
}
END_TEST

/* t_nowait - a full batch while the worker is busy grows: the loop does
 * not wait for the worker (it used to, for a whole batch of unlinks on a
 * slow disk).  The worker is held in a pause of a minute: waiting for it
 * would run into the test's timeout. */
START_TEST(t_nowait)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 2);
	rm.pace_ms = 60000;
	ck_assert_int_eq(removal_start(&rm, loop), Z_OK);
	for (int i = 200; i < 212; i++) {
		char c[16], q[32];
		snprintf(c, sizeof c, "%d", i);
		snprintf(q, sizeof q, "../queue/%d", i);
		mk(c);
		mk(q);
		removal_add(&rm, (unsigned long)i, "", c, q, NULL);
		if (i == 201)
			removal_flush(&rm);     /* the worker takes 200, 201 and pauses */
	}
	ck_assert_uint_eq(rm.batches, 1);
	ck_assert_uint_eq(rm.fill.n, 10);
	ck_assert_uint_ge(rm.fill.cap, 10);
	for (unsigned long i = 202; i < 212; i++)
		ck_assert(removal_busy(&rm, i));
	ck_assert(exists("211") && exists("../queue/211"));
	removal_free(&rm);      /* cuts the pause, removes the rest */
	ck_assert(!exists("211") && !exists("../queue/211") && !exists("202"));
	ck_assert(!exists("../queue/200") && !exists("201"));
	zev_free(loop);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("removal");
	TCase *tc = tcase_create("removal");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_batch);
	tcase_add_test(tc, t_full);
	tcase_add_test(tc, t_odd);
	tcase_add_test(tc, t_loop);
	tcase_add_test(tc, t_ctlstays);
	tcase_add_test(tc, t_worker);
	tcase_add_test(tc, t_numberfree);
	tcase_add_test(tc, t_pace);
	tcase_add_test(tc, t_nowait);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
