# dnslib.sh - shell functions for tests that need a DNS server on loopback.
# Source it, then:
#   dns_start_nsd DIR      nsd serving mta.test (this directory's zone) on a
#                          free 127.0.0.1 port; sets DNS_PORT, DNS_PID and
#                          DNS_SERVERS=127.0.0.1:PORT.  Returns 77 without nsd.
#   dns_start_faulty DIR   dns-faulty.py (python3-dnslib); sets FAULTY_PORT,
#                          FAULTY_PID.  Returns 77 without python3-dnslib.
#   dns_stop PID           stop one server this test started.
# DIR is a scratch directory the caller owns (config, logs, pid file).
DNS_HERE=${DNS_HERE:-$(cd "$(dirname "${BASH_SOURCE:-$0}")" 2>/dev/null && pwd)}

dns_pick_port() {
	# a pseudo-random high port; the caller retries when the server cannot bind
	echo $(( 20000 + ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 40000 ))
}

dns_start_nsd() {
	_d=$1; _try=0
	command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || return 77
	_nsd=$(command -v nsd 2>/dev/null || echo /usr/sbin/nsd)
	mkdir -p "$_d" || return 1
	cp "$DNS_HERE/mta.test.zone" "$_d/mta.test.zone" || return 1
	while [ $_try -lt 10 ]; do
		_try=$((_try + 1))
		DNS_PORT=$(dns_pick_port)
		cat > "$_d/nsd.conf" <<CF
server:
  ip-address: 127.0.0.1@$DNS_PORT
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$_d"
  database: ""
  zonelistfile: "$_d/zone.list"
  xfrdfile: "$_d/xfrd.state"
  xfrdir: "$_d"
  pidfile: "$_d/nsd.pid"
  logfile: "$_d/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: "mta.test"
  zonefile: "mta.test.zone"
CF
		: > "$_d/nsd.log"
		"$_nsd" -d -c "$_d/nsd.conf" >/dev/null 2>&1 &
		DNS_PID=$!
		_i=0
		while [ $_i -lt 100 ]; do
			kill -0 "$DNS_PID" 2>/dev/null || break
			if grep -q "nsd started" "$_d/nsd.log" 2>/dev/null; then
				DNS_SERVERS=127.0.0.1:$DNS_PORT
				export DNS_PORT DNS_PID DNS_SERVERS
				return 0
			fi
			sleep 0.05; _i=$((_i + 1))
		done
		kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null
	done
	return 1
}

dns_start_faulty() {
	_d=$1
	_py=${SYS_PYTHON3:-/usr/bin/python3}
	"$_py" -c 'import dnslib' 2>/dev/null || return 77
	mkdir -p "$_d" || return 1
	"$_py" "$DNS_HERE/dns-faulty.py" --port 0 --delay 2 > "$_d/faulty.out" 2>&1 &
	FAULTY_PID=$!
	_i=0
	while [ $_i -lt 100 ]; do
		FAULTY_PORT=$(sed -n 's/^dns-faulty: pid [0-9]* port \([0-9]*\)$/\1/p' "$_d/faulty.out")
		if [ -n "$FAULTY_PORT" ]; then export FAULTY_PORT FAULTY_PID; return 0; fi
		kill -0 "$FAULTY_PID" 2>/dev/null || return 1
		sleep 0.05; _i=$((_i + 1))
	done
	kill "$FAULTY_PID" 2>/dev/null
	return 1
}

dns_stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
