# tests/unit/local.mk - common settings for libcheck unit tests.
# Each area declares its own tests in its own local.mk, e.g. in lib/local.mk:
#   if HAVE_CHECK
#   check_PROGRAMS += tests/unit/check_zbuf
#   TESTS += tests/unit/check_zbuf
#   tests_unit_check_zbuf_CFLAGS = $(UNIT_CFLAGS)
#   tests_unit_check_zbuf_LDADD = $(UNIT_LIBS)
#   endif
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = transport/libta/libta.a spool/libspool.a mail/libmail.a lib/libzmta.a $(CHECK_LIBS)
