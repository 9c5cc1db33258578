# tests/fuzz/local.mk - fuzz targets; make check replays their corpora
# For a target NAME: tests/fuzz/fuzz_NAME.c and tests/fuzz/corpus/NAME/.
# The replay program links fuzz_NAME.c with replay_main.c.
FUZZ_LIBS = transport/libta/libta.a spool/libspool.a mail/libmail.a lib/libzmta.a
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/replay_main.c

# Pattern for a target NAME (copy and replace NAME):
#   check_PROGRAMS += tests/fuzz/replay_NAME
#   TESTS += tests/fuzz/replay_NAME
#   tests_fuzz_replay_NAME_SOURCES = tests/fuzz/fuzz_NAME.c tests/fuzz/replay_main.c
#   tests_fuzz_replay_NAME_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/NAME"'
#   tests_fuzz_replay_NAME_LDADD = $(FUZZ_LIBS)
#   if FUZZERS
#   noinst_PROGRAMS += tests/fuzz/fuzz_NAME
#   tests_fuzz_fuzz_NAME_SOURCES = tests/fuzz/fuzz_NAME.c
#   tests_fuzz_fuzz_NAME_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
#   tests_fuzz_fuzz_NAME_LDADD = $(FUZZ_LIBS)
#   endif
