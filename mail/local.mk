# mail/local.mk - libmail: mail syntax, no I/O (RFC 5321 hosts and paths, ...)
# Layer: may include lib/ only.
noinst_LIBRARIES += mail/libmail.a
mail_libmail_a_SOURCES = \
	mail/mhost.h mail/mhost.c \
	mail/xtext.h mail/xtext.c \
	mail/mstatus.h mail/mstatus.c \
	mail/maddr.h mail/maddr.c \
	mail/mparam.h mail/mparam.c \
	mail/mheader.h mail/mheader.c
mail_libmail_a_CPPFLAGS = $(MAIL_CPPFLAGS)

MAIL_UNIT_LIBS = mail/libmail.a lib/libzmta.a $(CHECK_LIBS)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mhost
TESTS += tests/unit/check_mhost
tests_unit_check_mhost_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mhost_LDADD = $(MAIL_UNIT_LIBS)
endif

# fuzz target: host grammar
check_PROGRAMS += tests/fuzz/replay_mhost
TESTS += tests/fuzz/replay_mhost
tests_fuzz_replay_mhost_SOURCES = tests/fuzz/fuzz_mhost.c tests/fuzz/replay_main.c
tests_fuzz_replay_mhost_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mhost"'
tests_fuzz_replay_mhost_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mhost
tests_fuzz_fuzz_mhost_SOURCES = tests/fuzz/fuzz_mhost.c
tests_fuzz_fuzz_mhost_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mhost_LDADD = mail/libmail.a lib/libzmta.a
endif

# xtext (RFC 3461)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mxtext
TESTS += tests/unit/check_mxtext
tests_unit_check_mxtext_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mxtext_LDADD = $(MAIL_UNIT_LIBS)
endif
check_PROGRAMS += tests/fuzz/replay_mxtext
TESTS += tests/fuzz/replay_mxtext
tests_fuzz_replay_mxtext_SOURCES = tests/fuzz/fuzz_mxtext.c tests/fuzz/replay_main.c
tests_fuzz_replay_mxtext_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mxtext"'
tests_fuzz_replay_mxtext_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mxtext
tests_fuzz_fuzz_mxtext_SOURCES = tests/fuzz/fuzz_mxtext.c
tests_fuzz_fuzz_mxtext_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mxtext_LDADD = mail/libmail.a lib/libzmta.a
endif

# enhanced status codes (RFC 3463)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mstatus
TESTS += tests/unit/check_mstatus
tests_unit_check_mstatus_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mstatus_LDADD = $(MAIL_UNIT_LIBS)
endif
check_PROGRAMS += tests/fuzz/replay_mstatus
TESTS += tests/fuzz/replay_mstatus
tests_fuzz_replay_mstatus_SOURCES = tests/fuzz/fuzz_mstatus.c tests/fuzz/replay_main.c
tests_fuzz_replay_mstatus_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mstatus"'
tests_fuzz_replay_mstatus_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mstatus
tests_fuzz_fuzz_mstatus_SOURCES = tests/fuzz/fuzz_mstatus.c
tests_fuzz_fuzz_mstatus_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mstatus_LDADD = mail/libmail.a lib/libzmta.a
endif

# paths (RFC 5321)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_maddr
TESTS += tests/unit/check_maddr
tests_unit_check_maddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_maddr_LDADD = $(MAIL_UNIT_LIBS)
endif
check_PROGRAMS += tests/fuzz/replay_maddr
TESTS += tests/fuzz/replay_maddr
tests_fuzz_replay_maddr_SOURCES = tests/fuzz/fuzz_maddr.c tests/fuzz/replay_main.c
tests_fuzz_replay_maddr_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/maddr"'
tests_fuzz_replay_maddr_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_maddr
tests_fuzz_fuzz_maddr_SOURCES = tests/fuzz/fuzz_maddr.c
tests_fuzz_fuzz_maddr_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_maddr_LDADD = mail/libmail.a lib/libzmta.a
endif

# ESMTP parameters
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mparam
TESTS += tests/unit/check_mparam
tests_unit_check_mparam_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mparam_LDADD = $(MAIL_UNIT_LIBS)
endif
check_PROGRAMS += tests/fuzz/replay_mparam
TESTS += tests/fuzz/replay_mparam
tests_fuzz_replay_mparam_SOURCES = tests/fuzz/fuzz_mparam.c tests/fuzz/replay_main.c
tests_fuzz_replay_mparam_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mparam"'
tests_fuzz_replay_mparam_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mparam
tests_fuzz_fuzz_mparam_SOURCES = tests/fuzz/fuzz_mparam.c
tests_fuzz_fuzz_mparam_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mparam_LDADD = mail/libmail.a lib/libzmta.a
endif

# header fields, tokens, address lists (RFC 5322)
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mheader
TESTS += tests/unit/check_mheader
tests_unit_check_mheader_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mheader_LDADD = $(MAIL_UNIT_LIBS)
endif
check_PROGRAMS += tests/fuzz/replay_mheader
TESTS += tests/fuzz/replay_mheader
tests_fuzz_replay_mheader_SOURCES = tests/fuzz/fuzz_mheader.c tests/fuzz/replay_main.c
tests_fuzz_replay_mheader_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/mheader"'
tests_fuzz_replay_mheader_LDADD = mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_mheader
tests_fuzz_fuzz_mheader_SOURCES = tests/fuzz/fuzz_mheader.c
tests_fuzz_fuzz_mheader_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_mheader_LDADD = mail/libmail.a lib/libzmta.a
endif

dist_man_MANS += man/zmta-mail.3
