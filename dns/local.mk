# dns/local.mk - libzdns: the DNS layer (c-ares wrapper: MX, A/AAAA, WKS,
# raw queries for TLSA/TXT; CNAME and null-MX rules).
# Layer: may include lib/ and mail/ only (its own include path enforces it).
noinst_LIBRARIES += dns/libzdns.a
dns_libzdns_a_SOURCES = dns/zdns.h dns/zdns.c dns/zdns_msg.c
dns_libzdns_a_CPPFLAGS = $(MAIL_CPPFLAGS)
dns_libzdns_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
DNS_LIBS = dns/libzdns.a mail/libmail.a lib/libzmta.a $(CARES_LIBS)

# the unit tests' DNS servers (tests/peers: the one zone and the
# python3-dnslib fault server, shipped by tests/integration/local.mk)
EXTRA_DIST += tests/unit/dnspeer.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_dns
TESTS += tests/unit/check_dns
tests_unit_check_dns_SOURCES = tests/unit/check_dns.c tests/unit/dnspeer.h
tests_unit_check_dns_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDNS_TESTDIR='"$(abs_top_srcdir)/tests/peers"' \
	-DDNS_PACKETDIR='"$(abs_top_srcdir)/tests/fuzz/corpus/dns"'
tests_unit_check_dns_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_check_dns_LDADD = $(DNS_LIBS) $(CHECK_LIBS)
endif

# fuzz target: the hand-written reply walker and the c-ares parsers behind it
check_PROGRAMS += tests/fuzz/replay_dns
TESTS += tests/fuzz/replay_dns
tests_fuzz_replay_dns_SOURCES = tests/fuzz/fuzz_dns.c tests/fuzz/replay_main.c
tests_fuzz_replay_dns_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/dns"'
tests_fuzz_replay_dns_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
tests_fuzz_replay_dns_LDADD = $(DNS_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_dns
tests_fuzz_fuzz_dns_SOURCES = tests/fuzz/fuzz_dns.c
tests_fuzz_fuzz_dns_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
tests_fuzz_fuzz_dns_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_dns_LDADD = $(DNS_LIBS)
endif

dist_man_MANS += man/zmta-dns.3
