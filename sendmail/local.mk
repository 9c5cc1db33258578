# sendmail/local.mk - sendmail(8): the sendmail-compatible submission command
# libsendmail.a: option parsing, input filter, header rewrite, envelope
# (linked by the program and by its unit test)
noinst_LIBRARIES += sendmail/libsendmail.a
sendmail_libsendmail_a_SOURCES = sendmail/smlib.h sendmail/smlib.c

sbin_PROGRAMS += sendmail/sendmail
sendmail_sendmail_SOURCES = sendmail/sendmail.c
sendmail_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -DZMTA_BINDIR='"$(bindir)"' -DZMTA_SBINDIR='"$(sbindir)"'
sendmail_sendmail_LDADD = sendmail/libsendmail.a spool/libspool.a mail/libmail.a lib/libzmta.a

dist_man_MANS += man/sendmail.8

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_sendmail
TESTS += tests/unit/check_sendmail
tests_unit_check_sendmail_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sendmail
tests_unit_check_sendmail_LDADD = sendmail/libsendmail.a mail/libmail.a lib/libzmta.a $(CHECK_LIBS)
endif

# integration: the built sendmail against a scratch postoffice
TESTS += tests/integration/sendmail.sh
EXTRA_DIST += tests/integration/sendmail.sh

# fuzz target: input filter, header end, header rewrite, envelope
check_PROGRAMS += tests/fuzz/replay_sendmail
TESTS += tests/fuzz/replay_sendmail
tests_fuzz_replay_sendmail_SOURCES = tests/fuzz/fuzz_sendmail.c tests/fuzz/replay_main.c
tests_fuzz_replay_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sendmail -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/sendmail"'
tests_fuzz_replay_sendmail_LDADD = sendmail/libsendmail.a mail/libmail.a lib/libzmta.a
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_sendmail
tests_fuzz_fuzz_sendmail_SOURCES = tests/fuzz/fuzz_sendmail.c
tests_fuzz_fuzz_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sendmail
tests_fuzz_fuzz_sendmail_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_sendmail_LDADD = sendmail/libsendmail.a mail/libmail.a lib/libzmta.a
endif
