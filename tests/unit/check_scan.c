/*
 * NAME
 *	check_scan - unit tests for the scheduler's scan of transport/
 * SUMMARY
 *	A scratch postoffice with good control files (top level and a hash
 *	directory), bad ones (unparseable, foreign body, no body), a
 *	recipient with an invalid host, an ETRN file and names that are not
 *	jobs; the scan must build exactly the model, quarantine exactly the
 *	bad files, fail the bad host in the file, call each hook as often as
 *	documented and find nothing new on a second pass.
 * SYNOPSIS
 *	tests/unit/check_scan (run by make check)
 * DESCRIPTION
 *	The scan runs without the daemon: a scan_ctx over a fresh model and
 *	a configuration parsed from text, with counting hooks (t_early: the
 *	early hook of the initial scan runs once, at SCAN_EARLY_FILES).  The name
 *	and host predicates are checked with tables.
 * DIAGNOSTICS
 *	libcheck output; exit 1 when a check fails.
 * SECURITY
 *	Touches only its own scratch directory.
 * BUGS
 *	Expiry and agent starts after a load are the owner's (the loaded
 *	hook) and covered by tests/integration/sched-*.sh.
 * SEE ALSO
 *	scheduler/scan.c
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "removal.h"
#include "scan.h"
#include "sconf.h"
#include "zerr.h"
#include "runsuite.h"

static char top[PATH_MAX], oldcwd[PATH_MAX];
static int n_note, n_loaded, n_turnme, n_early;
static unsigned long early_at;
static char last_turnme[256];

/* a control file for id; host is the smtp recipient's host */
static void ctl_text(char *buf, size_t sz, const char *id, const char *host)
{
	int k = snprintf(buf, sz,
		"@ 0x00000007\n"
		"i %s\n"
		"l <m1@client.example.org>\n"
		"e bob@client.example.org\n"
		"s smtp client.example.org bob@client.example.org 65534\n"
		"r           local - alice 1001\n"
		"N NOTIFY=FAILURE\n"
		"r           smtp %s carol@example.com 65534\n"
		"N NOTIFY=FAILURE\n"
		"r           smtp %s dave@example.com 65534\n"
		"m\n"
		"Subject: x\n"
		"\n", id, host, host);
	ck_assert(k > 0 && (size_t)k < sz);
}

/* put - write a file */
static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* exists - does path exist? */
static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* slurp - file contents (static buffer) */
static const char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static void h_note(void *arg, sfile *f, const ctl_file *cf)
{
	(void)arg; (void)f; (void)cf;
	n_note++;
}

static int h_loaded(void *arg, sfile *f, time_t now)
{
	(void)arg; (void)f; (void)now;
	n_loaded++;
	return 0;
}

static void h_turnme(void *arg, const char *host)
{
	(void)arg;
	n_turnme++;
	snprintf(last_turnme, sizeof last_turnme, "%s", host);
}

static void h_early(void *arg)
{
	scan_ctx *sc = arg;
	n_early++;
	early_at = sc->added;
}

/* setup - scratch postoffice, cwd = its transport/ */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	ck_assert_ptr_nonnull(getcwd(oldcwd, sizeof oldcwd));
	snprintf(top, sizeof top, "%s/check_scan.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(top));
	ck_assert_int_eq(chdir(top), 0);
	static const char *dirs[] = { "transport", "transport/K", "queue", "queue/K", "postman" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
	ck_assert_int_eq(chdir("transport"), 0);
	n_note = n_loaded = n_turnme = n_early = 0;
	early_at = 0;
	last_turnme[0] = '\0';
}

/* teardown - remove the scratch tree */
static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	ck_assert_int_eq(chdir(oldcwd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* scan_setup - an empty model and statistics, and a scan context over them and cfg */
static void scan_setup(scan_ctx *sc, model *m, sched_stats *st, sconf *cfg)
{
	model_init(m);
	memset(st, 0, sizeof *st);
	memset(sc, 0, sizeof *sc);
	sc->m = m;
	sc->cfg = cfg;
	sc->st = st;
}

/* t_tree - the whole scan */
START_TEST(t_tree)
{
	static const char conf[] =
		"*/*\tinterval=1m retries=\"1 2\"\n"
		"smtp/*\tcommand=\"smtp -c $channel\"\n"
		"local/*\tcommand=\"mailbox -c $channel $host\"\n";
	char text[2048];
	sconf *cfg = NULL;
	zbuf err = ZBUF_INIT(1024);
	model m;
	sched_stats st;
	scan_ctx sc;

	ck_assert_int_eq(sconf_parse("t.conf", conf, sizeof conf - 1, &cfg, &err), Z_OK);
	scan_setup(&sc, &m, &st, cfg);
	sc.scanning = 1;
	sc.hooks = (scan_hooks){ .note = h_note, .loaded = h_loaded, .turnme = h_turnme };

	/* good: top level and in a hash directory */
	ctl_text(text, sizeof text, "101", "mx.example.com");
	put("101", text);
	put("../queue/101", "body\n");
	ctl_text(text, sizeof text, "202", "mx.example.net");
	put("K/202", text);
	put("../queue/K/202", "body\n");
	/* a recipient host that is no host: failed in the file, rest queued */
	ctl_text(text, sizeof text, "303", "bad(host)");
	put("303", text);
	put("../queue/303", "body\n");
	/* bad: unparseable, another message's body, no body */
	put("404", "this is not a control file\n");
	put("../queue/404", "body\n");
	ctl_text(text, sizeof text, "101", "mx.example.org");
	put("505", text);
	put("../queue/505", "body\n");
	ctl_text(text, sizeof text, "606", "mx.example.org");
	put("606", text);
	/* not jobs */
	put("0123", "x");
	put("tmp.1", "x");
	put("12a", "x");
	/* ETRN */
	put("7-etrn", "T example.org 192.0.2.7\n");

	scan_tree(&sc);

	ck_assert_uint_eq(sc.files, 6);
	ck_assert_uint_eq(sc.added, 3);
	ck_assert_uint_eq(sc.bad, 3);
	ck_assert_uint_eq(st.c_quarantined, 3);
	ck_assert_uint_eq(st.c_failed, 2);      /* two recipients of 303 */
	ck_assert_int_eq(n_note, 3);
	ck_assert_int_eq(n_loaded, 3);
	ck_assert_int_eq(n_turnme, 1);
	ck_assert_str_eq(last_turnme, "example.org 192.0.2.7");
	ck_assert(!exists("7-etrn"));

	/* the model: 3 files, 101 and 202 with 3 recipients pending, 303
	 * with 1 (local); threads per (clause, channel, host) */
	ck_assert_uint_eq(m.nfile, 3);
	ck_assert_uint_eq(m.nrcpt, 7);
	ck_assert_uint_eq(m.nthr, 3);  /* local/-, smtp/mx.example.com, smtp/mx.example.net */
	sfile *f = model_file_find(&m, 202);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->prefix, "K/");
	ck_assert_uint_eq(f->npending, 3);
	ck_assert_uint_eq(f->nrcpt, 3);
	ck_assert_uint_eq(f->quick, 1);         /* nothing to report yet */
	ck_assert_uint_eq(f->nfail0, 0);
	f = model_file_find(&m, 303);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->npending, 1);
	ck_assert_uint_eq(f->haderror, 1);
	ck_assert_uint_eq(f->quick, 0);         /* its d lines wait for a report */
	ck_assert_ptr_null(model_thread_find(&m, "smtp", "bad(host)"));
	thread *t = model_thread_find(&m, "smtp", "mx.example.com");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->pending.n, 1);     /* one vertex, two recipients */
	ck_assert_uint_eq(t->pending.head->nrcpt, 2);
	ck_assert_uint_eq(t->nrcpt, 2);

	/* the invalid host was failed in the file: tag '-' and a d line */
	const char *c = slurp("303");
	ck_assert_ptr_nonnull(strstr(c, "r-"));
	ck_assert_ptr_nonnull(strstr(c, "5.1.2 invalid host \"bad(host)\""));

	/* bad files are in postman/, not removed */
	ck_assert(!exists("404") && !exists("505") && !exists("606"));
	ck_assert(exists("../queue/101"));
	int inpostman = system("test $(ls ../postman | grep -c '\\.reason$') -eq 3");
	ck_assert_int_eq(inpostman, 0);

	/* a second pass finds nothing new */
	scan_tree(&sc);
	ck_assert_uint_eq(sc.added, 3);
	ck_assert_int_eq(n_loaded, 3);
	ck_assert_uint_eq(m.nfile, 3);
	ck_assert_int_eq(scan_file(&sc, "101"), 1);
	ck_assert_int_eq(scan_file(&sc, "../101"), -1);
	ck_assert_int_eq(scan_file(&sc, "999"), -1);   /* gone */

	/* a finished message still being removed is not read again; once
	 * removed, a new message under the same number is */
	removal rm;
	removal_init(&rm, NULL, 0);
	sc.rm = &rm;
	ctl_text(text, sizeof text, "808", "mx.example.com");
	put("808", text);
	put("../queue/808", "body\n");
	removal_add(&rm, 808, "", "808", "../queue/808", NULL);
	ck_assert_int_eq(scan_file(&sc, "808"), 1);
	ck_assert_ptr_null(model_file_find(&m, 808));
	removal_flush(&rm);
	ck_assert(!exists("808") && !exists("../queue/808"));
	put("808", text);
	put("../queue/808", "body\n");
	ck_assert_int_eq(scan_file(&sc, "808"), 1);
	ck_assert_ptr_nonnull(model_file_find(&m, 808));
	removal_free(&rm);

	model_free(&m);
	sconf_free(cfg);
	zbuf_free(&err);
}
END_TEST

/* t_locks_slots - stale locks are cleared, attempts and the delay
 * warning come back from the DELAY slot */
START_TEST(t_locks_slots)
{
	static const char conf[] = "*/*\tinterval=1m\n";
	static const char text[] =
		"@ 0x00000007\n"
		"i 808\n"
		"l <m1@client.example.org>\n"
		"e bob@client.example.org\n"
		"s smtp client.example.org bob@client.example.org 65534\n"
		"r~     1    smtp mx.example.com carol@example.com 65534\n"
		"r       5003smtp mx.example.com dave@example.com 65534\n"
		"r      12   smtp mx.example.com erin@example.com 65534\n"
		"m\n"
		"Subject: x\n"
		"\n";
	sconf *cfg = NULL;
	zbuf err = ZBUF_INIT(1024);
	model m;
	sched_stats st;
	scan_ctx sc;

	ck_assert_int_eq(sconf_parse("t.conf", conf, sizeof conf - 1, &cfg, &err), Z_OK);
	scan_setup(&sc, &m, &st, cfg);
	put("808", text);
	put("../queue/808", "body\n");
	ck_assert_int_eq(scan_file(&sc, "808"), 1);
	/* the lock of pid 1 is stale: cleared in the file */
	const char *c = slurp("808");
	ck_assert_ptr_null(strstr(c, "r~"));
	sfile *f = model_file_find(&m, 808);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->npending, 3);
	vertex *v = f->vertices;
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v->fnext);
	ck_assert_uint_eq(v->nrcpt, 3);
	unsigned warned = 0, att[3];
	for (uint32_t i = 0; i < v->nrcpt; i++) {
		att[i] = v->r[i].attempts;
		warned += (v->r[i].flags & RF_WARNED) != 0;
	}
	ck_assert_uint_eq(att[0], 0);
	ck_assert_uint_eq(att[1], 3);       /* 5003: 3 attempts, warned */
	ck_assert_uint_eq(att[2], 0);       /* "  12" is in the pid field */
	ck_assert_uint_eq(warned, 1);
	ck_assert_int_eq(v->warned, 1);
	ck_assert_uint_eq(v->attempts, 3);
	model_free(&m);
	sconf_free(cfg);
	zbuf_free(&err);
}
END_TEST

/* t_names - ETRN names and the host check */
START_TEST(t_names)
{
	static const struct { const char *s; int ok; } etrn[] = {
		{ "7-etrn", 1 }, { "0-etrn", 1 }, { "123456-etrn", 1 },
		{ "-etrn", 0 }, { "7-etrnx", 0 }, { "7", 0 }, { "a-etrn", 0 }, { "7-ETRN", 0 },
	};
	for (size_t i = 0; i < sizeof etrn / sizeof etrn[0]; i++)
		ck_assert_msg(scan_is_etrn(etrn[i].s) == etrn[i].ok, "%s", etrn[i].s);
	static const struct { const char *ch, *s; int ok; } hosts[] = {
		{ "smtp", "-", 1 }, { "smtp", "mx.example.com", 1 }, { "smtp", "[192.0.2.1]", 1 },
		{ "local", "localhost", 1 },
		{ "smtp", "", 0 }, { "smtp", "--", 0 }, { "smtp", "-x.example", 0 }, { "smtp", "a b", 0 },
		{ "smtp", "a\001b", 0 }, { "smtp", "example.com:25", 0 }, { "smtp", "UNIX:/tmp/x", 0 },
		/* hold: conditions, never options or blanks; only on channel hold */
		{ "hold", "NS:example.org", 1 }, { "hold", "NS:example.org/mx", 1 },
		{ "hold", "TIMEOUT:1765000000", 1 }, { "hold", "SCRIPT:name/arg", 1 },
		{ "hold", "-", 1 }, { "hold", "[127.0.0.1]", 1 }, { "hold", "-l/tmp/x", 0 }, { "hold", "ns:x", 0 },
		{ "hold", "NS:a b", 0 }, { "hold", "NS:a\nb", 0 }, { "hold", "-NS:x", 0 },
		{ "hold", ":x", 0 }, { "smtp", "NS:example.org", 0 }, { "error", "nouser", 1 },
	};
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		zbuf why = ZBUF_INIT(256);
		int rc = sched_host_check(zspan_from(hosts[i].ch), zspan_from(hosts[i].s), &why);
		ck_assert_msg((rc == Z_OK) == hosts[i].ok, "%s/%s: %d %s", hosts[i].ch, hosts[i].s, rc,
			      zbuf_cstr(&why));
		zbuf_free(&why);
	}
}
END_TEST

/* t_early - the early hook runs once, when the initial scan has queued
 * SCAN_EARLY_FILES files; not in a later scan, not for a smaller queue */
START_TEST(t_early)
{
	static const char conf[] = "*/*\tinterval=1m\nsmtp/*\tcommand=\"smtp -c $channel\"\n";
	char text[2048], name[32];
	sconf *cfg = NULL;
	zbuf err = ZBUF_INIT(1024);
	model m;
	sched_stats st;
	scan_ctx sc;

	ck_assert_int_eq(sconf_parse("t.conf", conf, sizeof conf - 1, &cfg, &err), Z_OK);
	/* a later scan (not the initial one): no early hook */
	scan_setup(&sc, &m, &st, cfg);
	sc.hooks = (scan_hooks){ .early = h_early, .arg = &sc };
	for (int i = 1; i <= SCAN_EARLY_FILES + 10; i++) {
		snprintf(name, sizeof name, "%d", 1000 + i);
		ctl_text(text, sizeof text, name, "mx.example.com");
		put(name, text);
		snprintf(text, sizeof text, "../queue/%d", 1000 + i);
		put(text, "body\n");
	}
	scan_tree(&sc);
	ck_assert_uint_eq(sc.added, SCAN_EARLY_FILES + 10);
	ck_assert_int_eq(n_early, 0);
	model_free(&m);
	/* the initial scan: once, at SCAN_EARLY_FILES */
	scan_setup(&sc, &m, &st, cfg);
	sc.scanning = 1;
	sc.hooks = (scan_hooks){ .early = h_early, .arg = &sc };
	scan_tree(&sc);
	ck_assert_int_eq(n_early, 1);
	ck_assert_uint_eq(early_at, SCAN_EARLY_FILES);
	model_free(&m);
	sconf_free(cfg);
	zbuf_free(&err);
}
END_TEST

/* main - run the suite */
int main(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_tree);
	tcase_add_test(tc, t_names);
	tcase_add_test(tc, t_locks_slots);
	tcase_add_test(tc, t_early);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
