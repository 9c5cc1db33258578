# router/local.mk - librouter (resolution library), the router daemon,
# newaliases, their tests and man pages
noinst_LIBRARIES += router/librouter.a
router_librouter_a_SOURCES = router/route.h router/route_int.h router/route.c \
	router/route_resolve.c

pkglibexec_PROGRAMS += router/router
router_router_SOURCES = router/router.c router/router_int.h router/rjob.c router/rcommit.c
router_router_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router
router_router_LDADD = router/librouter.a spool/libspool.a mail/libmail.a lib/libzmta.a

sbin_PROGRAMS += router/newaliases
router_newaliases_SOURCES = router/newaliases.c
router_newaliases_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router
router_newaliases_LDADD = router/librouter.a spool/libspool.a mail/libmail.a lib/libzmta.a

dist_man_MANS += man/router.8 man/router.conf.5 man/aliases.5 man/newaliases.8

# mksub: submission files through libspool (router tests, bench/route.sh)
check_PROGRAMS += tests/tools/mksub
tests_tools_mksub_SOURCES = tests/tools/mksub.c
tests_tools_mksub_LDADD = spool/libspool.a lib/libzmta.a
bench_targets += router/router tests/tools/mksub

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_router
TESTS += tests/unit/check_router
tests_unit_check_router_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_router_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router
tests_unit_check_router_LDADD = router/librouter.a mail/libmail.a lib/libzmta.a $(CHECK_LIBS)
endif

# fuzz targets: aliases(5) and router.conf(5) parsers (corpora replayed by make check)
ROUTER_FUZZ_LIBS = router/librouter.a mail/libmail.a lib/libzmta.a
check_PROGRAMS += tests/fuzz/replay_aliases tests/fuzz/replay_routerconf
TESTS += tests/fuzz/replay_aliases tests/fuzz/replay_routerconf
tests_fuzz_replay_aliases_SOURCES = tests/fuzz/fuzz_aliases.c tests/fuzz/replay_main.c
tests_fuzz_replay_aliases_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/aliases"'
tests_fuzz_replay_aliases_LDADD = $(ROUTER_FUZZ_LIBS)
tests_fuzz_replay_routerconf_SOURCES = tests/fuzz/fuzz_routerconf.c tests/fuzz/replay_main.c
tests_fuzz_replay_routerconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/routerconf"'
tests_fuzz_replay_routerconf_LDADD = $(ROUTER_FUZZ_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_aliases tests/fuzz/fuzz_routerconf
tests_fuzz_fuzz_aliases_SOURCES = tests/fuzz/fuzz_aliases.c
tests_fuzz_fuzz_aliases_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router
tests_fuzz_fuzz_aliases_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_aliases_LDADD = $(ROUTER_FUZZ_LIBS)
tests_fuzz_fuzz_routerconf_SOURCES = tests/fuzz/fuzz_routerconf.c
tests_fuzz_fuzz_routerconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/router
tests_fuzz_fuzz_routerconf_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_routerconf_LDADD = $(ROUTER_FUZZ_LIBS)
endif

ROUTER_ITESTS = tests/integration/router-basic.sh tests/integration/router-kill.sh
TESTS += $(ROUTER_ITESTS)
EXTRA_DIST += $(ROUTER_ITESTS)
EXTRA_DIST += bench/route.sh
