#!/bin/sh
# scripts/deps.sh [build|run|test|all] - install what zmta needs on Debian 12 (as root).
# Installs only packages that are missing; no daemon is started (a policy-rc.d
# that refuses service starts is put in place only if none exists).  Postfix is
# installed for its smtp-sink/smtp-source test peers and preseeded to
# "No configuration" so it never touches /etc/postfix/main.cf or port 25.
set -eu
what=${1:-all}
BUILD="autoconf automake libtool pkg-config make gcc check libc-ares-dev libssl-dev liblmdb-dev libhiredis-dev libcrypt-dev"
TEST="redis-server postgrey jq socat faketime strace bind9-dnsutils postfix python3-aiosmtpd python3-dnslib nsd dnsmasq-base dovecot-core dovecot-lmtpd swaks libnet-ssleay-perl libio-socket-ssl-perl openssl iproute2 procps util-linux netcat-openbsd clang libfuzzer-14-dev libclang-rt-14-dev"
# run: what scripts/quickstart needs besides the build (smtp-sink, ss, setpriv,
# swaks and its TLS modules for the SMTP part of the demo, openssl for its
# self-signed certificate)
RUN="postfix iproute2 procps util-linux passwd swaks libnet-ssleay-perl libio-socket-ssl-perl openssl"
case $what in
build) pkgs=$BUILD ;;
run) pkgs="$BUILD $RUN" ;;
test|all) pkgs="$BUILD $TEST" ;;
*) echo "usage: $0 [build|run|test|all]" >&2; exit 64 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "zmta: missing Debian packages:$missing" >&2
	echo "zmta: run as root, or: sudo apt-get install$missing" >&2
	exit 69
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "zmta: no apt-get here; install the equivalents of:$missing" >&2
	exit 69
fi
echo "zmta: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
created_prc=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_prc=1
fi
trap '[ $created_prc = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "zmta: installed:$missing"
