/*
 * NAME
 *	check_removal - unit tests for the scheduler's removal batcher
 * SUMMARY
 *	Bodies wait until removal_flush (control-file directories synced
 *	first), a full batch flushes before the next entry, entries without
 *	a body or with a body already gone are fine, an over-long path is
 *	refused and its body stays, and with an event loop the zero-delay
 *	timer flushes on its own.
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
#include "zevent.h"
#include "zutil.h"

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

/* t_batch - bodies stay until the flush, then all go */
START_TEST(t_batch)
{
	removal rm;
	removal_init(&rm, NULL, 0);
	mk("../queue/11");
	mk("../queue/K/12");
	mk("../queue/13");
	removal_add(&rm, "", "../queue/11", "S11");
	removal_add(&rm, "K/", "../queue/K/12", "S12");
	removal_add(&rm, "", "../queue/13", "S13");
	ck_assert_uint_eq(rm.n, 3);
	ck_assert(exists("../queue/11") && exists("../queue/K/12") && exists("../queue/13"));
	removal_flush(&rm);
	ck_assert_uint_eq(rm.n, 0);
	ck_assert(!exists("../queue/11") && !exists("../queue/K/12") && !exists("../queue/13"));
	removal_flush(&rm);     /* empty: nothing happens */
	removal_free(&rm);
}
END_TEST

/* t_full - a full batch is flushed before the next entry goes in */
START_TEST(t_full)
{
	removal rm;
	removal_init(&rm, NULL, 2);
	mk("../queue/21");
	mk("../queue/22");
	mk("../queue/23");
	removal_add(&rm, "", "../queue/21", NULL);
	removal_add(&rm, "", "../queue/22", NULL);
	ck_assert(exists("../queue/21") && exists("../queue/22"));
	removal_add(&rm, "", "../queue/23", NULL);
	ck_assert(!exists("../queue/21") && !exists("../queue/22"));
	ck_assert(exists("../queue/23"));
	ck_assert_uint_eq(rm.n, 1);
	removal_free(&rm);
	ck_assert(!exists("../queue/23"));
}
END_TEST

/* t_odd - no body, a body already gone, an over-long path */
START_TEST(t_odd)
{
	removal rm;
	char longp[200];
	removal_init(&rm, NULL, 0);
	mk("../queue/31");
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	memcpy(longp, "../queue/31", 11);   /* would name 31 if it were cut */
	removal_add(&rm, "", NULL, "S30");
	removal_add(&rm, "", "../queue/39", "S39");     /* ENOENT: fine */
	removal_add(&rm, "", longp, "S31");
	ck_assert_uint_eq(rm.n, 2);
	removal_flush(&rm);
	ck_assert(exists("../queue/31"));
	removal_free(&rm);
}
END_TEST

/* stop - end the loop */
static void stop(zev_loop *loop, void *arg)
{
	(void)arg;
	zev_stop(loop);
}

/* t_loop - with a loop the batch flushes from a zero-delay timer */
START_TEST(t_loop)
{
	zev_loop *loop = zev_new();
	removal rm;
	ck_assert_ptr_nonnull(loop);
	removal_init(&rm, loop, 0);
	mk("../queue/K/41");
	mk("../queue/42");
	removal_add(&rm, "K/", "../queue/K/41", NULL);
	removal_add(&rm, "", "../queue/42", NULL);
	ck_assert_int_eq(rm.armed, 1);
	ck_assert_uint_eq(zev_timers(loop), 1);     /* one timer per batch */
	ck_assert(exists("../queue/K/41"));
	zev_timer_add(loop, zmono_ms() + 50, stop, NULL);
	zev_run(loop);
	ck_assert_int_eq(rm.armed, 0);
	ck_assert_uint_eq(rm.n, 0);
	ck_assert(!exists("../queue/K/41") && !exists("../queue/42"));
	removal_free(&rm);
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
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
