# transport/smtp/dns.mk - unit tests of the MX policy (smtpclient/smtp_mx.c)
# and connection code (smtpclient/smtp_conn.c, libzmsmtp); the DNS layer itself is dns/local.mk
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_smtp_conn tests/unit/check_smtp_mx
TESTS += tests/unit/check_smtp_conn tests/unit/check_smtp_mx
tests_unit_check_smtp_conn_SOURCES = tests/unit/check_smtp_conn.c \
	smtpclient/smtp_conn.c smtpclient/smtp_mx.c
tests_unit_check_smtp_conn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpclient
tests_unit_check_smtp_conn_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_check_smtp_conn_LDADD = $(DNS_LIBS) $(CHECK_LIBS)
tests_unit_check_smtp_mx_SOURCES = tests/unit/check_smtp_mx.c tests/unit/dnspeer.h \
	smtpclient/smtp_conn.c smtpclient/smtp_mx.c
tests_unit_check_smtp_mx_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpclient \
	-DDNS_TESTDIR='"$(abs_top_srcdir)/tests/peers"'
tests_unit_check_smtp_mx_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_check_smtp_mx_LDADD = $(DNS_LIBS) $(CHECK_LIBS)
endif
