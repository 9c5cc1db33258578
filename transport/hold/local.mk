# transport/hold/local.mk - the hold agent (libexecdir/zmta/ta/hold)
noinst_LIBRARIES += transport/hold/libhold.a
transport_hold_libhold_a_SOURCES = transport/hold/holdcond.h transport/hold/holdcond.c
ta_PROGRAMS += transport/hold/hold
transport_hold_hold_SOURCES = transport/hold/hold.c transport/hold/holddns.h transport/hold/holddns.c
transport_hold_hold_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
transport_hold_hold_LDADD = transport/hold/libhold.a transport/libta/libta.a spool/libspool.a \
	dns/libzdns.a mail/libmail.a lib/libzmta.a $(CARES_LIBS)

dist_man_MANS += man/hold.8
TESTS += tests/integration/ta-hold.sh
EXTRA_DIST += tests/integration/ta-hold.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_holdcond
TESTS += tests/unit/check_holdcond
tests_unit_check_holdcond_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/hold
tests_unit_check_holdcond_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_holdcond_LDADD = transport/hold/libhold.a mail/libmail.a $(UNIT_LIBS)
endif

# fuzz replay of the condition parser
check_PROGRAMS += tests/fuzz/replay_holdcond
TESTS += tests/fuzz/replay_holdcond
tests_fuzz_replay_holdcond_SOURCES = tests/fuzz/fuzz_holdcond.c tests/fuzz/replay_main.c
tests_fuzz_replay_holdcond_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/hold \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/holdcond"'
tests_fuzz_replay_holdcond_LDADD = transport/hold/libhold.a mail/libmail.a $(FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_holdcond
tests_fuzz_fuzz_holdcond_SOURCES = tests/fuzz/fuzz_holdcond.c
tests_fuzz_fuzz_holdcond_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/hold
tests_fuzz_fuzz_holdcond_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_holdcond_LDADD = transport/hold/libhold.a mail/libmail.a $(FUZZ_LIBS)
endif
