/*
 * NAME
 *	check_sconf - unit tests for scheduler.conf parsing (scheduler/sconf*.c)
 * SUMMARY
 *	Tables of good and bad configuration texts: first-match order,
 *	globs with trailing alternatives, empty-clause inheritance, the
 *	defaults clause, PARAM lines, refusals with file:line, command
 *	splitting with $host detection and expansion, the builtin text.
 * SYNOPSIS
 *	check_sconf (run by make check)
 * DESCRIPTION
 *	Each table row parses a literal text and checks one outcome.
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test program; reads no files except what it writes under TMPDIR.
 * BUGS
 *	None known.
 * SEE ALSO
 *	scheduler.conf(5), sconf.h
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sconf.h"
#include "zconf.h"

/* parse_ok - parse text or fail the test */
static sconf *parse_ok(const char *text)
{
	zbuf err = ZBUF_INIT(1024);
	sconf *cfg = NULL;
	int rc = sconf_parse("scheduler.conf", text, strlen(text), &cfg, &err);

	ck_assert_msg(rc == Z_OK, "parse failed: %s\n--- text:\n%s", zbuf_cstr(&err), text);
	ck_assert_ptr_nonnull(cfg);
	zbuf_free(&err);
	return cfg;
}

/* ---- matching table ---- */
static const char *const match_conf =
	"# test config\n"
	"*/*\tinterval=1m retries=\"1 2 3\" maxthr=2\n"
	"\texpiry=3d\n"
	"smtp/*.{se,dk}\tcommand=\"smtp -c $channel -x\"\n"
	"\tinterval=5m\n"
	"SMTP/mx?.example.com\n"
	"smtp/[ab]*.example.org\n"
	"smtp/*.example.net command=\"smtp -c $channel\" maxthr=7\n"
	"local\tcommand=\"mailbox\"\n"
	"smtp\tcommand=\"smtp $host\"\n"
	"\tqueueonly\n";

static const struct {
	const char *channel, *host, *selector;
	long interval;
	int maxthr;
} match_tab[] = {
	{ "smtp", "foo.se", "smtp/*.{se,dk}", 300, 2 },
	{ "smtp", "FOO.DK", "smtp/*.{se,dk}", 300, 2 },
	{ "SMTP", "a.b.dk", "smtp/*.{se,dk}", 300, 2 },
	{ "smtp", "foo.no", "smtp", 60, 2 },
	{ "smtp", "se", "smtp", 60, 2 },                 /* no dot before se */
	/* empty clauses share the body of the *.example.net clause */
	{ "smtp", "mx1.example.com", "SMTP/mx?.example.com", 60, 7 },
	{ "smtp", "mx12.example.com", "smtp", 60, 2 },
	{ "smtp", "alpha.example.org", "smtp/[ab]*.example.org", 60, 7 },
	{ "smtp", "cat.example.org", "smtp", 60, 2 },
	{ "smtp", "x.example.net", "smtp/*.example.net", 60, 7 },
	{ "local", "", "local", 60, 2 },
	{ "local", "anything", "local", 60, 2 },
	{ "error", "x", NULL, 0, 0 },
	{ "smtp", "", "smtp", 60, 2 },
};

START_TEST(test_match_table)
{
	sconf *cfg = parse_ok(match_conf);
	const sconf_clause *c = sconf_match(cfg, match_tab[_i].channel, match_tab[_i].host);

	if (match_tab[_i].selector == NULL) {
		ck_assert_msg(c == NULL, "row %d: expected no match, got %s", _i,
			      c ? c->selector : "");
	} else {
		ck_assert_msg(c != NULL, "row %d: no match for %s/%s", _i, match_tab[_i].channel,
			      match_tab[_i].host);
		ck_assert_str_eq(c->selector, match_tab[_i].selector);
		ck_assert_int_eq(c->interval, match_tab[_i].interval);
		ck_assert_int_eq(c->maxthr, match_tab[_i].maxthr);
		/* defaults copied into every clause */
		ck_assert_int_eq(c->nretries, 3);
		ck_assert_int_eq(c->retries[2], 3);
		ck_assert_int_eq(c->expiry, 3 * 86400);
		ck_assert_int_eq(c->expiry2, 86400);
	}
	sconf_free(cfg);
}
END_TEST

START_TEST(test_withhost_and_flags)
{
	sconf *cfg = parse_ok(match_conf);
	const sconf_clause *c = sconf_match(cfg, "smtp", "foo.no");

	ck_assert_ptr_nonnull(c);
	ck_assert(c->flags & SCF_WITHHOST);
	ck_assert(c->flags & SCF_QUEUEONLY);
	ck_assert_int_eq(c->argc, 2);
	ck_assert_str_eq(c->argv[1], "$host");
	c = sconf_match(cfg, "smtp", "foo.se");
	ck_assert(!(c->flags & SCF_WITHHOST));
	ck_assert(!(c->flags & SCF_QUEUEONLY));
	ck_assert_int_eq(c->argc, 4);
	ck_assert_str_eq(c->argv[0], "smtp");
	ck_assert_str_eq(c->argv[2], "$channel");
	ck_assert_int_eq(cfg->nclauses, 6);
	ck_assert_int_eq(cfg->clauses[0]->line, 4);
	ck_assert_int_eq(cfg->clauses[1]->line, 6);
	sconf_free(cfg);
}
END_TEST

/* ---- built-in defaults when nothing is set ---- */
START_TEST(test_builtin_defaults)
{
	sconf *cfg = parse_ok("smtp\n\tcommand=smtp\n");
	const sconf_clause *c = sconf_match(cfg, "smtp", "x");

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->interval, 3600);
	ck_assert_int_eq(c->idlemax, 3 * 3600);
	ck_assert_int_eq(c->maxthr, 1);
	ck_assert_int_eq(c->overfeed, 0);
	ck_assert_int_eq(c->skew, 5);
	ck_assert_int_eq(c->expiry, 0);
	ck_assert_int_eq(c->expiry2, 0);
	ck_assert_int_eq(c->nretries, 0);
	ck_assert_int_eq(c->maxta, 0);
	ck_assert_int_eq(cfg->delay_warning, 4 * 3600);
	ck_assert_int_eq(cfg->max_ta_silence, 600);
	ck_assert_int_eq(cfg->max_ta_comments, 2000);
	ck_assert_int_eq(cfg->fork_rate, 30);
	ck_assert_int_eq(cfg->global_report_interval, 300);
	ck_assert_ptr_null(cfg->authfile);
	sconf_free(cfg);
}
END_TEST

/* idlemax follows the clause's own interval, not the defaults' */
START_TEST(test_idlemax_follows_interval)
{
	sconf *cfg = parse_ok("*/*\tinterval=10m\nsmtp\tinterval=1m\nlocal\tidlemax=7s\n"
			      "error\tmaxthr=3\n");

	ck_assert_int_eq(sconf_match(cfg, "smtp", "h")->idlemax, 180);
	ck_assert_int_eq(sconf_match(cfg, "local", "h")->idlemax, 7);
	ck_assert_int_eq(sconf_match(cfg, "error", "h")->idlemax, 1800);
	ck_assert_int_eq(cfg->defaults->interval, 600);
	sconf_free(cfg);
}
END_TEST

/* defaults only apply to clauses after them; a later one overrides */
START_TEST(test_defaults_order)
{
	sconf *cfg = parse_ok("early\tmaxthr=2\n"
			      "*/*\tinterval=2m overfeed=5\n"
			      "mid\tmaxthr=3\n"
			      "*\toverfeed=9\n"
			      "late\tmaxthr=4\n");

	ck_assert_int_eq(sconf_match(cfg, "early", "h")->interval, 3600);
	ck_assert_int_eq(sconf_match(cfg, "early", "h")->overfeed, 0);
	ck_assert_int_eq(sconf_match(cfg, "mid", "h")->interval, 120);
	ck_assert_int_eq(sconf_match(cfg, "mid", "h")->overfeed, 5);
	ck_assert_int_eq(sconf_match(cfg, "late", "h")->interval, 120);
	ck_assert_int_eq(sconf_match(cfg, "late", "h")->overfeed, 9);
	/* the defaults clause never matches by itself */
	ck_assert_ptr_null(sconf_match(cfg, "other", "h"));
	ck_assert_int_eq(cfg->nclauses, 3);
	sconf_free(cfg);
}
END_TEST

/* trailing empty clauses keep the defaults only */
START_TEST(test_trailing_empty)
{
	sconf *cfg = parse_ok("*/*\tinterval=7m\nsmtp\tmaxthr=5\nlocal\nerror\n");
	const sconf_clause *c = sconf_match(cfg, "error", "h");

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->interval, 420);
	ck_assert_int_eq(c->maxthr, 1);
	ck_assert_ptr_null(c->command);
	sconf_free(cfg);
}
END_TEST

/* ---- keyword syntax variants ---- */
START_TEST(test_syntax_variants)
{
	const char *t =
		"smtp/*\n"
		"\tINTERVAL = 90   retries = \"1 1 \\\n"
		"              2 3\"  # comment\n"
		"\tMaxTransports=11 maxchannels=12 maxrings=13\n"
		"\tcommand=\"TZ=UTC LANG=C smtp -c \\\"$channel\\\" -F 'a b'\"\n"
		"\tuser=daemon group=mail priority=-5 nice=3 skew=4 overfeed=150\n"
		"\tageorder wakeuprestartonly bychannel queueonly=no\n"
		"\treporttimes=\"1m 2h\" deliveryform=delivery expiryform=\"expiry x\"\n"
		"\tsyspriority=2 sysnice=-1 expiry=1h expiry2=30m idlemax=0\n"
		"\tmaxta=-1\n";
	sconf *cfg = parse_ok(t);
	const sconf_clause *c = sconf_match(cfg, "smtp", "h");

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->interval, 90);
	ck_assert_int_eq(c->nretries, 4);
	ck_assert_int_eq(c->retries[0], 1);
	ck_assert_int_eq(c->retries[3], 3);
	ck_assert_int_eq(c->maxta, 0);
	ck_assert_int_eq(c->maxchannel, 12);
	ck_assert_int_eq(c->maxring, 13);
	ck_assert_int_eq(c->envc, 2);
	ck_assert_str_eq(c->env[0], "TZ=UTC");
	ck_assert_str_eq(c->env[1], "LANG=C");
	ck_assert_int_eq(c->argc, 5);
	ck_assert_str_eq(c->argv[0], "smtp");
	ck_assert_str_eq(c->argv[2], "$channel");
	ck_assert_str_eq(c->argv[4], "a b");
	ck_assert_str_eq(c->user, "daemon");
	ck_assert_str_eq(c->group, "mail");
	ck_assert(c->has_priority);
	ck_assert_int_eq(c->priority, -5);
	ck_assert_int_eq(c->nice, 3);
	ck_assert_int_eq(c->skew, 4);
	ck_assert_int_eq(c->overfeed, 150);
	ck_assert_uint_eq(c->flags & (SCF_AGEORDER | SCF_WAKEUPRESTARTONLY | SCF_BYCHANNEL |
				      SCF_QUEUEONLY),
			  SCF_AGEORDER | SCF_WAKEUPRESTARTONLY | SCF_BYCHANNEL);
	ck_assert_int_eq(c->nreporttimes, 2);
	ck_assert_int_eq(c->reporttimes[1], 7200);
	ck_assert_str_eq(c->deliveryform, "delivery");
	ck_assert_str_eq(c->expiryform, "expiry x");
	ck_assert_int_eq(c->expiry, 3600);
	ck_assert_int_eq(c->expiry2, 1800);
	ck_assert_int_eq(c->idlemax, 0);
	ck_assert(cfg->has_syspriority && cfg->syspriority == 2);
	ck_assert(cfg->has_sysnice && cfg->sysnice == -1);
	sconf_free(cfg);
}
END_TEST

/* ---- PARAM lines ---- */
START_TEST(test_params)
{
	const char *t =
		"PARAMauthfile = \"/etc/zmta/scheduler.auth\"\n"
		"PARAMmailqsock=UNIX:/var/run/mq.sock  # the socket\n"
		"PARAMnotifysock = /tmp/n.sock\n"
		"PARAMglobal-report-interval = 10m\n"
		"PARAMmsgwriteasync = 1\n"
		"PARAMstore-error-on-error = yes\n"
		"PARAMdelay-warning = 0\n"
		"PARAMmax-ta-silence = 2m\n"
		"PARAMmax-ta-comments = 30\n"
		"PARAMfork-rate = 7\n"
		"PARAMexpire-sweep = 1m\n"
		"PARAMmailq-timeout = 30s\n"
		"PARAMretryat-max = 2d\n"
		"smtp command=smtp\n";
	sconf *cfg = parse_ok(t);

	ck_assert_str_eq(cfg->authfile, "/etc/zmta/scheduler.auth");
	ck_assert_str_eq(cfg->mailqsock, "UNIX:/var/run/mq.sock");
	ck_assert_str_eq(cfg->notifysock, "/tmp/n.sock");
	ck_assert_int_eq(cfg->global_report_interval, 600);
	ck_assert_int_eq(cfg->msgwriteasync, 1);
	ck_assert_int_eq(cfg->store_error_on_error, 1);
	ck_assert_int_eq(cfg->delay_warning, 0);
	ck_assert_int_eq(cfg->max_ta_silence, 120);
	ck_assert_int_eq(cfg->max_ta_comments, 30);
	ck_assert_int_eq(cfg->fork_rate, 7);
	ck_assert_int_eq(cfg->expire_sweep, 60);
	ck_assert_int_eq(cfg->mailq_timeout, 30);
	ck_assert_int_eq(cfg->retryat_max, 2 * 86400);
	ck_assert_int_eq(cfg->nclauses, 1);
	sconf_free(cfg);
}
END_TEST

/* ---- refusals: exact message with file and line ---- */
static const struct {
	const char *text, *msg;
} bad_tab[] = {
	{ "smtp\n\tinterval=1m\n\n\n\tfoo=1\n", "scheduler.conf:5: unknown keyword 'foo'" },
	{ "smtp\n\tbyhost\n", "scheduler.conf:2: unknown keyword 'byhost'" },
	{ "smtp\n\tmaxhost=3\n", "scheduler.conf:2: unknown keyword 'maxhost'" },
	{ "smtp\n\tgangschedule\n", "scheduler.conf:2: unknown keyword 'gangschedule'" },
	{ "smtp\n\tinterval=soon\n", "scheduler.conf:2: bad time value 'soon' for interval" },
	{ "smtp\n\tinterval=0\n", "scheduler.conf:2: bad time value '0' for interval" },
	{ "smtp\n\tinterval\n", "scheduler.conf:2: keyword 'interval' needs a value" },
	{ "smtp\n\tinterval=\n", "scheduler.conf:2: keyword 'interval' needs a value" },
	{ "smtp\n\tretries=\"1 0 2\"\n",
	  "scheduler.conf:2: bad retries entry '0' (want a number 1..1000000)" },
	{ "smtp\n\tretries=\"1 x\"\n",
	  "scheduler.conf:2: bad retries entry 'x' (want a number 1..1000000)" },
	{ "smtp\n\tretries=\"\"\n", "scheduler.conf:2: keyword 'retries' needs a value" },
	{ "smtp\n\tmaxthr=0\n", "scheduler.conf:2: bad value '0' for maxthr (want 1..100000)" },
	{ "smtp\n\tpriority=20\n", "scheduler.conf:2: bad value '20' for priority (want -20..19)" },
	{ "smtp\n\tnice=-41\n", "scheduler.conf:2: bad value '-41' for nice (want -40..39)" },
	{ "smtp\n\tskew=0\n", "scheduler.conf:2: bad value '0' for skew (want 1..1000000)" },
	{ "smtp\n\tqueueonly=maybe\n", "scheduler.conf:2: bad flag value 'maybe' for queueonly" },
	{ "smtp\n\tcommand=\"A=1 B=2\"\n", "scheduler.conf:2: command 'A=1 B=2' names no program" },
	{ "smtp\n\tcommand=\"smtp 'x\"\n", "scheduler.conf:2: unbalanced quote in 'smtp 'x'" },
	{ "smtp\n\tcommand=\"smtp\n", "scheduler.conf:2: newline in quoted value (use backslash-newline)" },
	{ "smtp\n\tcommand=\"smtp", "scheduler.conf:2: unterminated quoted value" },
	{ "smtp\n\tcommand=\"smtp\"x\n", "scheduler.conf:2: garbage after closing quote" },
	{ "\tinterval=1m\nsmtp\n", "scheduler.conf:1: keyword 'interval' before any clause selector" },
	{ "PARAMbogus = 1\n", "scheduler.conf:1: unknown parameter 'PARAMbogus'" },
	{ "PARAMauthfile\n", "scheduler.conf:1: PARAMauthfile needs '= value'" },
	{ "PARAMfork-rate = 0\n", "scheduler.conf:1: bad value '0' for fork-rate (want 1..100000)" },
	{ "PARAMmax-ta-comments = 0\n", "scheduler.conf:1: bad value '0' for max-ta-comments (want 1..1000000)" },
	{ "PARAMauthfile = a b\n", "scheduler.conf:1: junk after PARAMauthfile value" },
	{ "/host\n", "scheduler.conf:1: selector '/host' has no channel" },
	{ "smtp\n\tinter.val=3\n", "scheduler.conf:2: bad token 'inter.val=3'" },
	{ "smtp\n\tuser=\"a b\"\n", "scheduler.conf:2: bad user 'a b'" },
	{ "# c\n*/*\n\tinterval=1m\nsmtp\n\tcommand=smtp\n\n\texpiry=3x\n",
	  "scheduler.conf:7: bad time value '3x' for expiry" },
	{ "smtp\n\treporttimes=\"1m 2m 3m 4m 5m\"\n", "scheduler.conf:2: too many words (max 4)" },
};

START_TEST(test_bad_table)
{
	zbuf err = ZBUF_INIT(1024);
	sconf *cfg = (sconf *)1;
	int rc = sconf_parse("scheduler.conf", bad_tab[_i].text, strlen(bad_tab[_i].text), &cfg,
			     &err);

	ck_assert_msg(rc != Z_OK, "row %d: accepted", _i);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(zbuf_cstr(&err), bad_tab[_i].msg);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_nul_and_size)
{
	zbuf err = ZBUF_INIT(1024);
	sconf *cfg = NULL;
	static const char t[] = "smtp\n\tcommand=smtp\n\0junk\n";
	char *big;

	ck_assert_int_ne(sconf_parse("x.conf", t, sizeof t - 1, &cfg, &err), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&err), "x.conf:3: NUL byte in file");
	zbuf_reset(&err);
	big = malloc(SCONF_MAX_SIZE + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', SCONF_MAX_SIZE + 1);
	ck_assert_int_eq(sconf_parse("x.conf", big, SCONF_MAX_SIZE + 1, &cfg, &err), Z_ETOOBIG);
	free(big);
	zbuf_free(&err);
}
END_TEST

/* ---- command expansion ---- */
START_TEST(test_expand_command)
{
	sconf *cfg = parse_ok("smtp\tcommand=\"X=1 smtp -c $channel -h ${host}:25 $host"
			      " -l ${LOGDIR}/smtp.${channel}\"\n"
			      "abs\tcommand=\"/usr/bin/prog ${ZMTA_TEST_UNSET_VAR}x\"\n"
			      "none\tmaxthr=2\n");
	char **argv = NULL;
	zbuf err = ZBUF_INIT(256);

	zconf_set("LOGDIR", "/var/log/zmta");
	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "smtp", "mx.x"), "smtp", "mx.x",
					      "/opt/zmta", &argv, &err), Z_OK);
	ck_assert_str_eq(argv[0], "/opt/zmta/ta/smtp");
	ck_assert_str_eq(argv[1], "-c");
	ck_assert_str_eq(argv[2], "smtp");
	ck_assert_str_eq(argv[3], "-h");
	ck_assert_str_eq(argv[4], "mx.x:25");
	ck_assert_str_eq(argv[5], "mx.x");
	ck_assert_str_eq(argv[6], "-l");
	ck_assert_str_eq(argv[7], "/var/log/zmta/smtp.smtp");
	ck_assert_ptr_null(argv[8]);
	sconf_argv_free(argv);
	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "abs", ""), "abs", "", "/opt",
					      &argv, &err), Z_OK);
	ck_assert_str_eq(argv[0], "/usr/bin/prog");
	ck_assert_str_eq(argv[1], "x");
	sconf_argv_free(argv);
	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "none", "h"), "none", "h", "/opt",
					      &argv, &err), Z_ENOENT);
	ck_assert_ptr_null(argv);
	ck_assert_str_eq(zbuf_cstr(&err), "no command defined for none/h");
	zbuf_free(&err);
	sconf_free(cfg);
}
END_TEST

/* a trailing $host gets "--" before it: never read as an option */
START_TEST(test_expand_dashdash)
{
	sconf *cfg = parse_ok("smtp\tcommand=\"smtp -c $channel $host\"\n"
			      "twice\tcommand=\"smtp -c x -- $host\"\n"
			      "mid\tcommand=\"smtp $host -c x\"\n");
	char **argv = NULL;
	zbuf err = ZBUF_INIT(256);

	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "smtp", "-l/tmp/x"), "smtp",
					      "-l/tmp/x", "/opt/zmta", &argv, &err), Z_OK);
	ck_assert_str_eq(argv[0], "/opt/zmta/ta/smtp");
	ck_assert_str_eq(argv[1], "-c");
	ck_assert_str_eq(argv[2], "smtp");
	ck_assert_str_eq(argv[3], "--");
	ck_assert_str_eq(argv[4], "-l/tmp/x");
	ck_assert_ptr_null(argv[5]);
	sconf_argv_free(argv);
	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "twice", "mx.x"), "twice", "mx.x",
					      "/opt/zmta", &argv, &err), Z_OK);
	ck_assert_str_eq(argv[3], "--");
	ck_assert_str_eq(argv[4], "mx.x");
	ck_assert_ptr_null(argv[5]);
	sconf_argv_free(argv);
	/* $host not last: nothing inserted (the scheduler's host check is
	 * what keeps options out there) */
	ck_assert_int_eq(sconf_expand_command(sconf_match(cfg, "mid", "mx.x"), "mid", "mx.x",
					      "/opt/zmta", &argv, &err), Z_OK);
	ck_assert_str_eq(argv[1], "mx.x");
	ck_assert_str_eq(argv[2], "-c");
	ck_assert_ptr_null(argv[4]);
	sconf_argv_free(argv);
	zbuf_free(&err);
	sconf_free(cfg);
}
END_TEST

/* ---- the builtin configuration ---- */
START_TEST(test_builtin_text)
{
	zbuf err = ZBUF_INIT(1024), dump = ZBUF_INIT(65536);
	sconf *cfg = NULL;
	const sconf_clause *c;

	ck_assert_int_eq(sconf_load_default(&cfg, &err), Z_OK);
	c = sconf_match(cfg, "smtp", "mx.example.com");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->interval, 60);
	ck_assert_int_eq(c->nretries, 9);
	ck_assert_int_eq(c->retries[8], 34);
	ck_assert_int_eq(c->expiry, 3 * 86400);
	ck_assert_int_eq(c->expiry2, 86400);
	ck_assert_int_eq(c->idlemax, 300);
	ck_assert_int_eq(c->maxta, 100);
	ck_assert_int_eq(c->maxchannel, 50);
	ck_assert_int_eq(c->maxring, 20);
	ck_assert_int_eq(c->overfeed, 150);
	ck_assert_int_eq(c->skew, 5);
	ck_assert_str_eq(c->argv[0], "smtp");
	ck_assert(!(c->flags & SCF_WITHHOST));
	ck_assert_ptr_nonnull(sconf_match(cfg, "local", "x"));
	ck_assert_ptr_nonnull(sconf_match(cfg, "error", "x"));
	ck_assert_ptr_null(sconf_match(cfg, "hold", "x"));
	ck_assert_int_eq(sconf_dump(cfg, &dump), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&dump), "smtp/*\t# line "));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&dump), "retries=\"1 1 2 3 5 8 13 21 34\""));
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&dump), "command=\"smtp -c $channel\""));
	sconf_free(cfg);
	zbuf_free(&err);
	zbuf_free(&dump);
}
END_TEST

/* the dump of a parsed file parses again to the same settings */
START_TEST(test_dump_roundtrip)
{
	zbuf d1 = ZBUF_INIT(65536), d2 = ZBUF_INIT(65536), d3 = ZBUF_INIT(65536);
	zbuf err = ZBUF_INIT(512);
	sconf *a = parse_ok(match_conf), *b = NULL, *c = NULL;

	ck_assert_int_eq(sconf_dump(a, &d1), Z_OK);
	ck_assert_int_eq(sconf_parse("dump", d1.data, d1.len, &b, &err), Z_OK);
	ck_assert_int_eq(sconf_dump(b, &d2), Z_OK);
	ck_assert_int_eq(sconf_parse("dump", d2.data, d2.len, &c, &err), Z_OK);
	ck_assert_int_eq(sconf_dump(c, &d3), Z_OK);
	/* d1 and d2 have the same layout, so the "# line N" notes agree */
	ck_assert_str_eq(zbuf_cstr(&d2), zbuf_cstr(&d3));
	ck_assert_int_eq(b->nclauses, a->nclauses);
	for (size_t i = 0; i < a->nclauses; i++) {
		ck_assert_str_eq(a->clauses[i]->selector, b->clauses[i]->selector);
		ck_assert_int_eq(a->clauses[i]->interval, b->clauses[i]->interval);
		ck_assert_int_eq(a->clauses[i]->maxthr, b->clauses[i]->maxthr);
		ck_assert_int_eq(a->clauses[i]->nretries, b->clauses[i]->nretries);
		ck_assert_uint_eq(a->clauses[i]->flags, b->clauses[i]->flags);
	}
	sconf_free(a);
	sconf_free(b);
	sconf_free(c);
	zbuf_free(&d1);
	zbuf_free(&d2);
	zbuf_free(&d3);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_sconf.XXXXXX";
	int fd = mkstemp(path);
	zbuf err = ZBUF_INIT(1024);
	sconf *cfg = NULL;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "smtp\n\tbogus\n", 12), 12);
	close(fd);
	ck_assert_int_ne(sconf_load(path, &cfg, &err), Z_OK);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), ":2: unknown keyword 'bogus'"));
	ck_assert_int_eq(strncmp(zbuf_cstr(&err), path, strlen(path)), 0);
	unlink(path);
	zbuf_reset(&err);
	ck_assert_int_eq(sconf_load(path, &cfg, &err), Z_ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_gt(err.len, 0);
	zbuf_free(&err);
}
END_TEST

/* sconf_suite - all test cases */
static Suite *sconf_suite(void)
{
	Suite *s = suite_create("sconf");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_match_table, 0, (int)(sizeof match_tab / sizeof match_tab[0]));
	tcase_add_test(tc, test_withhost_and_flags);
	tcase_add_test(tc, test_builtin_defaults);
	tcase_add_test(tc, test_idlemax_follows_interval);
	tcase_add_test(tc, test_defaults_order);
	tcase_add_test(tc, test_trailing_empty);
	tcase_add_test(tc, test_syntax_variants);
	tcase_add_test(tc, test_params);
	tcase_add_loop_test(tc, test_bad_table, 0, (int)(sizeof bad_tab / sizeof bad_tab[0]));
	tcase_add_test(tc, test_nul_and_size);
	tcase_add_test(tc, test_expand_command);
	tcase_add_test(tc, test_expand_dashdash);
	tcase_add_test(tc, test_builtin_text);
	tcase_add_test(tc, test_dump_roundtrip);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite, exit 0 when all pass */
int main(void)
{
	SRunner *sr = srunner_create(sconf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
