# transport/smtp/local.mk - the smtp transport agent (libexecdir/zmta/ta/smtp)
# Everything but main() goes into a private library so that the unit test
# and the fuzz replay link the same objects.
noinst_LIBRARIES += transport/smtp/libsmtp.a
transport_smtp_libsmtp_a_SOURCES = \
	transport/smtp/smtp.h transport/smtp/smtp_agent.h \
	transport/smtp/smtp_sess.c \
	transport/smtp/smtp_open.c \
	transport/smtp/smtp_xact.c \
	transport/smtp/smtp_result.c \
	transport/smtp/smtp_window.c \
	transport/smtp/smtp_deliver.c \
	transport/smtp/smtp_log.c
transport_smtp_libsmtp_a_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
transport_smtp_libsmtp_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
SMTP_LIBS = transport/smtp/libsmtp.a smtpclient/libzmsmtpcore.a transport/libta/libta.a \
	spool/libspool.a smtp/libzsmtp.a dns/libzdns.a mail/libmail.a lib/libzmta.a $(CARES_LIBS) $(SSL_LIBS)

ta_PROGRAMS += transport/smtp/smtp
transport_smtp_smtp_SOURCES = transport/smtp/smtp_main.c
transport_smtp_smtp_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
transport_smtp_smtp_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
transport_smtp_smtp_LDADD = $(SMTP_LIBS)

dist_man_MANS += man/smtp.8

check_PROGRAMS += tests/fuzz/replay_smtpreply
TESTS += tests/fuzz/replay_smtpreply
tests_fuzz_replay_smtpreply_SOURCES = tests/fuzz/fuzz_smtpreply.c tests/fuzz/replay_main.c
tests_fuzz_replay_smtpreply_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS) -I$(top_srcdir)/transport/smtp \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/smtpreply"'
tests_fuzz_replay_smtpreply_LDADD = $(SMTP_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_smtpreply
tests_fuzz_fuzz_smtpreply_SOURCES = tests/fuzz/fuzz_smtpreply.c
tests_fuzz_fuzz_smtpreply_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS) -I$(top_srcdir)/transport/smtp
tests_fuzz_fuzz_smtpreply_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_smtpreply_LDADD = $(SMTP_LIBS)
endif

# the -A secrets file and TLS name matching
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_smtp_auth
TESTS += tests/unit/check_smtp_auth
tests_unit_check_smtp_auth_SOURCES = tests/unit/check_smtp_auth.c tests/unit/scratch.h
tests_unit_check_smtp_auth_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS) -I$(top_srcdir)/transport/smtp
tests_unit_check_smtp_auth_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_smtp_auth_LDADD = $(SMTP_LIBS) $(CHECK_LIBS)
endif

check_PROGRAMS += tests/fuzz/replay_smtpauth
TESTS += tests/fuzz/replay_smtpauth
tests_fuzz_replay_smtpauth_SOURCES = tests/fuzz/fuzz_smtpauth.c tests/fuzz/replay_main.c
tests_fuzz_replay_smtpauth_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS) -I$(top_srcdir)/transport/smtp \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/smtpauth"'
tests_fuzz_replay_smtpauth_LDADD = $(SMTP_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_smtpauth
tests_fuzz_fuzz_smtpauth_SOURCES = tests/fuzz/fuzz_smtpauth.c
tests_fuzz_fuzz_smtpauth_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS) -I$(top_srcdir)/transport/smtp
tests_fuzz_fuzz_smtpauth_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_smtpauth_LDADD = $(SMTP_LIBS)
endif
