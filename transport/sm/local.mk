# transport/sm/local.mk - the sm program mailer (libexecdir/zmta/ta/sm) and sm.conf
noinst_LIBRARIES += transport/sm/libsm.a
transport_sm_libsm_a_SOURCES = transport/sm/smconf.h transport/sm/smconf.c
ta_PROGRAMS += transport/sm/sm
transport_sm_sm_SOURCES = transport/sm/sm.c
transport_sm_sm_LDADD = transport/sm/libsm.a transport/libta/libta.a spool/libspool.a \
	mail/libmail.a lib/libzmta.a

dist_man_MANS += man/sm.8 man/sm.conf.5
TESTS += tests/integration/ta-sm.sh
EXTRA_DIST += tests/integration/ta-sm.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_smconf
TESTS += tests/unit/check_smconf
tests_unit_check_smconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/sm
tests_unit_check_smconf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_smconf_LDADD = transport/sm/libsm.a $(UNIT_LIBS)
endif

# fuzz replay of the sm.conf parser
check_PROGRAMS += tests/fuzz/replay_smconf
TESTS += tests/fuzz/replay_smconf
tests_fuzz_replay_smconf_SOURCES = tests/fuzz/fuzz_smconf.c tests/fuzz/replay_main.c
tests_fuzz_replay_smconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/sm \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/smconf"'
tests_fuzz_replay_smconf_LDADD = transport/sm/libsm.a $(FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_smconf
tests_fuzz_fuzz_smconf_SOURCES = tests/fuzz/fuzz_smconf.c
tests_fuzz_fuzz_smconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/sm
tests_fuzz_fuzz_smconf_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_smconf_LDADD = transport/sm/libsm.a $(FUZZ_LIBS)
endif
