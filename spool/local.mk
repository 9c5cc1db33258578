# spool/local.mk - libspool: layout, submission, control files, TA protocol codec
noinst_LIBRARIES += spool/libspool.a
spool_libspool_a_SOURCES = \
	spool/spool.h spool/spool.c \
	spool/ctlfile.h spool/ctlfile.c \
	spool/submit.h spool/submit.c \
	spool/taproto.h spool/taproto.c
spool_libspool_a_CPPFLAGS = $(SPOOL_CPPFLAGS)

# (zmta(8), the administration command, lives in zmtactl/)
dist_man_MANS += man/zmta-spool.5

# unit tests (libcheck); linked against lib and libspool only
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_spool tests/unit/check_ctlfile tests/unit/check_submit
TESTS += tests/unit/check_spool tests/unit/check_ctlfile tests/unit/check_submit
tests_unit_check_spool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_spool_LDADD = spool/libspool.a lib/libzmta.a $(CHECK_LIBS)
tests_unit_check_ctlfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ctlfile_LDADD = spool/libspool.a lib/libzmta.a $(CHECK_LIBS)
tests_unit_check_submit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_submit_LDADD = spool/libspool.a lib/libzmta.a $(CHECK_LIBS)
endif
# one scratch directory per test run (also used by check_libta)
EXTRA_DIST += tests/unit/scratch.h

# fuzz target: control-file parser
check_PROGRAMS += tests/fuzz/replay_ctlfile
TESTS += tests/fuzz/replay_ctlfile
tests_fuzz_replay_ctlfile_SOURCES = tests/fuzz/fuzz_ctlfile.c tests/fuzz/replay_main.c
tests_fuzz_replay_ctlfile_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/ctlfile"'
tests_fuzz_replay_ctlfile_LDADD = spool/libspool.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_ctlfile
tests_fuzz_fuzz_ctlfile_SOURCES = tests/fuzz/fuzz_ctlfile.c
tests_fuzz_fuzz_ctlfile_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ctlfile_LDADD = spool/libspool.a lib/libzmta.a
endif
