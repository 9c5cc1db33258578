# smtpclient/local.mk - libzmsmtp, the SMTP client library (libzmsmtp(3)):
# the client session, the envelope steps and the transaction engine the
# smtp agent shares (zmsmtp_env.c, zmsmtp_xact.c), connection set-up and
# MX policy (smtp_conn.c, smtp_mx.c, moved here from transport/smtp), the
# message preparation and builder;
# and smtpsend(1).  May include lib, mail, dns, smtp and libta's MIME code.
#
# libzmsmtpcore.a: the library's own objects for programs of this tree
# (the smtp agent, smtpsend, tests), linked with the other layers'
# archives.  libzmsmtp.la (installed, static and shared): the same sources
# plus every layer below compiled position-independent; the shared object
# exports zmsmtp_* only.
noinst_LIBRARIES += smtpclient/libzmsmtpcore.a
ZMSMTP_CORE_SOURCES = \
	smtpclient/zmsmtp.h smtpclient/zmsmtp_int.h \
	smtpclient/zmsmtp_env.h smtpclient/zmsmtp_env.c \
	smtpclient/zmsmtp_xact.h smtpclient/zmsmtp_xact.c \
	smtpclient/zmsmtp.c smtpclient/zmsmtp_msg.c \
	smtpclient/smtp_conn.h smtpclient/smtp_conn.c \
	smtpclient/smtp_mx.h smtpclient/smtp_mx.c \
	smtpclient/smtp_auth.h smtpclient/smtp_auth.c
smtpclient_libzmsmtpcore_a_SOURCES = $(ZMSMTP_CORE_SOURCES)
ZMSMTP_CPPFLAGS = -I$(top_srcdir)/smtpclient $(ZSMTP_CPPFLAGS)
smtpclient_libzmsmtpcore_a_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
smtpclient_libzmsmtpcore_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
ZMSMTP_LIBS = smtpclient/libzmsmtpcore.a transport/libta/libta.a smtp/libzsmtp.a \
	dns/libzdns.a mail/libmail.a lib/libzmta.a $(CARES_LIBS) $(SSL_LIBS)

lib_LTLIBRARIES = smtpclient/libzmsmtp.la
smtpclient_libzmsmtp_la_SOURCES = $(ZMSMTP_CORE_SOURCES) $(LIBTA_MIME_SOURCES) \
	$(smtp_libzsmtp_a_SOURCES) $(dns_libzdns_a_SOURCES) $(mail_libmail_a_SOURCES) \
	$(lib_libzmta_a_SOURCES)
smtpclient_libzmsmtp_la_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
smtpclient_libzmsmtp_la_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
smtpclient_libzmsmtp_la_LIBADD = $(CARES_LIBS) $(SSL_LIBS)
smtpclient_libzmsmtp_la_LDFLAGS = -version-info 0:0:0 -export-symbols-regex '^zmsmtp_'
include_HEADERS += smtpclient/zmsmtp.h
pkgconfig_DATA += smtpclient/libzmsmtp.pc
EXTRA_DIST += smtpclient/libzmsmtp.pc.in
DISTCLEANFILES += smtpclient/libzmsmtp.pc

bin_PROGRAMS += smtpclient/smtpsend
smtpclient_smtpsend_SOURCES = smtpclient/smtpsend.c
smtpclient_smtpsend_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
smtpclient_smtpsend_LDADD = $(ZMSMTP_LIBS)

dist_man_MANS += man/smtpsend.1 man/libzmsmtp.3

# the example program of libzmsmtp(3), linked against the installed-style
# library (libzmsmtp.la) and run by tests/integration/client-lib.sh
check_PROGRAMS += smtpclient/zmsmtp-example
smtpclient_zmsmtp_example_SOURCES = smtpclient/zmsmtp-example.c
smtpclient_zmsmtp_example_CPPFLAGS = -I$(top_srcdir)/smtpclient
smtpclient_zmsmtp_example_LDADD = smtpclient/libzmsmtp.la

# a test driver for every library option (tests/integration/client-lib.sh)
check_PROGRAMS += tests/integration/zmsmtp-drive
tests_integration_zmsmtp_drive_SOURCES = tests/integration/zmsmtp-drive.c
tests_integration_zmsmtp_drive_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
tests_integration_zmsmtp_drive_LDADD = $(ZMSMTP_LIBS)

# the transaction engine with scripted hooks
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zmsmtp_xact
TESTS += tests/unit/check_zmsmtp_xact
tests_unit_check_zmsmtp_xact_SOURCES = tests/unit/check_zmsmtp_xact.c
tests_unit_check_zmsmtp_xact_CPPFLAGS = $(AM_CPPFLAGS) $(ZMSMTP_CPPFLAGS)
tests_unit_check_zmsmtp_xact_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_zmsmtp_xact_LDADD = $(ZMSMTP_LIBS) $(CHECK_LIBS)
endif

TESTS += tests/integration/client-lib.sh tests/integration/smtpsend.sh tests/integration/client-postfix.sh
dist_check_SCRIPTS += tests/integration/client-lib.sh tests/integration/smtpsend.sh \
	tests/integration/client-postfix.sh

# make bench: bench/client-lib.sh (library session vs Python smtplib)
EXTRA_DIST += bench/client-lib.sh
bench_targets += tests/integration/zmsmtp-drive
