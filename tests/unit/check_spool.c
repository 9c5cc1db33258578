/*
 * NAME
 *	check_spool - unit tests for spool/spool.c, plus the crash test
 * SUMMARY
 *	Spool ids, job paths, directory layout, quarantine, crash safety.
 * SYNOPSIS
 *	check_spool (run by make check)
 * DESCRIPTION
 *	Spool id vectors, hash prefixes, the job path table, symlink
 *	escapes through spool_open_in_tree, spool_init modes and hash
 *	directories, quarantine (with a POSTOFFICE and from the cwd
 *	transport/), and a crash test: a child writing control files with
 *	ctl_commit and submissions with submit_* is SIGKILLed at random
 *	points; afterwards every file in router/ and transport/ must be
 *	complete, and partial data may exist only as public/ scratch files
 *	or transport/.<ino> temp files.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Works in a mkdtemp() directory under $TMPDIR or /tmp, all of it
 *	below one scratch directory the parent removes (scratch.h).
 * BUGS
 *	The kill points of the crash test are random (seeded from time and
 *	pid, printed on stderr); the invariants checked hold for every kill
 *	point, and the first round waits for one complete control file.
 * SEE ALSO
 *	spool/spool.c, spool/submit.c, spool/ctlfile.c, zmta-spool(5)
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zbuf.h"
#include "zutil.h"
#include "spool.h"
#include "ctlfile.h"
#include "submit.h"
#include "scratch.h"

static char tmpdir[256];

/* mk_tmpdir - fresh scratch directory for one test */
static void mk_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_spool.XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* rm_tmpdir - remove the test's scratch directory */
static void rm_tmpdir(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_spool_id)
{
	char id[SPOOL_ID_MAX];
	time_t t = 1710510307;   /* 2024-03-15T13:45:07Z */

	ck_assert_int_eq(spool_id_format(81234, t, 0, id, sizeof(id)), Z_OK);
	ck_assert_str_eq(id, "S81234AbkCONpH");
	ck_assert_int_eq(spool_id_format(81234, t, 123456789, id, sizeof(id)), Z_OK);
	ck_assert_str_eq(id, "S81234AbkCONpHHW8wV");
	ck_assert_int_eq(spool_id_format(1, 0, 0, id, sizeof(id)), Z_OK);
	ck_assert_str_eq(id, "S1AauAAAAA");          /* 1970: 1970>>6=30 a, 1970&63=50 u */
	ck_assert_int_eq(spool_id_format(81234, t, 0, id, 8), Z_ETOOBIG);
	ck_assert_int_eq(spool_id_format(~0ul, t, 999999999, id, sizeof(id)), Z_OK);
	ck_assert_uint_lt(strlen(id), SPOOL_ID_MAX);
}
END_TEST

START_TEST(test_hash_prefix)
{
	char p[8];

	ck_assert_int_eq(spool_hash_prefix(81234, 0, p, sizeof(p)), Z_OK);
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(spool_hash_prefix(81234, 1, p, sizeof(p)), Z_OK);
	ck_assert_str_eq(p, "K/");
	ck_assert_int_eq(spool_hash_prefix(81234, 2, p, sizeof(p)), Z_OK);
	ck_assert_str_eq(p, "E/K/");
	ck_assert_int_eq(spool_hash_prefix(0, 2, p, sizeof(p)), Z_OK);
	ck_assert_str_eq(p, "A/A/");
	ck_assert_int_eq(spool_hash_prefix(26 * 26 - 1, 2, p, sizeof(p)), Z_OK);
	ck_assert_str_eq(p, "Z/Z/");
	ck_assert_int_eq(spool_hash_prefix(1, 3, p, sizeof(p)), Z_ERR);
	ck_assert_int_eq(spool_hash_prefix(1, 2, p, 4), Z_ERR);
}
END_TEST

static const struct {
	const char *path;
	int ok;
	unsigned long ino;
	size_t plen;
	const char *why;
} jobpaths[] = {
	{ "81234", 1, 81234, 0, NULL },
	{ "K/81234", 1, 81234, 2, NULL },
	{ "E/K/81234", 1, 81234, 4, NULL },
	{ "1", 1, 1, 0, NULL },
	{ "9000000000", 1, 9000000000ul, 0, NULL },
	{ "", 0, 0, 0, "empty" },
	{ "../x", 0, 0, 0, "\"..\"" },
	{ "E/../1", 0, 0, 0, "\"..\"" },
	{ "/abs", 0, 0, 0, "absolute" },
	{ "/1", 0, 0, 0, "absolute" },
	{ "A/B/C/1", 0, 0, 0, "more than two hash levels" },
	{ "0123", 0, 0, 0, "first digit 1-9" },
	{ "A/1x", 0, 0, 0, "trailing junk" },
	{ "81234 ", 0, 0, 0, "trailing junk" },
	{ "81234-etrn", 0, 0, 0, "trailing junk" },
	{ "a/1", 0, 0, 0, "[A-Z/[A-Z/]]" },
	{ "E/", 0, 0, 0, "no message number" },
	{ "E//1", 0, 0, 0, "first digit" },
	{ "AB/1", 0, 0, 0, "first digit" },
	{ "99999999999999999999999", 0, 0, 0, "too large" },
	{ "1234567890123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890", 0, 0, 0, "longer than 64" },
};

START_TEST(test_jobpath)
{
	zbuf why = ZBUF_INIT(256);
	unsigned long ino = 0;
	size_t plen = 99;
	int rc = spool_jobpath_check(jobpaths[_i].path, strlen(jobpaths[_i].path), &ino,
				     &plen, &why);

	if (jobpaths[_i].ok) {
		ck_assert_msg(rc == Z_OK, "%s: %s", jobpaths[_i].path, zbuf_cstr(&why));
		ck_assert_uint_eq(ino, jobpaths[_i].ino);
		ck_assert_uint_eq(plen, jobpaths[_i].plen);
	} else {
		ck_assert_msg(rc == Z_EPARSE, "%s accepted", jobpaths[_i].path);
		ck_assert_msg(strstr(zbuf_cstr(&why), jobpaths[_i].why) != NULL,
			      "%s: want \"%s\" got \"%s\"", jobpaths[_i].path,
			      jobpaths[_i].why, zbuf_cstr(&why));
	}
	zbuf_free(&why);
}
END_TEST

START_TEST(test_jobpath_nul)
{
	zbuf why = ZBUF_INIT(256);
	ck_assert_int_eq(spool_jobpath_check("12\0003", 4, NULL, NULL, &why), Z_EPARSE);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "NUL"));
	zbuf_free(&why);
}
END_TEST

/* put - create a file with text under tmpdir */
static void put(const char *rel, const char *text)
{
	char p[600];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* mkd - make a directory below the scratch directory */
static void mkd(const char *rel)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	ck_assert_int_eq(mkdir(p, 0750), 0);
}

START_TEST(test_open_in_tree)
{
	zbuf why = ZBUF_INIT(256);
	char p[600], t[600], b[16] = { 0 };
	int dfd, fd;

	mk_tmpdir();
	mkd("transport");
	mkd("transport/E");
	mkd("transport/E/K");
	mkd("outside");
	put("transport/E/K/81234", "inside");
	put("outside/666", "secret");
	snprintf(p, sizeof(p), "%s/transport", tmpdir);
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	fd = spool_open_in_tree(dfd, "E/K/81234", O_RDONLY, &why);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, b, sizeof(b) - 1), 6);
	ck_assert_str_eq(b, "inside");
	close(fd);
	/* a symlinked file in the tree */
	snprintf(t, sizeof(t), "%s/outside/666", tmpdir);
	snprintf(p, sizeof(p), "%s/transport/E/K/666", tmpdir);
	ck_assert_int_eq(symlink(t, p), 0);
	zbuf_reset(&why);
	ck_assert_int_lt(spool_open_in_tree(dfd, "E/K/666", O_RDONLY, &why), 0);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "symlink out of the spool refused"));
	/* a symlinked directory in the middle */
	snprintf(t, sizeof(t), "%s/outside", tmpdir);
	snprintf(p, sizeof(p), "%s/transport/Z", tmpdir);
	ck_assert_int_eq(symlink(t, p), 0);
	zbuf_reset(&why);
	ck_assert_int_lt(spool_open_in_tree(dfd, "Z/666", O_RDONLY, &why), 0);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "symlink out of the spool refused"));
	/* a relative symlink pointing up */
	snprintf(p, sizeof(p), "%s/transport/E/777", tmpdir);
	ck_assert_int_eq(symlink("../../outside/666", p), 0);
	zbuf_reset(&why);
	ck_assert_int_lt(spool_open_in_tree(dfd, "E/777", O_RDONLY, &why), 0);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "symlink"));
	zbuf_reset(&why);
	ck_assert_int_lt(spool_open_in_tree(dfd, "../outside/666", O_RDONLY, &why), 0);
	zbuf_reset(&why);
	ck_assert_int_lt(spool_open_in_tree(dfd, "/etc/passwd", O_RDONLY, &why), 0);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&why), "absolute"));
	zbuf_reset(&why);
	ck_assert_int_eq(spool_open_in_tree(dfd, "E/K/999", O_RDONLY, &why), Z_ENOENT);
	close(dfd);
	rm_tmpdir();
	zbuf_free(&why);
}
END_TEST

static int notes;
/* count_note - spool_init_report callback counting new directories */
static void count_note(void *arg, const char *path, unsigned mode)
{
	(void)arg;
	(void)path;
	(void)mode;
	notes++;
}

/* mode_of - permission bits of a scratch directory */
static mode_t mode_of(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	ck_assert_msg(stat(p, &st) == 0, "%s missing", p);
	ck_assert(S_ISDIR(st.st_mode));
	return st.st_mode & 07777;
}

START_TEST(test_init)
{
	zbuf err = ZBUF_INIT(512);
	char po[600];

	mk_tmpdir();
	snprintf(po, sizeof(po), "%s/po", tmpdir);
	ck_assert_int_eq(spool_verify(po, &err), Z_EIO);
	notes = 0;
	ck_assert_int_eq(spool_init_report(po, 2, count_note, NULL, &err), Z_OK);
	ck_assert_int_eq(notes, 1 + 7 + 2 * (26 + 26 * 26));
	ck_assert_int_eq(spool_verify(po, &err), Z_OK);
	ck_assert_int_eq(mode_of("po") & 0777, 0755);
	ck_assert_int_eq(mode_of("po/public"), 03733);
	ck_assert_int_eq(mode_of("po/router"), 02750);
	ck_assert_int_eq(mode_of("po/queue") & 0777, 0750);
	ck_assert_int_eq(mode_of("po/transport") & 0777, 0750);
	ck_assert_int_eq(mode_of("po/deferred") & 0777, 0750);
	ck_assert_int_eq(mode_of("po/postman") & 0777, 0750);
	ck_assert_int_eq(mode_of("po/freezer") & 0777, 0750);
	mode_of("po/queue/E/K");
	mode_of("po/transport/Z/A");
	/* idempotent, creates nothing new */
	notes = 0;
	ck_assert_int_eq(spool_init_report(po, 2, count_note, NULL, &err), Z_OK);
	ck_assert_int_eq(notes, 0);
	ck_assert_int_eq(spool_init(po, 3, &err), Z_ERR);
	/* a file in the way */
	snprintf(po, sizeof(po), "%s/po2", tmpdir);
	mkd("po2");
	put("po2/queue", "x");
	zbuf_reset(&err);
	ck_assert_int_eq(spool_init(po, 0, &err), Z_EIO);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "not a directory"));
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

/* owner_of - uid of a scratch path */
static uid_t owner_of(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	ck_assert_msg(stat(p, &st) == 0, "%s missing", p);
	return st.st_uid;
}

START_TEST(test_init_owned)
{
	zbuf err = ZBUF_INIT(512);
	char po[600], p[700];
	uid_t u = getuid() == 0 ? 65534 : getuid();
	gid_t g = getuid() == 0 ? 65534 : getgid();

	mk_tmpdir();
	snprintf(po, sizeof(po), "%s/po", tmpdir);
	ck_assert_int_eq(spool_init_owned(po, 1, u, g, NULL, NULL, &err), Z_OK);
	ck_assert_int_eq(owner_of("po"), u);
	ck_assert_int_eq(owner_of("po/transport/K"), u);
	ck_assert_int_eq(mode_of("po/public"), 03733);
	ck_assert_int_eq(mode_of("po/queue/K"), 02750);
	/* repair: a loosened directory gets its mode back, files stay */
	snprintf(p, sizeof(p), "%s/router", po);
	ck_assert_int_eq(chmod(p, 0777), 0);
	put("po/router/123", "x");
	snprintf(p, sizeof(p), "%s/router/123", po);
	ck_assert_int_eq(chmod(p, 0604), 0);
	ck_assert_int_eq(spool_init_owned(po, 1, u, g, NULL, NULL, &err), Z_OK);
	ck_assert_int_eq(mode_of("po/router"), 02750);
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0604);
	ck_assert_int_eq(st.st_uid, getuid());
	rm_tmpdir();
	zbuf_free(&err);
}
END_TEST

/* exists - a scratch path exists (not followed) */
static int exists(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	return lstat(p, &st) == 0;
}

START_TEST(test_quarantine)
{
	zbuf err = ZBUF_INIT(512), got = ZBUF_INIT(65536);
	char po[600], p[700], cwd[4096];
	struct stat st;
	unsigned long ino;

	mk_tmpdir();
	snprintf(po, sizeof(po), "%s/po", tmpdir);
	ck_assert_int_eq(spool_init(po, 2, &err), Z_OK);
	put("po/transport/E/K/81234", "garbage control file\n");
	put("po/queue/E/K/81234", "the body\n");
	snprintf(p, sizeof(p), "%s/transport/E/K/81234", po);
	ck_assert_int_eq(stat(p, &st), 0);
	ino = (unsigned long)st.st_ino;
	ck_assert_int_eq(spool_quarantine(po, "E/K/81234", "81234", "badctl",
					  "offset 0: unknown record type 'g'", &err), Z_OK);
	ck_assert(!exists("po/transport/E/K/81234"));
	ck_assert(!exists("po/queue/E/K/81234"));
	snprintf(p, sizeof(p), "%s/postman/%lu.badctl", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "garbage control file\n");
	snprintf(p, sizeof(p), "%s/postman/%lu.badctl.body", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "the body\n");
	snprintf(p, sizeof(p), "%s/postman/%lu.badctl.reason", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&got), "unknown record type 'g'"));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&got), "time: "));

	/* from the cwd $POSTOFFICE/transport, no body present, name taken */
	put("po/transport/777", "junk\n");
	snprintf(p, sizeof(p), "%s/transport/777", po);
	ck_assert_int_eq(stat(p, &st), 0);
	ino = (unsigned long)st.st_ino;
	snprintf(p, sizeof(p), "po/postman/%lu.bad", ino);
	put(p + 0, "older quarantine\n");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(p, sizeof(p), "%s/transport", po);
	ck_assert_int_eq(chdir(p), 0);
	ck_assert_int_eq(spool_quarantine(NULL, "777", "777", "bad", "why\nnot", &err), Z_OK);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert(!exists("po/transport/777"));
	snprintf(p, sizeof(p), "%s/postman/%lu.bad", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "older quarantine\n");    /* not overwritten */
	snprintf(p, sizeof(p), "%s/postman/%lu.bad.1", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&got), "junk\n");
	snprintf(p, sizeof(p), "%s/postman/%lu.bad.1.reason", po, ino);
	ck_assert_int_eq(zread_file(p, 65536, &got, &err), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&got), "reason: why not\n"));

	/* refusals */
	ck_assert_int_eq(spool_quarantine(po, "../queue/1", NULL, "x", "r", &err), Z_ERR);
	ck_assert_int_eq(spool_quarantine(po, "/etc/passwd", NULL, "x", "r", &err), Z_ERR);
	ck_assert_int_eq(spool_quarantine(po, "1", NULL, "a/b", "r", &err), Z_ERR);
	ck_assert_int_eq(spool_quarantine(po, "404", NULL, "x", "r", &err), Z_ENOENT);
	rm_tmpdir();
	zbuf_free(&err);
	zbuf_free(&got);
}
END_TEST

/* ------------------------------------------------------------ crash test */

#define CRASH_RCPTS 1500
#define CRASH_BODY (256 * 1024)

/* make_ctl - the control file the crash child writes for ino.  No ck_*
 * calls here: the child must never write into libcheck's pipe. */
static int make_ctl(unsigned long ino, zbuf *o)
{
	char v[64];
	ctl_quadv s = { "smtp", "h.example", "bob@h.example", 0 };
	int rc = Z_OK;

	zbuf_reset(o);
	snprintf(v, sizeof(v), "%lu", ino);
	rc |= ctlw_features(o, CTL_FEATURES_WRITE);
	rc |= ctlw_record(o, 'i', v);
	rc |= ctlw_record(o, 'l', "<crash@test>");
	rc |= ctlw_sender(o, &s);
	for (int i = 0; i < CRASH_RCPTS; i++) {
		char u[64];
		ctl_quadv r = { "smtp", "mx.example", u, 0 };
		snprintf(u, sizeof(u), "user%d@example.com", i);
		rc |= ctlw_rcpt(o, &r, NULL);
	}
	rc |= ctlw_headers(o, "Subject: crash\n", 15);
	return rc == Z_OK ? Z_OK : Z_ERR;
}

static char *crash_body;

/* make_body - the crash test's message body */
static void make_body(void)
{
	crash_body = malloc(CRASH_BODY);
	ck_assert_ptr_nonnull(crash_body);
	for (size_t i = 0; i < CRASH_BODY; i++)
		crash_body[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
}

/* expected submission bytes */
static void make_sub(zbuf *o)
{
	zbuf_reset(o);
	zbuf_puts(o, "from <bob@h.example>\nto <c@d.example>\nenv-end\nSubject: s\n\n");
	zbuf_append(o, crash_body, CRASH_BODY);
}

/* crash_child - write forever until killed; one byte to progress_fd after
 * every complete control file */
static _Noreturn void crash_child(const char *po, unsigned long base, int progress_fd)
{
	zbuf o = ZBUF_INIT(1 << 24), err = ZBUF_INIT(512);
	char td[700];

	snprintf(td, sizeof(td), "%s/transport", po);
	for (unsigned long n = 0;; n++) {
		submit s;
		if (make_ctl(base + n, &o) != Z_OK)
			_exit(2);
		if (ctl_commit(td, "", base + n, &o, &err) != Z_OK)
			_exit(3);
		(void)!write(progress_fd, "c", 1);
		if (submit_open(&s, po, &err) != Z_OK)
			_exit(4);
		submit_env(&s, "from", "<bob@h.example>");
		submit_env(&s, "to", "<c@d.example>");
		submit_env(&s, "env-end", NULL);
		submit_write(&s, "Subject: s\n\n", 12);
		for (size_t k = 0; k < CRASH_BODY; k += 4096)
			submit_write(&s, crash_body + k, 4096);
		if (submit_commit(&s, NULL, 0, NULL, &err) != Z_OK)
			_exit(5);
	}
}

START_TEST(test_crash)
{
	zbuf err = ZBUF_INIT(512), want = ZBUF_INIT(1 << 24), got = ZBUF_INIT(1 << 24);
	char po[600], p[1200];
	DIR *d;
	struct dirent *e;
	int nrouter = 0, nctl = 0, ntemp = 0, nscratch = 0, progress[2];
	unsigned seed;

	mk_tmpdir();
	make_body();
	snprintf(po, sizeof(po), "%s/po", tmpdir);
	ck_assert_int_eq(spool_init(po, 0, &err), Z_OK);
	seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	fprintf(stderr, "crash test: seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < 50; round++) {
		int status;
		pid_t pid;
		char c;

		/* progress pipe: the first round is killed only after one
		 * complete control file, so "nctl > 0" below holds however
		 * slow fsync is; EOF means the child died by itself */
		ck_assert_int_eq(pipe(progress), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(progress[0]);
			crash_child(po, 1000000ul * (unsigned long)(round + 1), progress[1]);
		}
		close(progress[1]);
		if (round == 0)
			ck_assert_msg(read(progress[0], &c, 1) == 1, "crash child died early");
		usleep((useconds_t)(500 + rand() % 20000));
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "child exited by itself: %d",
			      WEXITSTATUS(status));
		close(progress[0]);
	}
	/* transport/: digits = complete control files; .<ino> = temps only */
	snprintf(p, sizeof(p), "%s/transport", po);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		unsigned long ino;
		ctl_file cf;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_name[0] == '.') {
			ck_assert_int_eq(zparse_ulong(e->d_name + 1, ~0ul, &ino), Z_OK);
			ntemp++;
			continue;
		}
		ck_assert_msg(zparse_ulong(e->d_name, ~0ul, &ino) == Z_OK,
			      "stray file transport/%s", e->d_name);
		snprintf(p, sizeof(p), "%s/transport/%s", po, e->d_name);
		ck_assert_int_eq(zread_file(p, 1 << 24, &got, &err), Z_OK);
		ck_assert_int_eq(make_ctl(ino, &want), Z_OK);
		ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
			      "transport/%s incomplete (%zu of %zu bytes)", e->d_name,
			      got.len, want.len);
		ck_assert_int_eq(ctl_parse(got.data, got.len, 0, &cf, &err), Z_OK);
		ck_assert_uint_eq(cf.nrcpts, CRASH_RCPTS);
		ctl_free(&cf);
		nctl++;
	}
	closedir(d);
	/* router/: every file complete, named by its inode */
	make_sub(&want);
	snprintf(p, sizeof(p), "%s/router", po);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		unsigned long ino;
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(zparse_ulong(e->d_name, ~0ul, &ino) == Z_OK,
			      "stray file router/%s", e->d_name);
		snprintf(p, sizeof(p), "%s/router/%s", po, e->d_name);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_uint_eq((unsigned long)st.st_ino, ino);
		ck_assert_int_eq(zread_file(p, 1 << 24, &got, &err), Z_OK);
		ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
			      "router/%s incomplete (%zu of %zu bytes)", e->d_name, got.len,
			      want.len);
		nrouter++;
	}
	closedir(d);
	/* public/: scratch only */
	snprintf(p, sizeof(p), "%s/public", po);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			nscratch++;
	closedir(d);
	fprintf(stderr, "crash test: %d control files, %d temps, %d submissions, %d scratch\n",
		nctl, ntemp, nrouter, nscratch);
	ck_assert_int_gt(nctl, 0);
	ck_assert_int_le(ntemp, 50);
	ck_assert_int_le(nscratch, 50);
	free(crash_body);
	rm_tmpdir();
	zbuf_free(&err);
	zbuf_free(&want);
	zbuf_free(&got);
}
END_TEST

/* spool_suite - all cases */
static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");
	TCase *tcc = tcase_create("crash");

	tcase_set_timeout(tc, 120);     /* 1400 hash directories on a slow disk */
	tcase_add_test(tc, test_spool_id);
	tcase_add_test(tc, test_hash_prefix);
	tcase_add_loop_test(tc, test_jobpath, 0, (int)(sizeof(jobpaths) / sizeof(jobpaths[0])));
	tcase_add_test(tc, test_jobpath_nul);
	tcase_add_test(tc, test_open_in_tree);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_init_owned);
	tcase_add_test(tc, test_quarantine);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tcc, 240);
	tcase_add_test(tcc, test_crash);
	suite_add_tcase(s, tcc);
	return s;
}

/* main - run the suite inside one scratch directory (scratch.h) */
int main(void)
{
	return scratch_run(spool_suite(), "check_spool");
}
