# tests/unit/local.mk - libcheck unit tests, one program per module
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = transport/libta/libta.a spool/libspool.a lib/libzmta.a $(CHECK_LIBS)
if HAVE_CHECK
endif
