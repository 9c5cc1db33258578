# smtp/local.mk - the SMTP protocol layer (libzsmtp.a): sessions, replies in
# both directions, the EHLO keyword table, the client's state table, TLS
# (client and server), SASL (both sides).  Depends on lib/ and mail/ only:
# its include path has nothing else, so a higher layer cannot creep in.
noinst_LIBRARIES += smtp/libzsmtp.a
smtp_libzsmtp_a_SOURCES = \
	smtp/smtp_reply.h smtp/smtp_reply.c \
	smtp/smtp_session.h smtp/smtp_session.c \
	smtp/smtp_state.h smtp/smtp_state.c \
	smtp/smtp_ehlo.h smtp/smtp_ehlo.c \
	smtp/smtp_tls.h smtp/smtp_tls.c \
	smtp/smtp_sasl.h smtp/smtp_sasl.c
smtp_libzsmtp_a_CPPFLAGS = $(MAIL_CPPFLAGS) -I$(top_srcdir)/smtp
smtp_libzsmtp_a_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
# what a program using the layer adds
ZSMTP_CPPFLAGS = -I$(top_srcdir)/smtp
ZSMTP_LIBS = smtp/libzsmtp.a mail/libmail.a lib/libzmta.a $(SSL_LIBS)

dist_man_MANS += man/zmta-smtp.3

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_smtp_session tests/unit/check_smtp_ehlo \
	tests/unit/check_smtp_sasl tests/unit/check_smtp_tls
TESTS += tests/unit/check_smtp_session tests/unit/check_smtp_ehlo \
	tests/unit/check_smtp_sasl tests/unit/check_smtp_tls
tests_unit_check_smtp_session_CPPFLAGS = $(AM_CPPFLAGS) $(ZSMTP_CPPFLAGS)
tests_unit_check_smtp_session_CFLAGS = $(UNIT_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_smtp_session_LDADD = $(ZSMTP_LIBS) $(CHECK_LIBS)
tests_unit_check_smtp_ehlo_CPPFLAGS = $(AM_CPPFLAGS) $(ZSMTP_CPPFLAGS)
tests_unit_check_smtp_ehlo_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_smtp_ehlo_LDADD = $(ZSMTP_LIBS) $(CHECK_LIBS)
tests_unit_check_smtp_sasl_CPPFLAGS = $(AM_CPPFLAGS) $(ZSMTP_CPPFLAGS)
tests_unit_check_smtp_sasl_CFLAGS = $(UNIT_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_smtp_sasl_LDADD = $(ZSMTP_LIBS) $(CHECK_LIBS)
tests_unit_check_smtp_tls_SOURCES = tests/unit/check_smtp_tls.c tests/unit/scratch.h
tests_unit_check_smtp_tls_CPPFLAGS = $(AM_CPPFLAGS) $(ZSMTP_CPPFLAGS)
tests_unit_check_smtp_tls_CFLAGS = $(UNIT_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_smtp_tls_LDADD = $(ZSMTP_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/check_smtp_reply
TESTS += tests/unit/check_smtp_reply
tests_unit_check_smtp_reply_CPPFLAGS = $(AM_CPPFLAGS) $(ZSMTP_CPPFLAGS)
tests_unit_check_smtp_reply_CFLAGS = $(UNIT_CFLAGS) $(SSL_CFLAGS)
tests_unit_check_smtp_reply_LDADD = $(ZSMTP_LIBS) $(CHECK_LIBS)
endif
