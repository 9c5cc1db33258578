# scheduler/daemon.mk - the scheduler daemon ($(pkglibexecdir)/scheduler),
# its unit test, integration tests, man page and benchmark.

pkglibexec_PROGRAMS += scheduler/scheduler
scheduler_scheduler_SOURCES = scheduler/scheduler.c \
	scheduler/agents.h scheduler/agents_int.h scheduler/agents.c \
	scheduler/agent_spawn.c scheduler/agent_io.c \
	scheduler/complete.h scheduler/complete.c \
	scheduler/mqsrv.h scheduler/mqsrv.c
scheduler_scheduler_SOURCES += scheduler/orphans.h scheduler/orphans.c
scheduler_scheduler_SOURCES += scheduler/mqsrv_int.h scheduler/mqsrv_cmd.c \
	scheduler/mqsrv_list.c scheduler/mqsrv_auth.c
scheduler_scheduler_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
scheduler_scheduler_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
scheduler_scheduler_LDADD = scheduler/libsched.a spool/libspool.a mail/libmail.a lib/libzmta.a $(SSL_LIBS) -lpthread

dist_man_MANS += man/scheduler.8

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_model
TESTS += tests/unit/check_model
tests_unit_check_model_SOURCES = tests/unit/check_model.c
tests_unit_check_model_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_model_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_model_LDADD = scheduler/libsched.a $(UNIT_LIBS)
endif

SCHED_ITESTS = \
	tests/integration/sched-basic.sh \
	tests/integration/sched-retry.sh \
	tests/integration/sched-agentkill.sh \
	tests/integration/sched-restart.sh \
	tests/integration/sched-hostile.sh \
	tests/integration/sched-config.sh \
	tests/integration/sched-interim.sh \
	tests/integration/sched-readahead.sh
TESTS += $(SCHED_ITESTS)
EXTRA_DIST += $(SCHED_ITESTS) bench/sched-scan.sh
bench_targets += scheduler/scheduler

# issue 8 mends: host checks at scan, body ownership, stale locks, retry
# hints, read errors versus parse errors
SCHED_MEND_ITESTS = \
	tests/integration/sched-hostcheck.sh \
	tests/integration/sched-ctlcheck.sh \
	tests/integration/sched-retryat.sh \
	tests/integration/sched-readerr.sh
TESTS += $(SCHED_MEND_ITESTS)
EXTRA_DIST += $(SCHED_MEND_ITESTS) tests/tools/rderr.c
# issue 8: log, statistics and pid files never through a symbolic link
TESTS += tests/integration/sched-logfiles.sh
EXTRA_DIST += tests/integration/sched-logfiles.sh
TESTS += tests/integration/sched-keepalive.sh tests/integration/sched-chatty.sh
EXTRA_DIST += tests/integration/sched-keepalive.sh tests/integration/sched-chatty.sh
# issue 9: the scheduler's modules and their unit tests
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_removal
TESTS += tests/unit/check_removal
tests_unit_check_removal_SOURCES = tests/unit/check_removal.c
tests_unit_check_removal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_removal_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_removal_LDADD = scheduler/libsched.a $(UNIT_LIBS) -lpthread
check_PROGRAMS += tests/unit/check_scan
TESTS += tests/unit/check_scan
tests_unit_check_scan_SOURCES = tests/unit/check_scan.c
tests_unit_check_scan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_scan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_scan_LDADD = scheduler/libsched.a spool/libspool.a mail/libmail.a $(UNIT_LIBS) -lpthread
check_PROGRAMS += tests/unit/check_report
TESTS += tests/unit/check_report
tests_unit_check_report_SOURCES = tests/unit/check_report.c
tests_unit_check_report_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_report_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/scheduler
tests_unit_check_report_LDADD = scheduler/libsched.a spool/libspool.a mail/libmail.a $(UNIT_LIBS)
endif
