# smtpserver/local.mk - the smtpserver's policy building blocks
# (greylisting, policy delegation client, PROXY protocol, password file,
# connection limits and tarpit).  The protocol engine links this library.
noinst_LIBRARIES += smtpserver/libzsmtpd_policy.a
smtpserver_libzsmtpd_policy_a_SOURCES = \
	smtpserver/pol_proxy.h smtpserver/pol_proxy.c \
	smtpserver/pol_limit.h smtpserver/pol_limit.c \
	smtpserver/pol_passwd.h smtpserver/pol_passwd.c \
	smtpserver/pol_policy.h smtpserver/pol_policy.c \
	smtpserver/pol_grey.h smtpserver/pol_grey_int.h smtpserver/pol_grey.c \
	smtpserver/pol_grey_lmdb.c smtpserver/pol_grey_redis.c \
	smtpserver/pol_knobs.h smtpserver/pol_knobs.c
smtpserver_libzsmtpd_policy_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(HIREDIS_CFLAGS) $(SSL_CFLAGS) $(CARES_CFLAGS)
POL_LIBS = smtpserver/libzsmtpd_policy.a lib/libzmta.a $(LMDB_LIBS) $(HIREDIS_LIBS) $(CRYPT_LIBS) $(SSL_LIBS)
POL_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver


if HAVE_CHECK
POL_UNITS = tests/unit/check_pol_proxy tests/unit/check_pol_limit tests/unit/check_pol_passwd \
	tests/unit/check_pol_policy tests/unit/check_pol_grey tests/unit/check_pol_knobs
check_PROGRAMS += $(POL_UNITS)
TESTS += $(POL_UNITS)
tests_unit_check_pol_proxy_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_proxy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pol_proxy_LDADD = $(POL_LIBS) $(CHECK_LIBS)
tests_unit_check_pol_limit_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_limit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pol_limit_LDADD = $(POL_LIBS) $(CHECK_LIBS)
tests_unit_check_pol_passwd_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_passwd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pol_passwd_LDADD = $(POL_LIBS) $(CHECK_LIBS)
tests_unit_check_pol_policy_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pol_policy_LDADD = $(POL_LIBS) $(CHECK_LIBS)
tests_unit_check_pol_grey_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_grey_CFLAGS = $(UNIT_CFLAGS) $(HIREDIS_CFLAGS)
tests_unit_check_pol_grey_LDADD = $(POL_LIBS) $(CHECK_LIBS)
tests_unit_check_pol_knobs_CPPFLAGS = $(POL_CPPFLAGS)
tests_unit_check_pol_knobs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pol_knobs_LDADD = $(POL_LIBS) $(ZMSMTPD_LIBS) $(DNS_LIBS) $(CHECK_LIBS)
endif

# polquery: one policy-delegation request from the command line (tests)
check_PROGRAMS += tests/tools/polquery
tests_tools_polquery_SOURCES = tests/tools/polquery.c
tests_tools_polquery_CPPFLAGS = $(POL_CPPFLAGS)
tests_tools_polquery_LDADD = $(POL_LIBS)

TESTS += tests/integration/smtpd-policy.sh
EXTRA_DIST += tests/integration/smtpd-policy.sh
TESTS += tests/integration/smtpd-wired.sh
EXTRA_DIST += tests/integration/smtpd-wired.sh
TESTS += tests/integration/smtpd-greyredis.sh tests/integration/smtpd-polactions.sh
EXTRA_DIST += tests/integration/smtpd-greyredis.sh tests/integration/smtpd-polactions.sh
# issue 11 requirements that had no test: limits, timeouts, SIGTERM, privileges,
# STARTTLS offer, PROXY v2 through the daemon
SMTPD_I11_ITESTS = tests/integration/smtpd-limits.sh tests/integration/smtpd-privs.sh \
	tests/integration/smtpd-starttls.sh tests/integration/smtpd-proxy2.sh \
	tests/integration/smtpd-workers.sh
TESTS += $(SMTPD_I11_ITESTS)
EXTRA_DIST += $(SMTPD_I11_ITESTS)
TESTS += tests/integration/smtpd-knobs.sh
EXTRA_DIST += tests/integration/smtpd-knobs.sh

# fuzz targets: the PROXY header, policy replies, the password file
POL_FUZZ = proxy polreply passwd
check_PROGRAMS += tests/fuzz/replay_proxy tests/fuzz/replay_polreply tests/fuzz/replay_passwd
TESTS += tests/fuzz/replay_proxy tests/fuzz/replay_polreply tests/fuzz/replay_passwd
tests_fuzz_replay_proxy_SOURCES = tests/fuzz/fuzz_proxy.c tests/fuzz/replay_main.c
tests_fuzz_replay_proxy_CPPFLAGS = $(POL_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/proxy"'
tests_fuzz_replay_proxy_LDADD = $(POL_LIBS)
tests_fuzz_replay_polreply_SOURCES = tests/fuzz/fuzz_polreply.c tests/fuzz/replay_main.c
tests_fuzz_replay_polreply_CPPFLAGS = $(POL_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/polreply"'
tests_fuzz_replay_polreply_LDADD = $(POL_LIBS)
tests_fuzz_replay_passwd_SOURCES = tests/fuzz/fuzz_passwd.c tests/fuzz/replay_main.c
tests_fuzz_replay_passwd_CPPFLAGS = $(POL_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/passwd"'
tests_fuzz_replay_passwd_LDADD = $(POL_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_proxy tests/fuzz/fuzz_polreply tests/fuzz/fuzz_passwd
tests_fuzz_fuzz_proxy_SOURCES = tests/fuzz/fuzz_proxy.c
tests_fuzz_fuzz_proxy_CPPFLAGS = $(POL_CPPFLAGS)
tests_fuzz_fuzz_proxy_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_proxy_LDADD = $(POL_LIBS)
tests_fuzz_fuzz_polreply_SOURCES = tests/fuzz/fuzz_polreply.c
tests_fuzz_fuzz_polreply_CPPFLAGS = $(POL_CPPFLAGS)
tests_fuzz_fuzz_polreply_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_polreply_LDADD = $(POL_LIBS)
tests_fuzz_fuzz_passwd_SOURCES = tests/fuzz/fuzz_passwd.c
tests_fuzz_fuzz_passwd_CPPFLAGS = $(POL_CPPFLAGS)
tests_fuzz_fuzz_passwd_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_passwd_LDADD = $(POL_LIBS)
endif

# smtpserver/local.mk - libzmsmtpd (the SMTP server engine, installed with
# its header and pkg-config file) and the smtpserver daemon.
# The installed archive is self-contained: it carries the lib/, mail/ and
# smtp/ objects it needs, so users link -lzmsmtpd -lssl -lcrypto only.
lib_LIBRARIES += smtpserver/libzmsmtpd.a
smtpserver_libzmsmtpd_a_SOURCES = smtpserver/zmsmtpd.h smtpserver/zmsmtpd.c \
	smtpserver/zmsmtpd_int.h smtpserver/zmsmtpd_sess.c smtpserver/zmsmtpd_cmd.c \
	smtpserver/zmsmtpd_data.c smtpserver/zmsmtpd_auth.c smtpserver/zmsmtpd_io.c \
	smtpserver/pol_proxy.h smtpserver/pol_proxy.c \
	smtpserver/pol_limit.h smtpserver/pol_limit.c \
	$(smtp_libzsmtp_a_SOURCES) $(mail_libmail_a_SOURCES) $(lib_libzmta_a_SOURCES)
smtpserver_libzmsmtpd_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_srcdir)/mail \
	-I$(top_srcdir)/smtp -I$(top_srcdir)/smtpserver
smtpserver_libzmsmtpd_a_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
include_HEADERS += smtpserver/zmsmtpd.h
# libzmsmtpd.pc, named like the library and libzmsmtp.pc; zmsmtpd.pc is the
# old name, kept as an alias that requires libzmsmtpd
pkgconfig_DATA += smtpserver/libzmsmtpd.pc smtpserver/zmsmtpd.pc
EXTRA_DIST += smtpserver/libzmsmtpd.pc.in smtpserver/zmsmtpd.pc.in
DISTCLEANFILES += smtpserver/libzmsmtpd.pc smtpserver/zmsmtpd.pc
ZMSMTPD_LIBS = smtpserver/libzmsmtpd.a $(SSL_LIBS)

pkglibexec_PROGRAMS += smtpserver/smtpserver
smtpserver_smtpserver_SOURCES = smtpserver/smtpserver.c smtpserver/commitq.h smtpserver/commitq.c \
	smtpserver/smtpserver_conf.h smtpserver/smtpserver_conf.c \
	smtpserver/smtpd_workers.h smtpserver/smtpd_workers.c
smtpserver_smtpserver_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver -I$(top_srcdir)/router \
	-I$(top_srcdir)/spool -I$(top_srcdir)/mail
smtpserver_smtpserver_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(HIREDIS_CFLAGS) -pthread
smtpserver_smtpserver_LDADD = router/librouter.a spool/libspool.a smtpserver/libzsmtpd_policy.a \
	$(ZMSMTPD_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(CRYPT_LIBS) $(DNS_LIBS) -lpthread

dist_man_MANS += man/smtpserver.8 man/smtpserver.conf.5 man/libzmsmtpd.3

# the example program of libzmsmtpd(3), built and run by make check
check_PROGRAMS += tests/tools/zmsmtpd-example
tests_tools_zmsmtpd_example_SOURCES = tests/tools/zmsmtpd-example.c
tests_tools_zmsmtpd_example_CPPFLAGS = -I$(top_srcdir)/smtpserver
tests_tools_zmsmtpd_example_LDADD = $(ZMSMTPD_LIBS)

SMTPD_ITESTS = tests/integration/smtpd-example.sh tests/integration/smtpd-proto.sh \
	tests/integration/smtpd-daemon.sh tests/integration/smtpd-postfix.sh \
	tests/integration/smtpd-etrn.sh
TESTS += $(SMTPD_ITESTS)
EXTRA_DIST += $(SMTPD_ITESTS)

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zmsmtpd
TESTS += tests/unit/check_zmsmtpd
tests_unit_check_zmsmtpd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver \
	-I$(top_srcdir)/lib -I$(top_srcdir)/smtp
tests_unit_check_zmsmtpd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zmsmtpd_LDADD = $(ZMSMTPD_LIBS) $(CHECK_LIBS)
endif

# fuzz targets: the command/parameter parser and the DATA/BDAT reader
check_PROGRAMS += tests/fuzz/replay_smtpdcmd tests/fuzz/replay_smtpddata
TESTS += tests/fuzz/replay_smtpdcmd tests/fuzz/replay_smtpddata
tests_fuzz_replay_smtpdcmd_SOURCES = tests/fuzz/fuzz_smtpd.c tests/fuzz/replay_main.c
tests_fuzz_replay_smtpdcmd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver \
	-DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/smtpdcmd"'
tests_fuzz_replay_smtpdcmd_LDADD = $(ZMSMTPD_LIBS)
tests_fuzz_replay_smtpddata_SOURCES = tests/fuzz/fuzz_smtpd.c tests/fuzz/replay_main.c
tests_fuzz_replay_smtpddata_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver \
	-DFUZZ_SMTPD_DATA -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/smtpddata"'
tests_fuzz_replay_smtpddata_LDADD = $(ZMSMTPD_LIBS)
if FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_smtpdcmd tests/fuzz/fuzz_smtpddata
tests_fuzz_fuzz_smtpdcmd_SOURCES = tests/fuzz/fuzz_smtpd.c
tests_fuzz_fuzz_smtpdcmd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver
tests_fuzz_fuzz_smtpdcmd_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_smtpdcmd_LDADD = $(ZMSMTPD_LIBS)
tests_fuzz_fuzz_smtpddata_SOURCES = tests/fuzz/fuzz_smtpd.c
tests_fuzz_fuzz_smtpddata_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpserver -DFUZZ_SMTPD_DATA
tests_fuzz_fuzz_smtpddata_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_smtpddata_LDADD = $(ZMSMTPD_LIBS)
endif
