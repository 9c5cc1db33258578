/*
 * NAME
 *	check_submit - unit tests for spool/submit.c
 * SUMMARY
 *	Submission into router/ (or another spool directory).
 * SYNOPSIS
 *	check_submit (run by make check)
 * DESCRIPTION
 *	Submits into a temporary POSTOFFICE: the file lands in router/ (or
 *	router/X/) named by its inode with exactly the bytes written, the
 *	scratch file is gone, the "NEW router <ino>" datagram arrives at
 *	.router.notify; newline refusals; abort; bad target directory;
 *	deferred handles (submit_begin, submit_source_fd).
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Works in a mkdtemp() directory under $TMPDIR or /tmp, all of it
 *	below one scratch directory the parent removes (scratch.h).
 * BUGS
 *	None known.
 * SEE ALSO
 *	spool/submit.c, zmta-spool(5)
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zbuf.h"
#include "zutil.h"
#include "spool.h"
#include "submit.h"
#include "scratch.h"

static char tmpdir[256], po[400];

/* setup - scratch directory with an initialised spool */
static void setup(void)
{
	zbuf err = ZBUF_INIT(512);
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_submit.XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(po, sizeof(po), "%s/po", tmpdir);
	ck_assert_int_eq(spool_init(po, 0, &err), Z_OK);
	zbuf_free(&err);
}

/* teardown - remove the scratch directory */
static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* count_dir - entries not starting with '.' */
static int count_dir(const char *sub)
{
	char p[600];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", po, sub);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const char MSG[] = "From: Bob <bob@client.example.org>\nSubject: lunch\n\nNoon?\n";

/* test_submit_local_user - a submitter that is not the mail system cannot
 * write router/ (2750): its finished file stays in public/ as <ino> */
START_TEST(test_submit_local_user)
{
	char p[700];
	struct stat st;
	if (geteuid() != 0)
		return;     /* needs a second user */
	/* the tree belongs to the mail system (here root); nobody submits */
	{
		/* nobody must be able to reach po: o+x on our scratch parents */
		char d[700];
		ck_assert_int_eq(zstrlcpy(d, tmpdir, sizeof d), Z_OK);
		for (char *sl; d[0] != '\0'; *sl = '\0') {
			if (stat(d, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & 01))
				ck_assert_int_eq(chmod(d, (st.st_mode & 07777) | 0111), 0);
			if ((sl = strrchr(d, '/')) == NULL)
				break;
		}
	}
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		zbuf err = ZBUF_INIT(512);
		submit s;
		unsigned long ino = 0;
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		if (submit_open(&s, po, &err) != Z_OK) {
			fprintf(stderr, "%s\n", zbuf_cstr(&err));
			_exit(11);
		}
		if (submit_env(&s, "env-end", NULL) != Z_OK || submit_write(&s, MSG, strlen(MSG)) != Z_OK)
			_exit(12);
		if (submit_commit(&s, NULL, 0, &ino, &err) != Z_OK) {
			fprintf(stderr, "%s\n", zbuf_cstr(&err));
			_exit(13);
		}
		printf("%lu\n", ino);
		snprintf(p, sizeof(p), "%s/public/%lu", po, ino);
		_exit(access(p, F_OK) == 0 ? 0 : 14);
	}
	int wst;
	ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
	ck_assert(WIFEXITED(wst));
	ck_assert_int_eq(WEXITSTATUS(wst), 0);
	ck_assert_int_eq(count_dir("router"), 0);
	ck_assert_int_eq(count_dir("public"), 1);
	/* it is readable by the mail system's group (public/ is setgid) */
	DIR *d;
	struct dirent *e;
	snprintf(p, sizeof(p), "%s/public", po);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_eq(strspn(e->d_name, "0123456789"), strlen(e->d_name));
		snprintf(p, sizeof(p), "%s/public/%s", po, e->d_name);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(st.st_uid, 65534);
		ck_assert_int_eq(st.st_gid, 0);
		ck_assert_int_eq(st.st_mode & 0777, 0640);
	}
	closedir(d);
}
END_TEST

START_TEST(test_submit_router)
{
	zbuf err = ZBUF_INIT(512), got = ZBUF_INIT(65536), want = ZBUF_INIT(65536);
	struct sockaddr_un sa;
	char p[700], dgram[256], host[64];
	submit s;
	unsigned long ino = 0;
	struct stat st;
	ssize_t n;
	int sfd;

	/* a router listening on .router.notify */
	sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(sfd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(po) + 16, sizeof(sa.sun_path));
	memcpy(sa.sun_path, po, strlen(po));
	memcpy(sa.sun_path + strlen(po), "/.router.notify", 16);
	ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	/* scratch name: public/<host<=19>:<pid> */
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[19] = '\0';
	snprintf(p, sizeof(p), "%s/public/%s:%ld", po, host, (long)getpid());
	if (strchr(host, '/') == NULL)
		ck_assert_str_eq(s.tmppath, p);
	ck_assert_int_eq(stat(s.tmppath, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_uint_eq(s.ino, (unsigned long)st.st_ino);
	ck_assert_int_eq(submit_env(&s, "external", NULL), Z_OK);
	ck_assert_int_eq(submit_env(&s, "rcvdfrom", "client.example.org (192.0.2.7)"), Z_OK);
	ck_assert_int_eq(submit_env(&s, "from", "<bob@client.example.org>"), Z_OK);
	ck_assert_int_eq(submit_env(&s, "to", "<alice@example.net>\nto <evil@x>"), Z_EPARSE);
	ck_assert_int_eq(submit_env(&s, "to\nfrom", "<x>"), Z_EPARSE);
	ck_assert_int_eq(submit_env(&s, "to x", "<x>"), Z_EPARSE);
	ck_assert_int_eq(submit_env(&s, "", "<x>"), Z_EPARSE);
	ck_assert_int_eq(submit_env(&s, "to", "<alice@example.net>"), Z_OK);
	ck_assert_int_eq(submit_env(&s, "env-end", NULL), Z_OK);
	ck_assert_int_eq(submit_write(&s, MSG, strlen(MSG)), Z_OK);
	/* a second submission while the first is open gets the ".1" suffix */
	{
		submit s2;
		ck_assert_int_eq(submit_open(&s2, po, &err), Z_OK);
		ck_assert_str_eq(s2.tmppath + strlen(s2.tmppath) - 2, ".1");
		ck_assert_int_eq(zstrlcpy(p, s2.tmppath, sizeof(p)), Z_OK);
		submit_abort(&s2);
		ck_assert_int_eq(access(p, F_OK), -1);
	}
	/* many at once (smtpserver's commit pool): every one gets a name */
	{
		static submit many[40];
		for (int i = 0; i < 40; i++)
			ck_assert_int_eq(submit_open(&many[i], po, &err), Z_OK);
		for (int i = 0; i < 40; i++)
			submit_abort(&many[i]);
	}
	ck_assert_int_eq(submit_commit(&s, NULL, 0, &ino, &err), Z_OK);
	ck_assert_uint_eq(ino, (unsigned long)st.st_ino);
	ck_assert_int_eq(count_dir("public"), 0);
	ck_assert_int_eq(count_dir("router"), 1);
	snprintf(p, sizeof(p), "%s/router/%lu", po, ino);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq((unsigned long)st.st_ino, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	zbuf_puts(&want, "external\nrcvdfrom client.example.org (192.0.2.7)\n"
		  "from <bob@client.example.org>\nto <alice@example.net>\nenv-end\n");
	zbuf_puts(&want, MSG);
	ck_assert_str_eq(zbuf_cstr(&got), zbuf_cstr(&want));
	n = recv(sfd, dgram, sizeof(dgram) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	dgram[n] = '\0';
	snprintf(p, sizeof(p), "NEW router %lu", ino);
	ck_assert_str_eq(dgram, p);
	/* SUBMIT_NODIRSYNC: renamed, no notice until submit_announce_on */
	{
		submit s3;
		unsigned long ino3 = 0;
		int cfd = socket(AF_UNIX, SOCK_DGRAM, 0);
		ck_assert_int_ge(cfd, 0);
		ck_assert_int_eq(submit_open(&s3, po, &err), Z_OK);
		ck_assert_int_eq(submit_env(&s3, "env-end", NULL), Z_OK);
		ck_assert_int_eq(submit_commit_flags(&s3, NULL, 0, SUBMIT_NODIRSYNC, &ino3, &err), Z_OK);
		ck_assert_int_eq(count_dir("router"), 2);
		ck_assert_int_lt(recv(sfd, dgram, sizeof(dgram) - 1, MSG_DONTWAIT), 0);
		submit_announce_on(&s3, cfd);
		n = recv(sfd, dgram, sizeof(dgram) - 1, MSG_DONTWAIT);
		ck_assert_int_gt(n, 0);
		dgram[n] = '\0';
		snprintf(p, sizeof(p), "NEW router %lu", ino3);
		ck_assert_str_eq(dgram, p);
		close(cfd);
	}
	close(sfd);
	zbuf_free(&err);
	zbuf_free(&got);
	zbuf_free(&want);
}
END_TEST

START_TEST(test_submit_hashed_no_listener)
{
	zbuf err = ZBUF_INIT(512), got = ZBUF_INIT(65536);
	char p[700], pre[8];
	submit s;
	unsigned long ino = 0;

	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_env(&s, "to", "<a@b>"), Z_OK);
	ck_assert_int_eq(submit_env(&s, "env-end", NULL), Z_OK);
	ck_assert_int_eq(submit_write(&s, "X: y\n\n", 6), Z_OK);
	/* nobody listens on .router.notify: still fine */
	ck_assert_int_eq(submit_commit(&s, "router", 1, &ino, &err), Z_OK);
	spool_hash_prefix(ino, 1, pre, sizeof(pre));
	snprintf(p, sizeof(p), "%s/router/%s%lu", po, pre, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "to <a@b>\nenv-end\nX: y\n\n");
	/* freezer (mail_close_alternate style) */
	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_commit(&s, "freezer", 0, &ino, &err), Z_OK);
	snprintf(p, sizeof(p), "%s/freezer/%lu", po, ino);
	ck_assert_int_eq(access(p, F_OK), 0);
	zbuf_free(&err);
	zbuf_free(&got);
}
END_TEST

START_TEST(test_submit_abort_and_refusals)
{
	zbuf err = ZBUF_INIT(512);
	submit s;
	unsigned long ino = 0;

	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	ck_assert_int_eq(count_dir("public"), 1);
	submit_abort(&s);
	ck_assert_int_eq(count_dir("public"), 0);
	ck_assert_int_eq(submit_env(&s, "to", "<a@b>"), Z_EIO);
	ck_assert_int_eq(submit_write(&s, "x", 1), Z_EIO);

	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_commit(&s, "../etc", 0, &ino, &err), Z_ERR);
	ck_assert_int_eq(count_dir("public"), 0);
	ck_assert_int_eq(count_dir("router"), 0);

	ck_assert_int_eq(submit_open(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_commit(&s, "nonexistent", 0, &ino, &err), Z_EIO);
	ck_assert_int_eq(count_dir("public"), 0);

	zbuf_reset(&err);
	ck_assert_int_eq(submit_open(&s, "/nonexistent/po", &err), Z_EIO);
	ck_assert_uint_gt(err.len, 0);
	ck_assert_int_eq(submit_notify("/nonexistent/sock", "NEW router 1"), Z_EIO);
	zbuf_free(&err);
}
END_TEST

/* a deferred handle (submit_begin): nothing in public/ until the commit,
 * then the memory bytes and the source descriptor's bytes in order;
 * nothing may follow the source; abort and a failed commit leave nothing */
START_TEST(test_submit_deferred)
{
	zbuf err = ZBUF_INIT(512), got = ZBUF_INIT(1 << 20), want = ZBUF_INIT(1 << 20);
	char p[700], tpl[600];
	submit s;
	unsigned long ino = 0;
	int fd;

	ck_assert_int_eq(submit_begin(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_env(&s, "to", "<a@b>"), Z_OK);
	ck_assert_int_eq(submit_env(&s, "bad", "x\ny"), Z_EPARSE);
	ck_assert_int_eq(submit_env(&s, "env-end", NULL), Z_OK);
	ck_assert_int_eq(count_dir("public"), 0);
	/* a source bigger than the copy buffer, at an offset not its start */
	snprintf(tpl, sizeof(tpl), "%s/src.XXXXXX", tmpdir);
	fd = mkstemp(tpl);
	ck_assert_int_ge(fd, 0);
	unlink(tpl);
	zbuf_puts(&want, "to <a@b>\nenv-end\n");
	for (int i = 0; i < 20000; i++) {
		char line[32];
		int k = snprintf(line, sizeof(line), "line %d\n", i);
		ck_assert_int_eq(zwrite_all(fd, line, (size_t)k), Z_OK);
		zbuf_append(&want, line, (size_t)k);
	}
	ck_assert_int_eq(submit_source_fd(&s, fd), Z_OK);
	ck_assert_int_eq(count_dir("public"), 0);
	ck_assert_int_eq(submit_commit_flags(&s, "router", 0, SUBMIT_NODIRSYNC, &ino, &err), Z_OK);
	snprintf(p, sizeof(p), "%s/router/%lu", po, ino);
	ck_assert_int_eq(zread_file(p, 1 << 20, &got, &err), Z_OK);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_int_eq(memcmp(got.data, want.data, want.len), 0);
	ck_assert_int_eq(count_dir("public"), 0);

	/* memory only, through submit_commit */
	ck_assert_int_eq(submit_begin(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_env(&s, "env-end", NULL), Z_OK);
	ck_assert_int_eq(submit_write(&s, "X: y\n\nbody\n", 12), Z_OK);
	ck_assert_int_eq(submit_commit(&s, NULL, 0, &ino, &err), Z_OK);
	snprintf(p, sizeof(p), "%s/router/%lu", po, ino);
	zbuf_reset(&got);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "env-end\nX: y\n\nbody\n");

	/* nothing after the source; the handle has failed and commits nothing */
	ck_assert_int_eq(submit_begin(&s, po, &err), Z_OK);
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(submit_source_fd(&s, fd), Z_OK);
	ck_assert_int_ne(submit_write(&s, "x", 1), Z_OK);
	ck_assert_int_ne(submit_commit(&s, NULL, 0, &ino, &err), Z_OK);
	/* abort before the commit; a bad directory after the creation */
	ck_assert_int_eq(submit_begin(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_write(&s, "x", 1), Z_OK);
	submit_abort(&s);
	ck_assert_int_eq(submit_begin(&s, po, &err), Z_OK);
	ck_assert_int_eq(submit_write(&s, "x", 1), Z_OK);
	ck_assert_int_eq(submit_commit(&s, "nonexistent", 0, &ino, &err), Z_EIO);
	ck_assert_int_eq(count_dir("public"), 0);
	ck_assert_int_eq(count_dir("router"), 2);
	zbuf_free(&err);
	zbuf_free(&got);
	zbuf_free(&want);
}
END_TEST

/* submit_suite - all cases */
static Suite *submit_suite(void)
{
	Suite *s = suite_create("submit");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_submit_router);
	tcase_add_test(tc, test_submit_local_user);
	tcase_add_test(tc, test_submit_hashed_no_listener);
	tcase_add_test(tc, test_submit_abort_and_refusals);
	tcase_add_test(tc, test_submit_deferred);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite inside one scratch directory (scratch.h) */
int main(void)
{
	return scratch_run(submit_suite(), "check_submit");
}
