# testlib.sh - shared helpers for zmta integration tests (source it first).
#
# A test script starts with
#     . "${top_srcdir:-.}/tests/integration/testlib.sh"
# and may be run by `make check` (which sets top_srcdir/top_builddir) or by
# hand from the build directory.  What this file gives a test:
#   - re-exec under bash and under `timeout` (ZT_TIMEOUT seconds, default 120)
#   - a private work dir $ZT_W (mktemp, removed unless the test failed or
#     ZT_KEEP=1), and cleanup that stops ONLY the PIDs the test started (track)
#   - pick_port / wait_port / wait_file / with_timeout
#   - scratch_po (a fresh postoffice and its zmta.conf), mk_postoffice, write_zconf
#     (tests/lib/postoffice.sh; always sets DNS_SERVERS: never the system resolver)
#   - start_sink (Postfix smtp-sink), start_aiosmtpd (tests/peers/aiosmtpd-peer.py),
#     start_nsd (a zone file), start_dns_faulty, make_certs, start_dovecot_lmtp
#   - need_cmd (exit 77 = skipped when a peer binary is missing), skip
#   - log helpers: info, fail (counts failures), check_eq/check_match, zt_done
# Rules (HACKING.md): 127.0.0.1 only, ports picked at run time, no timing
# assertions, no dependency on ../shared.

# --- bash + global time bound (POSIX sh up to the exec) ---------------------
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
if [ -z "${ZT_UNDER_TIMEOUT:-}" ] && command -v timeout >/dev/null 2>&1; then
	ZT_UNDER_TIMEOUT=1; export ZT_UNDER_TIMEOUT
	exec timeout -k 5 "${ZT_TIMEOUT:-120}" bash "$0" "$@"
fi

set -u
ZT_NAME=$(basename "$0" .sh)
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
export top_srcdir top_builddir
ZT_PY=${SYS_PYTHON3:-/usr/bin/python3}
[ -x "$ZT_PY" ] || ZT_PY=/usr/bin/python3
ZT_PEERS=$top_srcdir/tests/peers
ZT_SMTP=${ZT_SMTP:-$top_builddir/transport/smtp/smtp}
ZT_MKJOB=${ZT_MKJOB:-$top_builddir/tests/tools/mkjob}
ZT_ZMTA=$top_builddir/zmtactl/zmta
ZT_FAILS=0
ZT_PIDS=()
ZT_PORTS=" "
PATH=$PATH:/usr/sbin:/sbin

ZT_W=$(mktemp -d "/tmp/zt-$ZT_NAME.XXXXXX") || { echo "mktemp failed" >&2; exit 99; }
chmod 755 "$ZT_W"

# --- logging ---------------------------------------------------------------
info() { printf '%s: %s\n' "$ZT_NAME" "$*"; }
fail() { ZT_FAILS=$((ZT_FAILS + 1)); printf '%s: FAIL: %s\n' "$ZT_NAME" "$*"; }
pass() { printf '%s: ok: %s\n' "$ZT_NAME" "$*"; }
# skip REASON - the test cannot run here (exit 77)
skip() { printf '%s: SKIP: %s\n' "$ZT_NAME" "$*"; exit 77; }
# check_eq WHAT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
# check_match WHAT ERE TEXT
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1: '$3' does not match /$2/"; fi
}
# check_log WHAT ERE FILE [SECS] - a line of FILE (a daemon's log) matches
# ERE, waiting for it up to SECS (default 10): daemons may log an event just
# after its visible effect
check_log() {
	wait_grep "$2" "$3" "${4:-10}" || :
	check_match "$1" "$2" "$(cat "$3" 2>/dev/null)"
}
# check_nomatch WHAT ERE TEXT
check_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1: '$3' matches /$2/"; else pass "$1"; fi
}
# show FILE... - print files (for failure diagnosis), prefixed
show() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "----- $f"
		head -c 20000 "$f" | tr '\r\001' '|^'
	done
}
# zt_done - exit with the verdict (1 if any fail was counted)
zt_done() {
	if [ "$ZT_FAILS" -gt 0 ]; then
		info "$ZT_FAILS check(s) failed; work dir kept: $ZT_W"
		exit 1
	fi
	info "all checks passed"
	exit 0
}

# --- sanitizer reports ------------------------------------------------------
# A --enable-sanitizers build reports on stderr, and daemons' stderr ends in
# a log or .err file no check reads (or in /dev/null).  So every process the
# test starts (and their children that keep the environment) writes its
# AddressSanitizer reports to $ZT_W/san/asan.<pid> instead (log_path; UBSan
# in the same binary keeps to stderr), and at exit zt_cleanup scans
# $ZT_W, that included, plus ZT_SCAN (paths outside $ZT_W, scratch_po adds
# a postoffice given there): any report fails the test.
ZT_SAN_RE='ERROR: (Address|Leak)Sanitizer|runtime error:'
ZT_SCAN=()
mkdir -p "$ZT_W/san" && chmod 1777 "$ZT_W/san"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$ZT_W/san/asan"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$ZT_W/san/ubsan:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS
# zt_sancheck PATH... - 0 if no file below the PATHs (executables aside)
# holds a sanitizer report; else names each file that does, prints its
# report's first 40 lines and returns 1.  The one check every test uses
# (zt_cleanup runs it over the whole work dir).
zt_sancheck() {
	local f n found=0 p=()
	for f in "$@"; do [ -n "$f" ] && [ -e "$f" ] && p+=("$f"); done
	[ "${#p[@]}" -gt 0 ] || return 0
	while IFS= read -r -d '' f; do
		n=$(grep -anE -m1 -- "$ZT_SAN_RE" "$f" | cut -d: -f1)
		[ -n "$n" ] || continue
		found=1
		printf '%s: FAIL: sanitizer report in %s\n' "$ZT_NAME" "$f"
		tail -n "+$n" "$f" | head -40
	done < <(find "${p[@]}" -type f ! -perm /111 -exec grep -laEZ -- "$ZT_SAN_RE" {} + 2>/dev/null)
	return "$found"
}

# --- process tracking and cleanup -----------------------------------------
# track PID - remember a process we started
track() { ZT_PIDS+=("$1"); }
# stop_pid PID - TERM, wait up to 5 s, KILL; only for PIDs we started.
# (A sanitizer build writes its leak report at exit: a KILL too early on a
# loaded machine would lose it.  Processes that go at TERM cost no wait.)
stop_pid() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}
stop_all() {
	local p
	for p in "${ZT_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	for p in "${ZT_PIDS[@]:-}"; do [ -n "$p" ] && stop_pid "$p"; done
	ZT_PIDS=()
}
zt_cleanup() {
	local rc=$?
	trap - EXIT
	stop_all
	# a daemon's sanitizer report fails the test even when every check
	# passed (or the test skipped itself)
	if ! zt_sancheck "$ZT_W" "${ZT_SCAN[@]}"; then
		info "a sanitizer report fails the test (whatever the checks said)"
		ZT_FAILS=$((ZT_FAILS + 1))
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then rc=1; fi
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ "${ZT_KEEP:-0}" = 1 ] || [ "$ZT_FAILS" -gt 0 ]; then
		[ "$rc" -eq 124 ] && info "time bound hit"
		info "keeping $ZT_W"
	else
		rm -rf "$ZT_W"
	fi
	exit "$rc"
}
trap zt_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# with_timeout SECS CMD... - run CMD bounded (exit 124 on timeout)
with_timeout() { local t=$1; shift; timeout -k 3 "$t" "$@"; }

# need_cmd CMD... - skip the test unless every command exists
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "missing $c"
	done
}
# need_py_module MOD... - skip unless the system python has the modules
need_py_module() {
	local m
	for m in "$@"; do
		"$ZT_PY" -c "import $m" 2>/dev/null || skip "python module $m missing ($ZT_PY)"
	done
}
# need_built PATH... - skip (77) if a built program is not there yet
need_built() {
	local f
	for f in "$@"; do [ -x "$f" ] || skip "not built: $f"; done
}

# --- ports ------------------------------------------------------------------
# pick_port - a free TCP+UDP port on 127.0.0.1, never the same twice per test
pick_port() {
	local p i
	for i in $(seq 1 300); do
		p=$((20000 + (RANDOM * 7 + $$ + i) % 12000))
		case "$ZT_PORTS" in *" $p "*) continue ;; esac
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] &&
		   [ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ]; then
			ZT_PORTS="$ZT_PORTS$p "
			echo "$p"
			return 0
		fi
	done
	echo "pick_port: no free port" >&2
	return 1
}
# dead_tcp_port - a TCP port that refuses connections for the whole test:
# a socket is bound to it (so no other test can take it) but never listens.
# Sets DEAD_TCP_PORT (use it directly: $(...) would lose the holder process).
dead_tcp_port() {
	local f=$ZT_W/deadport.$RANDOM i
	"$ZT_PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(86400)' > "$f" 2>/dev/null &
	track $!
	for i in $(seq 1 100); do
		[ -s "$f" ] && break
		sleep 0.02
	done
	DEAD_TCP_PORT=$(cat "$f")
	[ -n "$DEAD_TCP_PORT" ]
}
# wait_port PORT [SECS] - until something listens on 127.0.0.1:PORT (tcp)
wait_port() {
	local p=$1 t=${2:-10} i
	for i in $(seq 1 $((t * 20))); do
		[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	echo "wait_port: nothing listening on $p after ${t}s" >&2
	return 1
}
# wait_udp PORT [SECS]
wait_udp() {
	local p=$1 t=${2:-10} i
	for i in $(seq 1 $((t * 20))); do
		[ -n "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_file FILE [SECS] - until FILE exists (socket, file)
wait_file() {
	local f=$1 t=${2:-10} i
	for i in $(seq 1 $((t * 20))); do
		[ -e "$f" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_lines FILE N [SECS] - until FILE has at least N lines
wait_lines() {
	local f=$1 n=$2 t=${3:-10} i
	for i in $(seq 1 $((t * 20))); do
		[ -f "$f" ] && [ "$(wc -l < "$f")" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_grep ERE FILE [SECS] - until a line of FILE matches ERE (a daemon may
# log an event just after its visible effect: wait for the line, not once)
wait_grep() {
	local i
	for i in $(seq 1 $((${3:-10} * 20))); do
		grep -Eq -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# --- spool and configuration ----------------------------------------------
# scratch_po, mk_postoffice, write_zconf, dead_port: tests/lib/postoffice.sh
# (shared with bench/benchlib.sh)
. "$top_srcdir/tests/lib/postoffice.sh"

# --- the scheduler's sockets (socat) ---------------------------------------
# mailq_cmd ADDRESS LINE... - the LINEs and QUIT to a mailq socket (socat
# address, e.g. UNIX-CONNECT:$PO/.mailq.sock or TCP:127.0.0.1:PORT); prints
# the answer (bounded: 5 s)
mailq_cmd() {
	local a=$1
	shift
	{ printf '%s\n' "$@"; printf 'QUIT\n'; } | timeout 5 socat - "$a" 2>&1
}
# sched_notify RELPATH - a "NEW RELPATH" datagram to $PO/.scheduler.notify
sched_notify() { printf 'NEW %s\n' "$1" | socat -u - "UNIX-SENDTO:$PO/.scheduler.notify" 2>/dev/null; }

# --- peers ------------------------------------------------------------------
ZT_SINK_USER=()
[ "$(id -u)" = 0 ] && ZT_SINK_USER=(-u nobody)

# start_sink [smtp-sink options...] - smtp-sink on a fresh port with -c
# counters and a dump dir.  Sets SINK_PORT SINK_PID SINK_OUT SINK_DUMP.
start_sink() {
	need_cmd smtp-sink
	SINK_PORT=$(pick_port) || return 1
	SINK_OUT=$ZT_W/sink.$SINK_PORT.out
	SINK_DUMP=$ZT_W/sink.$SINK_PORT.dump
	mkdir -p "$SINK_DUMP"
	chmod 777 "$SINK_DUMP"
	smtp-sink "${ZT_SINK_USER[@]}" -c -d "$SINK_DUMP/%H%M%S." "$@" "127.0.0.1:$SINK_PORT" 256 \
		> "$SINK_OUT" 2>&1 &
	SINK_PID=$!
	track "$SINK_PID"
	wait_port "$SINK_PORT" || { show "$SINK_OUT"; return 1; }
}
# start_sink_nodump [options...] - the same without the dump dir (fast, bench)
start_sink_nodump() {
	need_cmd smtp-sink
	SINK_PORT=$(pick_port) || return 1
	SINK_OUT=$ZT_W/sink.$SINK_PORT.out
	SINK_DUMP=
	smtp-sink "${ZT_SINK_USER[@]}" -c "$@" "127.0.0.1:$SINK_PORT" 256 > "$SINK_OUT" 2>&1 &
	SINK_PID=$!
	track "$SINK_PID"
	wait_port "$SINK_PORT" || { show "$SINK_OUT"; return 1; }
}
# sink_counter NAME [OUTFILE] - last value of a smtp-sink -c counter
# (sess, quit, mesg)
sink_counter() {
	local v
	v=$(tr '\r' '\n' < "${2:-$SINK_OUT}" | grep -o "$1=[0-9]*" | tail -1 | cut -d= -f2)
	echo "${v:-0}"
}
# sink_msgs [DUMPDIR] - messages in the dump dir
sink_msgs() { find "${1:-$SINK_DUMP}" -type f | wc -l; }
# sink_rcpts [DUMPDIR] - recipients over all dumped messages
sink_rcpts() { cat "${1:-$SINK_DUMP}"/* 2>/dev/null | grep -ac '^X-Rcpt-Args:'; }
# wait_sink_msgs N [SECS] - until N messages were dumped
wait_sink_msgs() {
	local n=$1 t=${2:-10} i
	for i in $(seq 1 $((t * 10))); do
		[ "$(sink_msgs)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_aiosmtpd [aiosmtpd-peer.py options...] - our scriptable peer on a
# fresh port.  Sets AIO_PORT AIO_PID AIO_LOG (JSONL) AIO_ERR AIO_SAVE.
start_aiosmtpd() {
	need_py_module aiosmtpd
	AIO_PORT=$(pick_port) || return 1
	AIO_LOG=$ZT_W/aio.$AIO_PORT.jsonl
	AIO_ERR=$ZT_W/aio.$AIO_PORT.err
	AIO_SAVE=$ZT_W/aio.$AIO_PORT.save
	: > "$AIO_LOG"
	"$ZT_PY" "$ZT_PEERS/aiosmtpd-peer.py" --port "$AIO_PORT" --log "$AIO_LOG" \
		--save "$AIO_SAVE" "$@" 2> "$AIO_ERR" &
	AIO_PID=$!
	track "$AIO_PID"
	wait_port "$AIO_PORT" 15 || { show "$AIO_ERR"; return 1; }
}
# jq_count FILE FILTER - number of JSONL records that match a jq select();
# a jq error prints JQERR (so no check can pass by accident)
jq_count() {
	local out
	out=$(jq -c "select($2)" "$1") || { echo JQERR; return 1; }
	[ -z "$out" ] && { echo 0; return 0; }
	printf '%s\n' "$out" | wc -l
}
# jq_get FILE EXPR - jq -r over every record (JQERR on a jq error)
jq_get() { jq -r "$2" "$1" || echo JQERR; }

# start_nsd ZONEFILE [ORIGIN] - NSD serving the zone on a fresh port (udp+tcp).
# Sets DNS_PORT NSD_PID.  ORIGIN defaults to mta.test.
start_nsd() {
	local zf=$1 origin=${2:-mta.test} d i
	need_cmd nsd
	d=$ZT_W/nsd
	mkdir -p "$d"
	cp "$zf" "$d/zone"
	DNS_PORT=$(pick_port) || return 1
	cat > "$d/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$DNS_PORT
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  pidfile: "$d/nsd.pid"
  logfile: "$d/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: "$origin"
  zonefile: "zone"
EOF
	nsd-checkzone "$origin" "$d/zone" >/dev/null || { fail "bad zone $zf"; return 1; }
	nsd -d -c "$d/nsd.conf" > "$d/nsd.out" 2>&1 &
	NSD_PID=$!
	track "$NSD_PID"
	for i in $(seq 1 100); do
		if command -v dig >/dev/null 2>&1; then
			dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 "ns.$origin" A 2>/dev/null | grep -q . && return 0
		else
			wait_udp "$DNS_PORT" 1 && return 0
		fi
		sleep 0.05
	done
	show "$d/nsd.log" "$d/nsd.out"
	return 1
}
# start_dns_faulty [ZONEFILE] - tests/peers/dns-faulty.py (SERVFAIL, REFUSED, timeouts).
# Sets DNS_PORT DNSF_PID.
start_dns_faulty() {
	local zf=${1:-$ZT_PEERS/mta.test.zone} py=$ZT_PEERS/dns-faulty.py
	need_py_module dnslib
	DNS_PORT=$(pick_port) || return 1
	[ -f "$py" ] || skip "tests/peers/dns-faulty.py not there"
	"$ZT_PY" "$py" --port "$DNS_PORT" --zone "$zf" \
		> "$ZT_W/dnsf.out" 2>&1 &
	DNSF_PID=$!
	track "$DNSF_PID"
	wait_port "$DNS_PORT" 10 || { show "$ZT_W/dnsf.out"; return 1; }
}
# start_dnsmasq_hosts N - dnsmasq answering h1.test .. hN.test with 127.0.0.1
# (nothing else under .test).  Sets DNSP; fails the test when it does not start.
start_dnsmasq_hosts() {
	local n=$1 i hr=()
	need_cmd dnsmasq
	DNSP=$(pick_port) || return 1
	for i in $(seq 1 "$n"); do hr+=("--host-record=h$i.test,127.0.0.1"); done
	dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
		--listen-address=127.0.0.1 --port="$DNSP" --pid-file= --log-facility="$ZT_W/dnsmasq.log" \
		--local=/test/ "${hr[@]}" > "$ZT_W/dnsmasq.out" 2>&1 &
	track $!
	wait_udp "$DNSP" || { show "$ZT_W/dnsmasq.out"; fail "dnsmasq did not start"; zt_done; }
}
# make_certs DIR - test CA + server/wrongname/selfsigned/expired certificates
make_certs() {
	need_cmd openssl
	bash "$ZT_PEERS/make-certs.sh" "$1" > "$ZT_W/make-certs.out" 2>&1 ||
		{ show "$ZT_W/make-certs.out"; return 1; }
}
# start_dovecot_lmtp - Dovecot LMTP on a fresh port (users alice, bob,
# broken [fails at DATA]; others 550 at RCPT).  Sets LMTP_PORT DOV_PID
# DOV_MAIL (maildirs) DOV_DIR.  With DOV_UNIX=1 also a UNIX socket $DOV_SOCK.
# have_dovecot_lmtp - 0 if start_dovecot_lmtp can work here
have_dovecot_lmtp() {
	command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/lmtp ] &&
		id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 && [ "$(id -u)" = 0 ]
}
start_dovecot_lmtp() {
	local d
	have_dovecot_lmtp || skip "dovecot lmtp needs dovecot-core, dovecot-lmtpd and root"
	d=$ZT_W/dovecot
	DOV_DIR=$d
	mkdir -p "$d/run" "$d/state" "$d/mail" "$d/ro"
	chmod 755 "$d"
	chown dovecot:dovecot "$d/mail"
	chmod 555 "$d/ro"
	LMTP_PORT=$(pick_port) || return 1
	DOV_MAIL=$d/mail
	DOV_SOCK=$d/run/lmtp-test
	cat > "$d/users" <<EOF
alice:::::$d/mail/alice::
bob:::::$d/mail/bob::
broken:::::$d/ro/broken::
EOF
	cat > "$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:~/Maildir
lmtp_save_to_detail_mailbox = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = passwd-file
  args = username_format=%n $d/users
  default_fields = uid=dovecot gid=dovecot
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
  unix_listener lmtp-test {
    mode = 0666
  }
}
EOF
	dovecot -F -c "$d/dovecot.conf" > "$d/dovecot.out" 2>&1 &
	DOV_PID=$!
	track "$DOV_PID"
	wait_port "$LMTP_PORT" 15 || { show "$d/dovecot.log" "$d/dovecot.out"; return 1; }
}
# maildir_count USER - delivered messages for a dovecot user
maildir_count() { find "$DOV_MAIL/$1/Maildir" -type f -path '*/new/*' 2>/dev/null | wc -l; }

# --- the agent and the spool ----------------------------------------------
# mkjob ARGS... - tests/tools/mkjob (prints relpath per message)
mkjob() { "$ZT_MKJOB" "$@"; }

# run_ta OUTBASE JOBTEXT AGENT-ARGS... - run the smtp agent in $PO/transport
# with JOBTEXT (printf format is NOT applied; use $'..' for tabs) on stdin.
# Stdout -> OUTBASE.out, stderr -> OUTBASE.err, exit code -> TA_RC.
# Bounded by ZT_TA_TIMEOUT (default 50 s).
run_ta() {
	local base=$1 jobs=$2
	shift 2
	( cd "$PO/transport" && printf '%s' "$jobs" |
		timeout -k 3 "${ZT_TA_TIMEOUT:-50}" "$ZT_SMTP" "$@" ) > "$base.out" 2> "$base.err"
	TA_RC=$?
	# a sanitizer build (--enable-sanitizers) reports on stderr: that is a failure
	zt_sancheck "$base.err" || fail "sanitizer report from the agent in $base.err"
	return 0
}
# report_word OUTFILE INUM/OFF - the status word of the last report line for it
report_word() {
	awk -F'\t' -v id="$2" '$1 == id { split($3, a, " "); w = a[1] } END { print w }' "$1"
}
# report_line OUTFILE INUM/OFF - the whole last report line
report_line() { awk -F'\t' -v id="$2" '$1 == id { l = $0 } END { print l }' "$1"; }
# report_count OUTFILE - report lines (not #hungry, #resync, # comments)
report_count() { grep -c $'^[0-9][0-9]*/[0-9][0-9]*\t' "$1"; }
# words OUTFILE - sorted status words of all report lines, space separated
words() { awk -F'\t' '/^[0-9]+\/[0-9]+\t/ { split($3, a, " "); print a[1] }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }
# ctl_rcpt_offsets CTLFILE - byte offsets of the r lines
ctl_rcpt_offsets() { grep -boa '^r' "$1" | cut -d: -f1; }
# ctl_tag CTLFILE OFFSET - the tag byte of the record at OFFSET
ctl_tag() { dd if="$1" bs=1 skip=$(($2 + 1)) count=1 2>/dev/null; }
# ctl_tags CTLFILE - tag bytes of all r lines, e.g. "++-" (space shown as _)
ctl_tags() {
	local o s=""
	for o in $(ctl_rcpt_offsets "$1"); do s="$s$(ctl_tag "$1" "$o")"; done
	printf '%s' "$s" | tr ' ' '_'
}
# ctl_dlines CTLFILE - the d lines
ctl_dlines() { grep -a '^d' "$1"; }
# job_id RELPATH CTL-OFFSET - "inum/offset"
job_id() { echo "$(basename "$1")/$2"; }

# need_agent - skip unless the smtp agent and mkjob are built
need_agent() { need_built "$ZT_SMTP" "$ZT_MKJOB"; }
# ctlpath RELPATH - the control file of a job
ctlpath() { echo "$PO/transport/$1"; }
# rcpt_id RELPATH N - "inum/offset" of the N-th (1-based) r line of a job
rcpt_id() { echo "$(basename "$1")/$(ctl_rcpt_offsets "$PO/transport/$1" | sed -n "${2}p")"; }
# aio_conns - connections the aiosmtpd peer accepted
aio_conns() { jq_count "$AIO_LOG" '.ev == "conn"'; }
# aio_msgs - transactions it logged
aio_msgs() { jq_count "$AIO_LOG" '.ev == "msg"'; }
# wait_spool_empty PO [TENTHS] - wait (default 10 s) until PO's transport/
# and queue/ hold no file: the scheduler removes a finished message's
# control file first and its body afterwards, in a worker thread
wait_spool_empty() {
	_w=0
	while [ "$_w" -lt "${2:-100}" ]; do
		[ "$(find "$1/transport" "$1/queue" -type f 2>/dev/null | wc -l)" = 0 ] && return 0
		sleep 0.1; _w=$((_w + 1))
	done
	return 1
}
