# transport/smtp/dns.mk - unit tests and DNS test helpers for smtp_dns.c / smtp_conn.c
EXTRA_DIST += tests/integration/dns/mta.test.zone tests/integration/dns/dns-faulty.py \
	tests/integration/dns/dnslib.sh tests/integration/dns/start-dns.sh
if HAVE_CHECK
check_PROGRAMS += tests/unit/check_smtp_conn tests/unit/check_smtp_dns
TESTS += tests/unit/check_smtp_conn tests/unit/check_smtp_dns
tests_unit_check_smtp_conn_SOURCES = tests/unit/check_smtp_conn.c \
	transport/smtp/smtp_conn.c transport/smtp/smtp_dns.c
tests_unit_check_smtp_conn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/smtp
tests_unit_check_smtp_conn_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_check_smtp_conn_LDADD = mail/libmail.a lib/libzmta.a $(CHECK_LIBS) $(CARES_LIBS)
tests_unit_check_smtp_dns_SOURCES = tests/unit/check_smtp_dns.c \
	transport/smtp/smtp_conn.c transport/smtp/smtp_dns.c
tests_unit_check_smtp_dns_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/smtp \
	-DDNS_TESTDIR='"$(abs_top_srcdir)/tests/integration/dns"'
tests_unit_check_smtp_dns_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_check_smtp_dns_LDADD = mail/libmail.a lib/libzmta.a $(CHECK_LIBS) $(CARES_LIBS)
endif
