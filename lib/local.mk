# lib/local.mk - generic library, no mail knowledge (libzmta.a)
noinst_LIBRARIES += lib/libzmta.a
lib_libzmta_a_SOURCES = \
	lib/zerr.h lib/zerr.c \
	lib/zbuf.h lib/zbuf.c \
	lib/zlog.h lib/zlog.c \
	lib/zconf.h lib/zconf.c \
	lib/zutil.h lib/zutil.c lib/zglob.c lib/zproctitle.c \
	lib/zline.h lib/zline.c \
	lib/zevent.h lib/zevent.c \
	lib/zpriv.h lib/zpriv.c \
	lib/zsecret.h lib/zsecret.c
lib_libzmta_a_CPPFLAGS = $(LIB_CPPFLAGS)

dist_man_MANS += man/zmta.conf.5

# unit tests of lib link only lib (they must not wait for upper layers)
LIB_UNIT_LIBS = lib/libzmta.a $(CHECK_LIBS)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zbuf tests/unit/check_zconf \
	tests/unit/check_zutil tests/unit/check_zline tests/unit/check_zevent \
	tests/unit/check_zlog
TESTS += tests/unit/check_zbuf tests/unit/check_zconf \
	tests/unit/check_zutil tests/unit/check_zline tests/unit/check_zevent \
	tests/unit/check_zlog
tests_unit_check_zbuf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zbuf_LDADD = $(LIB_UNIT_LIBS)
tests_unit_check_zconf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zconf_LDADD = $(LIB_UNIT_LIBS)
tests_unit_check_zutil_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zutil_LDADD = $(LIB_UNIT_LIBS)
tests_unit_check_zline_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zline_LDADD = $(LIB_UNIT_LIBS)
tests_unit_check_zevent_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zevent_LDADD = $(LIB_UNIT_LIBS)
tests_unit_check_zlog_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zlog_LDADD = $(LIB_UNIT_LIBS)
endif

# fuzz target: zmta.conf parser (plus interval and glob parsers)
check_PROGRAMS += tests/fuzz/replay_zconf
TESTS += tests/fuzz/replay_zconf
tests_fuzz_replay_zconf_SOURCES = tests/fuzz/fuzz_zconf.c tests/fuzz/replay_main.c
tests_fuzz_replay_zconf_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/zconf"'
tests_fuzz_replay_zconf_LDADD = lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_zconf
tests_fuzz_fuzz_zconf_SOURCES = tests/fuzz/fuzz_zconf.c
tests_fuzz_fuzz_zconf_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_zconf_LDADD = lib/libzmta.a
endif

# privilege drop (lib/zpriv.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zpriv
TESTS += tests/unit/check_zpriv
tests_unit_check_zpriv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zpriv_LDADD = $(LIB_UNIT_LIBS)
endif

# files that hold secrets (lib/zsecret.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zsecret
TESTS += tests/unit/check_zsecret
tests_unit_check_zsecret_SOURCES = tests/unit/check_zsecret.c tests/unit/runsuite.h
tests_unit_check_zsecret_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zsecret_LDADD = $(LIB_UNIT_LIBS)
endif
