# tests/integration/smtp.mk - integration tests of the smtp transport agent
# against real peers (smtp-sink, aiosmtpd, nsd, dovecot), the mkjob tool that
# makes queued jobs like the router, and the smtp pipelining benchmark.

# mkjob: writes queue/ + transport/ files through libspool (tests, benchmarks)
check_PROGRAMS += tests/tools/mkjob
tests_tools_mkjob_SOURCES = tests/tools/mkjob.c
tests_tools_mkjob_LDADD = spool/libspool.a lib/libzmta.a
bench_targets += tests/tools/mkjob

SMTP_ITESTS = \
	tests/integration/smtp-basic.sh \
	tests/integration/smtp-results.sh \
	tests/integration/smtp-lmtp.sh \
	tests/integration/smtp-mx.sh \
	tests/integration/smtp-mime.sh \
	tests/integration/smtp-dsn.sh \
	tests/integration/smtp-tls.sh \
	tests/integration/smtp-auth.sh \
	tests/integration/smtp-proto.sh \
	tests/integration/smtp-hostile.sh \
	tests/integration/smtp-options.sh
TESTS += $(SMTP_ITESTS)

EXTRA_DIST += $(SMTP_ITESTS) \
	bench/smtp-pipeline.sh


# issue 8: job hosts, option injection, loops to ourselves, caps, keepalive
TESTS += tests/integration/smtp-hosts.sh
EXTRA_DIST += tests/integration/smtp-hosts.sh
