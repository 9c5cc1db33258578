# scheduler/local.mk - the scheduler daemon (libexecdir/zmta/scheduler) and mailq(1)

# libsched.a: the scheduler's modules that work without the daemon (and
# have their own unit tests): scheduler.conf (sconf), retry/expiry
# arithmetic (retry), DSN rendering (dsn), the queue model (model), the
# scan of transport/ (scan), delivery reports (report), the removal
# batcher (removal).  Users of scan/report also link spool/ and mail/.
noinst_LIBRARIES += scheduler/libsched.a
scheduler_libsched_a_SOURCES = \
	scheduler/sconf.h scheduler/sconf.c \
	scheduler/sconf_int.h scheduler/sconf_kw.c scheduler/sconf_clause.c \
	scheduler/sconf_match.c scheduler/sconf_dump.c \
	scheduler/retry.h scheduler/retry.c \
	scheduler/dsn.h scheduler/dsn.c \
	scheduler/mq2proto.h scheduler/mq2auth.c \
	scheduler/stats.h \
	scheduler/model.h scheduler/model.c \
	scheduler/scan.h scheduler/scan.c \
	scheduler/report.h scheduler/report.c \
	scheduler/removal.h scheduler/removal.c
SCHED_LIBS = scheduler/libsched.a spool/libspool.a mail/libmail.a lib/libzmta.a

# mailq(1): client of the scheduler's MAILQ v2 socket
bin_PROGRAMS += scheduler/mailq
scheduler_mailq_SOURCES = scheduler/mailq.c scheduler/mq2proto.h
scheduler_mailq_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
scheduler_mailq_LDADD = scheduler/libsched.a mail/libmail.a lib/libzmta.a $(SSL_LIBS)

dist_man_MANS += man/scheduler.conf.5 man/mailq.1
EXTRA_DIST += tests/unit/golden

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_sconf tests/unit/check_retry tests/unit/check_dsn
TESTS += tests/unit/check_sconf tests/unit/check_retry tests/unit/check_dsn
tests_unit_check_sconf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_sconf_LDADD = scheduler/libsched.a $(UNIT_LIBS)
tests_unit_check_retry_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_retry_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_retry_LDADD = scheduler/libsched.a $(UNIT_LIBS)
tests_unit_check_dsn_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_dsn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler \
	-DGOLDEN_DIR='"$(abs_top_srcdir)/tests/unit/golden"'
tests_unit_check_dsn_LDADD = scheduler/libsched.a $(UNIT_LIBS)
check_PROGRAMS += tests/unit/check_mq2auth
TESTS += tests/unit/check_mq2auth
tests_unit_check_mq2auth_CFLAGS = $(UNIT_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_mq2auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_mq2auth_LDADD = scheduler/libsched.a $(UNIT_LIBS) $(SSL_LIBS)
endif

# fuzz target: scheduler.conf parser
check_PROGRAMS += tests/fuzz/replay_sconf
TESTS += tests/fuzz/replay_sconf
tests_fuzz_replay_sconf_SOURCES = tests/fuzz/fuzz_sconf.c tests/fuzz/replay_main.c
tests_fuzz_replay_sconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/sconf"'
tests_fuzz_replay_sconf_LDADD = scheduler/libsched.a $(FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_sconf
tests_fuzz_fuzz_sconf_SOURCES = tests/fuzz/fuzz_sconf.c
tests_fuzz_fuzz_sconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_fuzz_fuzz_sconf_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_sconf_LDADD = scheduler/libsched.a $(FUZZ_LIBS)
endif

# (scheduler daemon: added below by its developer)
