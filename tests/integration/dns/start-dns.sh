#!/bin/sh
# start-dns.sh [nsd|faulty] DIR - start a test DNS server on 127.0.0.1 in the
# background and print "PORT PID" on stdout.  Stop it with: kill PID.
# Exit 77 when the server software is missing.
DNS_HERE=$(cd "$(dirname "$0")" && pwd)
. "$DNS_HERE/dnslib.sh"
kind=${1:-nsd}
dir=${2:?usage: start-dns.sh [nsd|faulty] DIR}
case $kind in
nsd)	dns_start_nsd "$dir" || exit $?; echo "$DNS_PORT $DNS_PID" ;;
faulty)	dns_start_faulty "$dir" || exit $?; echo "$FAULTY_PORT $FAULTY_PID" ;;
*)	echo "start-dns.sh: unknown server $kind" >&2; exit 2 ;;
esac
