/*
 * NAME
 *	check_zpriv - unit tests for the privilege drop (lib/zpriv.h)
 * SUMMARY
 *	Resolution of user/group names and numbers; the drop itself in a
 *	forked child: all three uids and gids, supplementary groups, and that
 *	root cannot be taken back.
 * SYNOPSIS
 *	check_zpriv (run by make check)
 * DESCRIPTION
 *	Table-driven resolution cases (root, numbers, unknown names, empty
 *	values, a bare uid without group).  The drop cases fork: as root the
 *	child drops to nobody (with and without a group) and reports what it
 *	sees; as another user the drop to nobody must fail and the drop to
 *	oneself must succeed.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Only forked children change their ids; the test process keeps its own.
 * BUGS
 *	The root-only cases are skipped (they pass trivially) when not run as
 *	root or when the system has no "nobody" user.
 * SEE ALSO
 *	lib/zpriv.h
 */
#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "zbuf.h"
#include "zerr.h"
#include "zpriv.h"

static const struct {
	const char *user, *group;
	int rc;
	long uid, gid;  /* -1: do not compare */
} rcases[] = {
	{ "root", NULL, Z_OK, 0, 0 },
	{ "0", NULL, Z_OK, 0, 0 },
	{ "root", "0", Z_OK, 0, 0 },
	{ "4000000", "4000001", Z_OK, 4000000, 4000001 },
	{ "4000000", NULL, Z_ENOENT, -1, -1 },
	{ "no-such-user-zmta-test", NULL, Z_ENOENT, -1, -1 },
	{ "root", "no-such-group-zmta-test", Z_ENOENT, -1, -1 },
	{ "", NULL, Z_EPARSE, -1, -1 },
	{ "root", "", Z_EPARSE, -1, -1 },
	{ "-1", NULL, Z_ENOENT, -1, -1 },
	{ "4294967295", "1", Z_ENOENT, -1, -1 },
	{ "12x", NULL, Z_ENOENT, -1, -1 },
};

START_TEST(test_resolve)
{
	zpriv_ids ids;
	zbuf err = ZBUF_INIT(512);
	int rc = zpriv_resolve(rcases[_i].user, rcases[_i].group, &ids, &err);
	ck_assert_msg(rc == rcases[_i].rc, "%s/%s: rc %d (%s)", rcases[_i].user,
		      rcases[_i].group ? rcases[_i].group : "-", rc, zbuf_cstr(&err));
	if (rc == Z_OK) {
		if (rcases[_i].uid >= 0)
			ck_assert_int_eq((long)ids.uid, rcases[_i].uid);
		if (rcases[_i].gid >= 0)
			ck_assert_int_eq((long)ids.gid, rcases[_i].gid);
	} else {
		ck_assert(err.len > 0);
	}
	zbuf_free(&err);
}
END_TEST

START_TEST(test_resolve_nobody)
{
	struct passwd *pw = getpwnam("nobody");
	zpriv_ids ids;
	zbuf err = ZBUF_INIT(512);
	if (pw == NULL)
		return;
	uid_t u = pw->pw_uid;
	gid_t g = pw->pw_gid;
	ck_assert_int_eq(zpriv_resolve("nobody", NULL, &ids, &err), Z_OK);
	ck_assert_int_eq(ids.uid, u);
	ck_assert_int_eq(ids.gid, g);
	ck_assert(ids.named);
	char num[32];
	snprintf(num, sizeof num, "%ld", (long)u);
	ck_assert_int_eq(zpriv_resolve(num, NULL, &ids, &err), Z_OK);
	ck_assert_str_eq(ids.name, "nobody");
	ck_assert_int_eq(ids.gid, g);
	zbuf_free(&err);
}
END_TEST

/* child_drop - fork; the child drops and writes what it sees into a pipe.
 * Returns the child's exit status; out gets its text. */
static int child_drop(const char *user, const char *group, char *out, size_t outsz)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		zbuf b = ZBUF_INIT(4096);
		close(p[0]);
		int rc = zpriv_drop(user, group, &b);
		if (rc != Z_OK) {
			(void)!write(p[1], zbuf_cstr(&b), b.len);
			_exit(2);
		}
		zpriv_describe(&b);
		if (setuid(0) == 0 || seteuid(0) == 0)
			zbuf_puts(&b, " ROOT-AGAIN");
		(void)!write(p[1], zbuf_cstr(&b), b.len);
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outsz && (r = read(p[0], out + n, outsz - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_drop_root_to_nobody)
{
	struct passwd *pw = getpwnam("nobody");
	char out[2048], want[256];
	if (geteuid() != 0 || pw == NULL)
		return;
	uid_t u = pw->pw_uid;
	gid_t g = pw->pw_gid;
	/* no group: the user's own gid, the user's groups only (not root's) */
	ck_assert_msg(child_drop("nobody", NULL, out, sizeof out) == 0, "%s", out);
	snprintf(want, sizeof want, "uid=%ld/%ld/%ld gid=%ld/%ld/%ld groups=", (long)u, (long)u,
		 (long)u, (long)g, (long)g, (long)g);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got %s want %s", out, want);
	ck_assert_msg(strstr(out, "ROOT-AGAIN") == NULL, "%s", out);
	const char *gl = out + strlen(want);
	ck_assert_msg(strncmp(gl, "0,", 2) != 0 && strcmp(gl, "0") != 0 && strstr(gl, ",0,") == NULL,
		      "root group kept: %s", out);
	/* with a group: that gid */
	ck_assert_msg(child_drop("nobody", "4000001", out, sizeof out) == 0, "%s", out);
	snprintf(want, sizeof want, "uid=%ld/%ld/%ld gid=4000001/4000001/4000001 groups=",
		 (long)u, (long)u, (long)u);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got %s want %s", out, want);
	/* a bare uid and gid */
	ck_assert_msg(child_drop("4000000", "4000001", out, sizeof out) == 0, "%s", out);
	ck_assert_str_eq(out, "uid=4000000/4000000/4000000 gid=4000001/4000001/4000001 groups=4000001");
}
END_TEST

START_TEST(test_drop_not_root)
{
	char out[2048];
	if (geteuid() == 0)
		return;
	struct passwd *me = getpwuid(geteuid());
	struct passwd *pw = getpwnam("nobody");
	if (pw != NULL && pw->pw_uid != geteuid()) {
		ck_assert_int_eq(child_drop("nobody", NULL, out, sizeof out), 2);
		ck_assert_msg(strstr(out, "not root") != NULL, "%s", out);
	}
	char g[32];
	snprintf(g, sizeof g, "%ld", (long)getegid());
	if (me != NULL && me->pw_gid == getegid() && getgid() == getegid() && getuid() == geteuid())
		ck_assert_msg(child_drop(me->pw_name, g, out, sizeof out) == 0, "%s", out);
}
END_TEST

START_TEST(test_drop_unknown)
{
	char out[2048];
	ck_assert_int_eq(child_drop("no-such-user-zmta-test", NULL, out, sizeof out), 2);
	ck_assert_msg(strstr(out, "no such user") != NULL, "%s", out);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("zpriv");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_resolve, 0, sizeof(rcases) / sizeof(rcases[0]));
	tcase_add_test(tc, test_resolve_nobody);
	tcase_add_test(tc, test_drop_root_to_nobody);
	tcase_add_test(tc, test_drop_not_root);
	tcase_add_test(tc, test_drop_unknown);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
