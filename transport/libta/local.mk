# transport/libta/local.mk - transport agent library (libta.a)
noinst_LIBRARIES += transport/libta/libta.a
# the MIME converter (mime.h); libzmsmtp compiles the same list
LIBTA_MIME_SOURCES = transport/libta/mime.h transport/libta/mime_int.h \
	transport/libta/mime.c transport/libta/mime_ent.c transport/libta/mime_qp.c \
	transport/libta/mime_hdr.c transport/libta/mime_body.c
transport_libta_libta_a_SOURCES = \
	transport/libta/ta.h transport/libta/ta.c \
	$(LIBTA_MIME_SOURCES) \
	transport/libta/tagroup.h transport/libta/tagroup.c
transport_libta_libta_a_CPPFLAGS = $(LIBTA_CPPFLAGS)

# zmta-ta(7): the scheduler <-> agent protocol (spool/taproto.c, libta)
dist_man_MANS += man/zmta-ta.7

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_taproto tests/unit/check_libta
TESTS += tests/unit/check_taproto tests/unit/check_libta
tests_unit_check_taproto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_taproto_LDADD = $(UNIT_LIBS)
tests_unit_check_libta_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_libta_LDADD = $(UNIT_LIBS)
check_PROGRAMS += tests/unit/check_tagroup
TESTS += tests/unit/check_tagroup
tests_unit_check_tagroup_SOURCES = tests/unit/check_tagroup.c tests/unit/runsuite.h
tests_unit_check_tagroup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_tagroup_LDADD = $(UNIT_LIBS)
endif

# fuzz replays of the job-line and report-line parsers
check_PROGRAMS += tests/fuzz/replay_jobline tests/fuzz/replay_report
TESTS += tests/fuzz/replay_jobline tests/fuzz/replay_report
tests_fuzz_replay_jobline_SOURCES = tests/fuzz/fuzz_jobline.c tests/fuzz/replay_main.c
tests_fuzz_replay_jobline_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/jobline"'
tests_fuzz_replay_jobline_LDADD = $(FUZZ_LIBS)
tests_fuzz_replay_report_SOURCES = tests/fuzz/fuzz_report.c tests/fuzz/replay_main.c
tests_fuzz_replay_report_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/report"'
tests_fuzz_replay_report_LDADD = $(FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_jobline tests/fuzz/fuzz_report
tests_fuzz_fuzz_jobline_SOURCES = tests/fuzz/fuzz_jobline.c
tests_fuzz_fuzz_jobline_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_jobline_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_report_SOURCES = tests/fuzz/fuzz_report.c
tests_fuzz_fuzz_report_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_report_LDADD = $(FUZZ_LIBS)
endif
