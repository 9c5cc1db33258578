# transport/libta/mime.mk - tests and fuzz target of the MIME converter
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mime
TESTS += tests/unit/check_mime
tests_unit_check_mime_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mime_LDADD = $(UNIT_LIBS)
endif

check_PROGRAMS += tests/fuzz/replay_mime
TESTS += tests/fuzz/replay_mime
tests_fuzz_replay_mime_SOURCES = tests/fuzz/fuzz_mime.c tests/fuzz/replay_main.c
tests_fuzz_replay_mime_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mime"'
tests_fuzz_replay_mime_LDADD = $(FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mime
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c
tests_fuzz_fuzz_mime_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mime_LDADD = $(FUZZ_LIBS)
endif
