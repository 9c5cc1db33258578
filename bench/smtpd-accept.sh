#!/bin/bash
# smtpd-accept.sh - how fast mail is ACCEPTED over SMTP: `smtp-source -s
# SESS -m N -l SIZE` into zmta's smtpserver against the same into a private
# Postfix smtpd, interleaved, RUNS runs each, in the same run; then the
# memory of IDLE concurrent idle sessions on each.
#
# What is measured (acceptance only, nothing is delivered):
#   zmta     smtpserver alone (-F, the router and the scheduler are NOT
#            started): every 250 to the final dot follows the write, fsync,
#            rename into router/ and fsync of router/; the messages stay in
#            router/.  smtpserver runs with -w WORKERS (worker processes,
#            each its own event loop on the same listener, under a small
#            parent).  CPU = utime+stime of the parent and its workers.
#   Postfix  a private instance (bench/postfix/lib-postfix.sh) with
#            smtpd_client_restrictions = check_client_access HOLD for
#            127.0.0.1: cleanup writes and fsyncs each message straight onto
#            the hold queue, so no delivery runs.  CPU = every Postfix
#            process of the instance (master, smtpd, cleanup,
#            trivial-rewrite, qmgr, ...; bench/postfix/reaper.py snapshots).
#   Both queues live under the same work directory (/tmp, one filesystem).
#   Runs: every run (of either side) gets a new postoffice or Postfix
#   queue, and none is deleted before the end.  On ext4 without a journal
#   the inode allocator skips every inode freed in the last 1-6 minutes,
#   looking each one up, on every file creation: a run right after the
#   previous run's 10,000 files were deleted paid up to twice the CPU per
#   message, so the figures depended on the order of runs.
#   Rate = N / wall time of smtp-source (it ends after the last 250); the
#   queue is counted afterwards and must hold N messages.
# Idle sessions: a Python client opens IDLE connections, reads the
# greeting, sends EHLO and reads the reply on each, then holds them.
#   zmta     sum of VmRSS of the smtpserver processes (the parent and its
#            workers) after minus before, divided by IDLE.
#   Postfix  smtpd forks one process per session: the sum of VmRSS of every
#            smtpd process of the instance after minus before (before = the
#            smtpd processes alive while idle, usually none), divided by IDLE.
#            RSS counts each process's shared pages (libraries) again, so
#            the proportional figure (sum of Pss from smaps_rollup) is
#            printed beside it for both.
# Output: a line per run, the absolute figures (medians), and
#   ratio smtpd-accept R       R = zmta/Postfix messages per second, the
#                              median of the RUNS per-run ratios (target >= 2)
# Env: N (2000 messages a run, about a minute in all; the issue's figure is
#      N=10000) RUNS (3) SIZE (1000 bytes) SESS (10
#      sessions) IDLE (1000; 0 skips) TIMEOUT (per smtp-source, s;
#      default 120 + N/20) WORKERS (smtpserver -w; default the number of
#      CPUs, 2 on the 2-core machine of the issue; 1 = one process, as
#      before workers existed) BENCH_KEEP=1 keeps the work directory.
# Postfix needs root (its master starts as root); without root or Postfix
# only zmta's figures are printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-2000}; RUNS=${RUNS:-3}; WORKERS=${WORKERS:-$(nproc)}; SIZE=${SIZE:-1000}; SESS=${SESS:-10}; IDLE=${IDLE:-1000}
TIMEOUT=${TIMEOUT:-$((120 + N / 20))}
SMTPD=$top_builddir/smtpserver/smtpserver
ZMTA=$top_builddir/zmtactl/zmta
PY=/usr/bin/python3
need smtp-source "$SMTPD" "$ZMTA" "$PY"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
[ "$(ulimit -n)" -ge $((IDLE + 100)) ] || { echo "  note: ulimit -n $(ulimit -n): IDLE=$IDLE lowered"; IDLE=$(( $(ulimit -n) - 100 )); }

have_pfx=1 why=""
[ "$(id -u)" = 0 ] || { have_pfx=0; why="needs root (the Postfix master starts as root)"; }
for c in postfix postconf /usr/lib/postfix/sbin/master; do
	command -v "$c" > /dev/null 2>&1 || [ -x "$c" ] || { have_pfx=0; why="missing $c"; }
done
getent passwd postfix > /dev/null || { have_pfx=0; why="no postfix user"; }
if [ "$have_pfx" = 1 ]; then
	. "$top_srcdir/bench/postfix/lib-postfix.sh"
	PFX_EXTRA=("smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=HOLD }"
		"default_process_limit = $((IDLE + 100))")
fi

ME=$(id -un)
DEAD=$(pick_port)
# one configuration per zmta run, each with a fresh postoffice of its own
# (zmta_start); nothing is deleted before the end (see Runs below)
cat > "$BL_W/zmta.conf" <<EOF
POSTOFFICE=$BL_W/po
ROUTERCONF=$BL_W/router.conf
ZMTA_USER=$ME
DNS_SERVERS=127.0.0.1:$DEAD
EOF
export ZCONFIG=$BL_W/zmta.conf
printf 'myhostname bench.test\nlocaldomains bench.test\nroute dst.test smtp![127.0.0.1]\n' > "$BL_W/router.conf"
# relaying from 127.0.0.0/8 (the default trusted networks), no per-IP cap
printf 'hostname bench.test\nmax-per-ip 0\nmax-connections %d\n' $((IDLE + 100)) > "$BL_W/smtpserver.conf"

# zmta_start RUN - a fresh postoffice po.RUN and smtpserver -F: ZPO ZPORT ZPID
zmta_start() {
	ZPO=$BL_W/po.$1
	sed "s|^POSTOFFICE=.*|POSTOFFICE=$ZPO|" "$BL_W/zmta.conf" > "$BL_W/zmta.$1.conf"
	export ZCONFIG=$BL_W/zmta.$1.conf
	"$ZMTA" postoffice-init -P "$ZPO" -u "$ME" > /dev/null || return 1
	ZPORT=$(pick_port) || return 1
	"$SMTPD" -F -w "$WORKERS" -C "$BL_W/smtpserver.conf" -l "127.0.0.1:$ZPORT" -L "$BL_W/smtpd.log" 2>> "$BL_W/smtpd.err" &
	ZPID=$!; track "$ZPID"
	wait_port "$ZPORT" 15
}
zmta_stop() { kill -TERM "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null; ZPID=""; }
# zmta_ticks - CPU ticks of smtpserver: the parent and its live workers
zmta_ticks() {
	local p t=0
	# shellcheck disable=SC2046
	for p in $ZPID $(pgrep -P "$ZPID"); do t=$((t + $(cpu_ticks "$p"))); done
	echo "$t"
}
zmta_count() { find "$ZPO/router" -type f -name '[0-9]*' | wc -l; }

# pfx_snap - CPU seconds of the Postfix instance so far (reaper.py SIGUSR1)
pfx_snap() {
	rm -f "$PD/postfix.ru.snap"
	kill -USR1 "$PFX_REAPER" 2>/dev/null || { echo nan; return; }
	for _ in $(seq 1 100); do [ -s "$PD/postfix.ru.snap" ] && break; sleep 0.02; done
	cat "$PD/postfix.ru.snap" 2>/dev/null || echo nan
}
# pfx_up RUN - a fresh private Postfix: PD PPORT PFX_REAPER PFX_MASTER
pfx_up() {
	PD=$BL_W/pfx$1
	mkdir -p "$PD"
	PPORT=$(pick_port) || return 1
	pfx_build "$PD" "$PPORT" "[127.0.0.1]:$DEAD" "${PFX_EXTRA[@]}" || return 1
	pfx_start "$PD"
}
pfx_count() { find "$PD/queue/hold" "$PD/queue/incoming" "$PD/queue/active" -type f 2>/dev/null | wc -l; }

# source PORT - smtp-source; prints the wall seconds
source_run() {
	local t0 t1
	t0=$(now)
	timeout "$TIMEOUT" smtp-source -s "$SESS" -m "$N" -l "$SIZE" -M client.test \
		-f s@src.test -t r@dst.test "127.0.0.1:$1" > "$BL_W/source.out" 2>&1 ||
		echo "  WARN smtp-source exit $? ($(head -c 200 "$BL_W/source.out"))" >&2
	t1=$(now)
	calc "$t1 - $t0"
}

echo "# smtpd-accept: N=$N msgs x ${SIZE}B, 1 rcpt, smtp-source -s $SESS, RUNS=$RUNS interleaved, IDLE=$IDLE, WORKERS=$WORKERS ($(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg))"
[ "$have_pfx" = 1 ] && echo "# postfix $(postconf -d -h mail_version 2>/dev/null): queue $BL_W/pfx*/queue; zmta postoffice $BL_W/po.RUN (same filesystem)" ||
	echo "# Postfix side skipped: $why"
zr=(); zc=(); pr=(); pc=(); ratios=()
for r in $(seq 1 "$RUNS"); do
	zmta_start "$r" || { echo "smtpserver did not start"; cat "$BL_W/smtpd.err"; exit 1; }
	c0=$(zmta_ticks)
	w=$(source_run "$ZPORT")
	c1=$(zmta_ticks)
	got=$(zmta_count)
	zmta_stop
	[ "$got" -eq "$N" ] || echo "  WARN run $r: zmta router/ holds $got of $N"
	zrate=$(calc "$got / $w")
	zcpu=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / $N")
	zr+=("$zrate"); zc+=("$zcpu")
	line=$(printf 'run %d: zmta %6.0f msg/s %5.0f us cpu/msg' "$r" "$zrate" "$zcpu")
	if [ "$have_pfx" = 1 ]; then
		pfx_up "$r" || { echo "postfix did not start"; exit 1; }
		c0=$(pfx_snap)
		w=$(source_run "$PPORT")
		got=0
		for _ in $(seq 1 100); do got=$(pfx_count); [ "$got" -ge "$N" ] && break; sleep 0.1; done
		c1=$(pfx_snap)
		pfx_stop
		[ "$got" -eq "$N" ] || echo "  WARN run $r: Postfix queue holds $got of $N"
		prate=$(calc "$got / $w")
		pcpu=$(calc "($c1 - $c0) * 1e6 / $N")
		pr+=("$prate"); pc+=("$pcpu")
		ratio=$(calc "$zrate / $prate")
		ratios+=("$ratio")
		line="$line$(printf '   postfix %6.0f msg/s %5.0f us cpu/msg   ratio %.2f' "$prate" "$pcpu" "$ratio")"
	fi
	echo "$line"
done

# idle sessions ------------------------------------------------------------
cat > "$BL_W/idle.py" <<'PY'
# idle.py PORT N - open N sessions (greeting, EHLO), print "ready K", hold
# them until stdin closes
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, ok = [], 0
for i in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=60))
    except OSError as e:
        print("connect %d: %s" % (i, e), file=sys.stderr)
        break
def reply(s):
    b = b""
    while True:
        d = s.recv(4096)
        if not d:
            return b""
        b += d
        last = b.rstrip(b"\r\n").split(b"\n")[-1]
        if len(last) >= 4 and last[3:4] == b" ":
            return b
for s in socks:
    try:
        if not reply(s).startswith(b"220"):
            continue
        s.sendall(b"EHLO idle.test\r\n")
        if reply(s).startswith(b"250"):
            ok += 1
    except OSError:
        pass
print("ready %d" % ok, flush=True)
sys.stdin.read()
PY
# mem PID... - "rss_kb pss_kb" summed over the processes
mem() {
	local p r=0 s=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null); r=$((r + ${v:-0}))
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); s=$((s + ${v:-0}))
	done
	echo "$r $s"
}
# idle_measure PORT PIDFUNC - "sessions rss_bytes_per pss_bytes_per nproc"
# ($($f) is a list of PIDs: split on purpose)
# shellcheck disable=SC2046
idle_measure() {
	local port=$1 f=$2 b a k np
	b=$(mem $($f))
	coproc IDLEC { "$PY" "$BL_W/idle.py" "$port" "$IDLE" 2> "$BL_W/idle.err"; }
	read -r -t $((60 + IDLE / 10)) _ k <&"${IDLEC[0]}" || k=0
	sleep 1
	np=$($f | wc -w)
	a=$(mem $($f))
	eval "exec ${IDLEC[1]}>&-"
	wait "$IDLEC_PID" 2>/dev/null
	[ "${k:-0}" -gt 0 ] || { echo "0 nan nan $np"; return; }
	awk -v b="$b" -v a="$a" -v k="$k" -v np="$np" 'BEGIN { split(b, x, " "); split(a, y, " ");
		printf "%d %.0f %.0f %d\n", k, (y[1] - x[1]) * 1024 / k, (y[2] - x[2]) * 1024 / k, np }'
}
# shellcheck disable=SC2317,SC2046
zpids() { echo "$ZPID" $(pgrep -P "$ZPID"); }
# every smtpd process of our Postfix instance (children of its master)
# shellcheck disable=SC2317
ppids() { pgrep -P "$PFX_MASTER" -x smtpd | tr '\n' ' '; }
zidle="" pidle=""
if [ "$IDLE" -gt 0 ]; then
	zmta_start idle || exit 1
	zidle=$(idle_measure "$ZPORT" zpids)
	zmta_stop
	if [ "$have_pfx" = 1 ]; then
		pfx_up idle || exit 1
		pidle=$(idle_measure "$PPORT" ppids)
		pfx_stop
	fi
fi

echo "zmta    accept: $(printf '%.0f' "$(median "${zr[@]}")") msg/s, $(printf '%.0f' "$(median "${zc[@]}")") us cpu/msg (smtpserver only, WORKERS=$WORKERS; median of $RUNS)"
[ -n "$zidle" ] && set -- $zidle &&
	echo "zmta    idle:   $1 sessions in $4 smtpserver process(es): $2 bytes RSS per session ($3 bytes PSS)"
if [ "$have_pfx" = 1 ]; then
	echo "postfix accept: $(printf '%.0f' "$(median "${pr[@]}")") msg/s, $(printf '%.0f' "$(median "${pc[@]}")") us cpu/msg (all Postfix processes; median of $RUNS)"
	[ -n "$pidle" ] && set -- $pidle &&
		echo "postfix idle:   $1 sessions in $4 smtpd processes (one per session): $2 bytes RSS per session ($3 bytes PSS)"
	echo "ratio smtpd-accept $(printf '%.2f' "$(median "${ratios[@]}")")"
else
	echo "ratio smtpd-accept: no Postfix side ($why)"
fi
exit 0
