/*
 * NAME
 *	check_zmtactl - unit tests for the zmta supervisor's pure parts
 * SUMMARY
 *	Restart back-off arithmetic, pid-file locking and probing, and the
 *	status file format.
 * SYNOPSIS
 *	check_zmtactl (run by make check)
 * DESCRIPTION
 *	Table-driven libcheck cases against zmtactl/backoff.h, pidfile.h
 *	and state.h.  The lock cases take a lock in this process and probe
 *	it from a second open file description (flock locks belong to
 *	those, so that is the same as another process) and from a child.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Creates files only under a private mkdtemp directory in $TMPDIR.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmtactl/backoff.c, zmtactl/pidfile.c, zmtactl/state.c
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zbuf.h"
#include "zerr.h"
#include "backoff.h"
#include "pidfile.h"
#include "state.h"
#include "scratch.h"

/* --- back-off -------------------------------------------------------------- */

START_TEST(backoff_doubles_to_max)
{
	static const long long want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000 };
	backoff b;

	backoff_init(&b, 0, 0, 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_int_eq(backoff_failed(&b, 10), want[i]);
}
END_TEST

START_TEST(backoff_resets_after_uptime)
{
	backoff b;

	backoff_init(&b, BACKOFF_MIN_MS, BACKOFF_MAX_MS, BACKOFF_RESET_MS);
	ck_assert_int_eq(backoff_failed(&b, 0), 1000);
	ck_assert_int_eq(backoff_failed(&b, 500), 2000);
	ck_assert_int_eq(backoff_failed(&b, 59999), 4000);	/* not long enough */
	ck_assert_int_eq(backoff_failed(&b, 60000), 1000);	/* stayed up: start over */
	ck_assert_int_eq(backoff_failed(&b, 100), 2000);
	ck_assert_int_eq(backoff_failed(&b, 3600000), 1000);
	ck_assert_int_eq(backoff_failed(&b, -5), 2000);		/* a clock oddity is no uptime */
}
END_TEST

START_TEST(backoff_custom_bounds)
{
	static const struct {
		long long min, max, reset;
		long long want[6];
	} t[] = {
		{ 100, 500, 1000, { 100, 200, 400, 500, 500, 500 } },
		{ 300, 1000, 1000, { 300, 600, 1000, 1000, 1000, 1000 } },
		{ 50, 10, 1000, { 50, 50, 50, 50, 50, 50 } },		/* max < min: min */
		{ 1, 0, 0, { 1, 2, 4, 8, 16, 32 } },			/* defaults for 0 */
		{ 0x3fffffffffffffffLL, 0x7fffffffffffffffLL, 1,
		  { 0x3fffffffffffffffLL, 0x7ffffffffffffffeLL, 0x7fffffffffffffffLL,
		    0x7fffffffffffffffLL, 0x7fffffffffffffffLL, 0x7fffffffffffffffLL } },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		backoff b;
		backoff_init(&b, t[i].min, t[i].max, t[i].reset);
		for (size_t k = 0; k < 6; k++)
			ck_assert_msg(backoff_failed(&b, 0) == t[i].want[k], "case %zu step %zu", i, k);
	}
}
END_TEST

/* --- pid files ------------------------------------------------------------- */

static char dir[512];

/* mkdir_scratch - a fresh directory for one case */
static void mkdir_scratch(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/pid.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(pidfile_parse_table)
{
	static const struct {
		const char *s;
		int rc;
		long pid;
	} t[] = {
		{ "1234\n", Z_OK, 1234 }, { "1", Z_OK, 1 }, { "2147483647\n", Z_OK, 2147483647L },
		{ "", Z_EPARSE, 0 }, { "\n", Z_EPARSE, 0 }, { "0\n", Z_EPARSE, 0 },
		{ "0123\n", Z_EPARSE, 0 }, { "-5\n", Z_EPARSE, 0 }, { "+5\n", Z_EPARSE, 0 },
		{ "12 \n", Z_EPARSE, 0 }, { " 12\n", Z_EPARSE, 0 }, { "12\n\n", Z_EPARSE, 0 },
		{ "2147483648\n", Z_EPARSE, 0 }, { "12a\n", Z_EPARSE, 0 },
		{ "99999999999999999999999\n", Z_EPARSE, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		pid_t pid = 0;
		int rc = pidfile_parse(t[i].s, strlen(t[i].s), &pid);
		ck_assert_msg(rc == t[i].rc, "'%s': rc %d", t[i].s, rc);
		if (rc == Z_OK)
			ck_assert_int_eq(pid, t[i].pid);
	}
	{
		pid_t pid = 0;
		ck_assert_int_eq(pidfile_parse("12\0003", 4, &pid), Z_EPARSE);
	}
}
END_TEST

START_TEST(pidfile_lock_probe_release)
{
	char path[600];
	zbuf err = ZBUF_INIT(1024);
	pid_t holder, pid;
	int fd, fd2;

	mkdir_scratch();
	snprintf(path, sizeof path, "%s/.pid.zmta", dir);
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_ENOENT);	/* no file */
	ck_assert_int_eq(pidfile_lock(path, &fd, &holder, &err), Z_OK);
	ck_assert_int_eq(pidfile_write(fd, 4242, &err), Z_OK);
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_OK);
	ck_assert_int_eq(pid, 4242);
	/* a second taker is refused and told who holds it */
	ck_assert_int_eq(pidfile_lock(path, &fd2, &holder, &err), Z_EAGAIN);
	ck_assert_int_eq(fd2, -1);
	ck_assert_int_eq(holder, 4242);
	/* a rewrite replaces, never appends */
	ck_assert_int_eq(pidfile_write(fd, 7, &err), Z_OK);
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_OK);
	ck_assert_int_eq(pid, 7);
	pidfile_release(fd);
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_ENOENT);
	/* the file stays (empty); the next start takes it over */
	{
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, 0);
	}
	ck_assert_int_eq(pidfile_lock(path, &fd, &holder, &err), Z_OK);
	pidfile_release(fd);
	zbuf_free(&err);
}
END_TEST

START_TEST(pidfile_stale_file_taken_over)
{
	char path[600];
	zbuf err = ZBUF_INIT(1024);
	pid_t holder, pid, child;
	int fd, st, p[2];
	char c;

	mkdir_scratch();
	snprintf(path, sizeof path, "%s/.pid.x", dir);
	/* a child holds the lock, then dies without cleaning up */
	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		zbuf e = ZBUF_INIT(256);
		pid_t h;
		int f;
		if (pidfile_lock(path, &f, &h, &e) != Z_OK || pidfile_write(f, getpid(), &e) != Z_OK)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_OK);
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(pidfile_lock(path, &fd, &holder, &err), Z_EAGAIN);
	ck_assert_int_eq(holder, child);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	/* the file still names the dead child, but nobody holds it */
	ck_assert_int_eq(pidfile_probe(path, &pid, &err), Z_ENOENT);
	ck_assert_int_eq(pidfile_lock(path, &fd, &holder, &err), Z_OK);
	pidfile_release(fd);
	close(p[0]);
	zbuf_free(&err);
}
END_TEST

START_TEST(pidfile_refuses_links)
{
	char path[600], target[600], hl[600];
	zbuf err = ZBUF_INIT(1024);
	pid_t holder, pid;
	int fd;

	mkdir_scratch();
	snprintf(target, sizeof target, "%s/precious", dir);
	snprintf(path, sizeof path, "%s/.pid.sym", dir);
	snprintf(hl, sizeof hl, "%s/.pid.hard", dir);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep me\n", 8), 8);
	close(fd);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(link(target, hl), 0);
	ck_assert_int_ne(pidfile_lock(path, &fd, &holder, &err), Z_OK);	/* symlink */
	ck_assert_int_ne(pidfile_lock(hl, &fd, &holder, &err), Z_OK);	/* two links */
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "refused"));
	ck_assert_int_ne(pidfile_probe(hl, &pid, &err), Z_OK);
	/* a directory is no pid file either */
	snprintf(path, sizeof path, "%s/adir", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_ne(pidfile_lock(path, &fd, &holder, &err), Z_OK);
	/* the target is untouched */
	{
		char buf[32] = "";
		int f = open(target, O_RDONLY);
		ck_assert_int_eq(read(f, buf, sizeof buf - 1), 8);
		close(f);
		ck_assert_str_eq(buf, "keep me\n");
	}
	zbuf_free(&err);
}
END_TEST

/* --- the status file ------------------------------------------------------- */

START_TEST(state_round_trip)
{
	sv_state st, back;
	zbuf out = ZBUF_INIT(SV_FILE_MAX), err = ZBUF_INIT(512);

	memset(&st, 0, sizeof st);
	st.pid = 100;
	st.started = 1765000000;
	st.n = 3;
	zstrlcpy(st.d[0].name, "scheduler", sizeof st.d[0].name);
	st.d[0].state = SV_RUNNING;
	st.d[0].pid = 101;
	st.d[0].since = 1765000100;
	st.d[0].restarts = 2;
	st.d[0].last_kind = 2;
	st.d[0].last_code = 9;
	zstrlcpy(st.d[1].name, "router", sizeof st.d[1].name);
	st.d[1].state = SV_WAITING;
	st.d[1].since = 1765000200;
	st.d[1].last_kind = 1;
	st.d[1].last_code = 78;
	zstrlcpy(st.d[2].name, "smtpserver", sizeof st.d[2].name);
	st.d[2].state = SV_ABSENT;
	ck_assert_int_eq(sv_state_format(&st, &out), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&out), "supervisor 100 1765000000\n"
			 "daemon scheduler running 101 1765000100 2 signal:9\n"
			 "daemon router waiting 0 1765000200 0 exit:78\n"
			 "daemon smtpserver absent 0 0 0 -\n");
	ck_assert_int_eq(sv_state_parse(out.data, out.len, &back, &err), Z_OK);
	ck_assert_int_eq(memcmp(&st, &back, sizeof st), 0);
	zbuf_free(&out);
	zbuf_free(&err);
}
END_TEST

START_TEST(state_parse_rejects)
{
	static const char *const bad[] = {
		"",
		"daemon scheduler running 1 2 3 -\n",				/* no supervisor */
		"supervisor 1 2",						/* no newline */
		"supervisor 1 2\nsupervisor 1 2\n",
		"supervisor 1 2 3\n",
		"supervisor x 2\n",
		"supervisor 1 2\ndaemon Sched running 1 2 3 -\n",		/* name charset */
		"supervisor 1 2\ndaemon a/b running 1 2 3 -\n",
		"supervisor 1 2\ndaemon s sleeping 1 2 3 -\n",
		"supervisor 1 2\ndaemon s running 1 2 3\n",
		"supervisor 1 2\ndaemon s running 1 2 3 exit:\n",
		"supervisor 1 2\ndaemon s running 1 2 3 exit:256\n",
		"supervisor 1 2\ndaemon s running 1 2 3 kill:9\n",
		"supervisor 1 2\ndaemon s running 1 2 3 - x\n",
		"supervisor 1 2\ndaemon s running  1 2 3 -\n",
		"supervisor 1 2\ndaemon s running -1 2 3 -\n",
		"supervisor 1 2\ndaemon s running 1 2 3 -\r\n",
		"supervisor 1 2\nother 1\n",
		"supervisor 1 2\ndaemon s\x01 running 1 2 3 -\n",
		"supervisor 1 2\ndaemon aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa running 1 2 3 -\n",
		"supervisor 1 2\ndaemon s running 99999999999 2 3 -\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sv_state st;
		zbuf err = ZBUF_INIT(512);
		ck_assert_msg(sv_state_parse(bad[i], strlen(bad[i]), &st, &err) == Z_EPARSE,
			      "accepted case %zu", i);
		ck_assert_msg(err.len > 0, "no reason for case %zu", i);
		zbuf_free(&err);
	}
	/* more daemons than SV_MAXD */
	{
		zbuf t = ZBUF_INIT(SV_FILE_MAX), err = ZBUF_INIT(512);
		sv_state st;
		zbuf_puts(&t, "supervisor 1 2\n");
		for (int i = 0; i <= SV_MAXD; i++)
			zbuf_printf(&t, "daemon d%d running 1 2 3 -\n", i);
		ck_assert_int_eq(sv_state_parse(t.data, t.len, &st, &err), Z_EPARSE);
		zbuf_free(&t);
		zbuf_free(&err);
	}
}
END_TEST

/* suite - all cases */
static Suite *suite(void)
{
	Suite *s = suite_create("zmtactl");
	TCase *tb = tcase_create("backoff"), *tp = tcase_create("pidfile"), *ts = tcase_create("state");

	tcase_add_test(tb, backoff_doubles_to_max);
	tcase_add_test(tb, backoff_resets_after_uptime);
	tcase_add_test(tb, backoff_custom_bounds);
	tcase_add_test(tp, pidfile_parse_table);
	tcase_add_test(tp, pidfile_lock_probe_release);
	tcase_add_test(tp, pidfile_stale_file_taken_over);
	tcase_add_test(tp, pidfile_refuses_links);
	tcase_add_test(ts, state_round_trip);
	tcase_add_test(ts, state_parse_rejects);
	suite_add_tcase(s, tb);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	return scratch_run(suite(), "check_zmtactl");
}
