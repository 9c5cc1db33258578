# tests/integration/local.mk - shared helpers for integration tests.
# Each area declares its own scripts in its own local.mk:
#   TESTS += tests/integration/smtp-basic.sh
#   EXTRA_DIST += tests/integration/smtp-basic.sh
EXTRA_DIST += tests/integration/testlib.sh tests/lib/postoffice.sh
# the one set of peers every test and bench shares: the DNS zone, the DNS
# fault server, the scriptable SMTP server and client, the test certificates
EXTRA_DIST += tests/peers/mta.test.zone tests/peers/dns-faulty.py \
	tests/peers/aiosmtpd-peer.py tests/peers/smtp-client.py tests/peers/make-certs.sh \
	tests/peers/policy-peer.py
# the layer rule of HACKING.md, checked file by file
TESTS += tests/integration/layers.sh
EXTRA_DIST += tests/integration/layers.sh
# packaging: make install DESTDIR, pkg-config names, the man-page examples
# built against the installed tree
TESTS += tests/integration/pkg-install.sh
EXTRA_DIST += tests/integration/pkg-install.sh
