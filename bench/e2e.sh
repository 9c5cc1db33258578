#!/bin/bash
# e2e.sh - the whole system against Postfix (make bench-e2e; not part of
# make check, nor of make bench).  In one run a private Postfix instance
# (bench/postfix/lib-postfix.sh: unprivileged daemons, master started as
# root) and a zmta postoffice ("zmta start -f": router, scheduler, agents,
# and the smtpserver when it is built) take the same load and deliver it
# to smtp-sink; fsync on for both (their defaults); both queues below the
# same work directory in /tmp.  Cases:
#   submit   E2E_N messages (1 KB, one recipient) through each system's
#            sendmail, LANES processes at a time
#   smtp-in  the same through smtp-source -s 10 into each system's SMTP
#            server (zmta's only when smtpserver is built; else skipped)
#   fanout   E2E_N/10 messages x 10 recipients in 10 domains, through
#            sendmail; each domain's MX (an nsd zone) is its own sink
#            (127.0.0.2 .. 127.0.0.11, one port).  zmta asks the nsd on
#            its port (DNS_SERVERS).  Postfix reads /etc/resolv.conf
#            only (port 53): when 127.0.0.1:53 is free and unshare(1)
#            works, nsd also listens there and Postfix runs in a private
#            mount namespace whose /etc/resolv.conf names it (real MX
#            lookups on both sides); otherwise Postfix gets a transport
#            map to the sinks' addresses (no DNS on its side; said so).
#   drain    E2E_N messages are queued while delivery is held (zmta: the
#            router runs alone, no scheduler; Postfix: smtpd HOLD), then
#            released (zmta start; postsuper -H ALL + postqueue -f).
# The clock runs from the first submission (drain: the release) until the
# sinks counted every message; CPU is that of each system's daemons in
# that interval (bench/postfix/reaper.py trees).  RUNS (3) runs, zmta and
# Postfix interleaved, medians.  Then fsyncs per message for the submit
# case, counted with strace -f -c (fsync+fdatasync of daemons and
# submitters) on E2E_FSYNC_N messages (500).
# Fsyncs per message are counted in every run (not for drain): the
# daemons' through perf stat (syscall tracepoint counters, inherited by
# children, next to no cost), the submitters' through strace --seccomp-bpf
# (perf loses a task that execs a set-id program such as postdrop).
# Output: per run lines, then one line per case
#   ratio <case> <zmta/Postfix throughput>  zmta <msg/s> <cpu ms/msg> postfix <msg/s> <cpu ms/msg> (cpu ratio) fsyncs/msg zmta <f> postfix <f>
# zmta runs up to E2E_MAXTHR (10) agents per destination (Postfix: its
# default destination concurrency, 20).
# Before anything runs the free space and inodes below /tmp are checked
# against the largest N (about 12 KB and 4 inodes per message, more with
# BENCH_KEEP); too little skips the bench with a message saying how much.
# Env: E2E_N (5000) RUNS (3) LANES (4) E2E_CASES ("submit smtp-in fanout
#      drain") E2E_FSYNC_N (500; 0 = skip the strace pass) E2E_FSYNC_DETAIL
#      (1: also which spool file or directory each fsync is for, per
#      message) TIMEOUT (per case and per fill, s; 120 + N/20)
#      E2E_PERF (1; 0 = no per-run fsync count) BENCH_KEEP=1
#      E2E_ZCONF ("KEY=VALUE ...": extra zmta.conf settings, e.g. ROUTER_GATHER=30)
#      E2E_SCALE ("5000 50000"): the bench at each size, RUNS default 1,
#      E2E_CASES default "submit smtp-in", E2E_FSYNC_N default 0; prints
#        cpu-split <case> <system> <N> <process>=<cpu ms/msg> ...  (per run)
#        scale <case> <system> <N> <msg/s> <cpu ms/msg> <fsyncs/msg>
#        scale-trend <case> <system> <first N>-><last N>: rate xR cpu/msg xC fsyncs/msg xF
# Needs root (the Postfix master starts as root), postfix, smtp-sink,
# smtp-source, nsd; a missing one skips what needs it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
if [ "${1:-}" = --lanes ]; then
	# --lanes LANES N FILE CMD... : N runs of "CMD < FILE", LANES at a time
	shift
	l=$1 n=$2 f=$3
	shift 3
	for k in $(seq 0 $((l - 1))); do
		( for i in $(seq "$k" "$l" $((n - 1))); do "$@" < "$f" || echo "submit failed: $?" >&2; done ) &
	done
	wait
	exit 0
fi
if [ -z "${ZBENCH_E2E:-}" ]; then
	echo "SKIP e2e: run it with make bench-e2e (or ZBENCH_E2E=1)"
	exit 77
fi
if [ -n "${E2E_SCALE:-}" ]; then
	# E2E_SCALE="5000 50000": the bench at each size (RUNS 1, cases submit
	# smtp-in unless set), then one line per case, system and size:
	#   scale <case> <system> <N> <msg/s> <cpu ms/msg> <fsyncs/msg>
	# and per case and system how the cost per message moved from the
	# first size to the last (flat = scales)
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	biggest=0
	for n in $E2E_SCALE; do [ "$n" -gt "$biggest" ] && biggest=$n; done
	for n in $E2E_SCALE; do
		echo "=== E2E_N=$n  $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
		E2E_SCALE= E2E_SCALE_LINES=1 E2E_N=$n E2E_DF_N=$biggest RUNS=${RUNS:-1} \
			E2E_CASES=${E2E_CASES:-submit smtp-in} E2E_FSYNC_N=${E2E_FSYNC_N:-0} \
			bash "$0" | tee -a "$out"
		[ "${PIPESTATUS[0]}" = 77 ] && exit 77
	done
	echo "=== scale  $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) (medians of RUNS=${RUNS:-1}; fanout: per delivery)"
	echo "# scale <case> <system> <N> <msg/s> <cpu ms/msg> <fsyncs/msg>"
	grep '^scale ' "$out" | sort -k2,2 -k3,3 -k4,4n
	grep '^cpu-split ' "$out" | sort -k2,2 -k3,3 -k4,4n
	# scale-trend: last size against the first, per case and system
	grep '^scale ' "$out" | awk '
		{ k = $2 " " $3; if (!(k in n0)) { n0[k] = $4; r0[k] = $5; c0[k] = $6; f0[k] = $7; ord[++m] = k }
		  n1[k] = $4; r1[k] = $5; c1[k] = $6; f1[k] = $7 }
		function q(a, b) { return (a + 0 > 0 && b != "-" && a != "-") ? sprintf("%.2f", b / a) : "-" }
		END { for (i = 1; i <= m; i++) { k = ord[i]
			printf "scale-trend %s %s->%s: rate x%s  cpu/msg x%s  fsyncs/msg x%s\n", k, n0[k], n1[k],
				q(r0[k], r1[k]), q(c0[k], c1[k]), q(f0[k], f1[k]) } }'
	exit 0
fi
. "$(dirname "$0")/benchlib.sh"
N=${E2E_N:-5000}; RUNS=${RUNS:-3}; LANES=${LANES:-4}; SIZE=1000
CASES=${E2E_CASES:-submit smtp-in fanout drain}
FSN=${E2E_FSYNC_N:-500}
TIMEOUT=${TIMEOUT:-$((120 + N / 20))}
PY=/usr/bin/python3
REAPER=$top_srcdir/bench/postfix/reaper.py
ME=$(id -un)
skip() { echo "SKIP e2e: $*"; exit 77; }
for f in zmtactl/zmta scheduler/scheduler router/router sendmail/sendmail transport/smtp/smtp \
	transport/errormail/errormail; do
	[ -x "$top_builddir/$f" ] || skip "not built: $top_builddir/$f"
done
need smtp-sink smtp-source "$PY"
HAVE_PFX=1
[ "$(id -u)" = 0 ] || { echo "# not root: Postfix (its master starts as root) is not measured"; HAVE_PFX=0; }
for c in postfix postsuper postqueue /usr/lib/postfix/sbin/master; do
	command -v "$c" > /dev/null 2>&1 || [ -x "$c" ] || { echo "# missing $c: Postfix not measured"; HAVE_PFX=0; }
done
[ "$HAVE_PFX" = 1 ] && . "$top_srcdir/bench/postfix/lib-postfix.sh"
HAVE_SMTPD=0
[ -x "$top_builddir/smtpserver/smtpserver" ] && HAVE_SMTPD=1

# disk first: a run at the peak holds N queued messages of one system (a
# body and a control file, 4 KB blocks each) plus both systems' logs
# (about 1-2 KB per message); BENCH_KEEP keeps every run's logs.  In scale
# mode E2E_DF_N is the largest size, so a 50000 run is refused before the
# 5000 one starts.
df_check() {
	local n=${E2E_DF_N:-$N} nc keep=0 need_kb need_in av_kb av_in
	nc=$(echo $CASES | wc -w)
	[ "${BENCH_KEEP:-0}" = 1 ] && keep=$((RUNS * nc * 2 * 3))
	need_kb=$((n * 12 + n * keep + 51200))
	need_in=$((n * 4 + n * keep / 2 + 1000))
	av_kb=$(df -Pk "$BL_W" | awk 'NR == 2 { print $4 }')
	av_in=$(df -Pi "$BL_W" | awk 'NR == 2 { print ($4 == "-" ? 1e12 : $4) }')
	if [ "${av_kb:-0}" -lt "$need_kb" ] || awk -v a="${av_in:-0}" -v b="$need_in" 'BEGIN { exit !(a < b) }'; then
		echo "SKIP e2e: not enough room below $(dirname "$BL_W") for N=$n: need about $((need_kb / 1024)) MB and $need_in inodes, have $((${av_kb:-0} / 1024)) MB and ${av_in:-0} inodes (free space, lower E2E_N, or drop BENCH_KEEP)"
		exit 77
	fi
}
df_check

# fsyncs per run: perf counts the fsync/fdatasync/syncfs syscalls of a
# process tree (tracepoint counters, inherited by children: next to no
# cost, unlike strace).  FSW is the wrapper, empty when perf cannot.
FSW_EV=syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_syncfs
HAVE_PERF=0
if [ "${E2E_PERF:-1}" = 1 ] && command -v perf > /dev/null 2>&1 &&
   perf stat -x, -e "$FSW_EV" -o "$BL_W/perf.probe" -- true > /dev/null 2>&1 &&
   grep -q sys_enter_fsync "$BL_W/perf.probe"; then
	HAVE_PERF=1
fi
# The kernel drops a task's perf events when it execs a set-id program
# (Postfix's postdrop is setgid), so the submitters are counted by strace
# instead, stopping on those three calls only (--seccomp-bpf): sub_fsw.
# fsw FILE - the wrapper words for the daemons, fsyncs counted into FILE
fsw() { [ "$HAVE_PERF" = 1 ] && echo "perf stat -x, -e $FSW_EV -o $1 --"; }
HAVE_SFSW=0
[ "$HAVE_PERF" = 1 ] && strace -f -c --seccomp-bpf -e trace=fsync -o "$BL_W/strace.probe" true 2>/dev/null && HAVE_SFSW=1
# sub_fsw FILE - the same for the submitters (strace -c table into FILE)
sub_fsw() { [ "$HAVE_SFSW" = 1 ] && echo "strace -f -c --seccomp-bpf -e trace=fsync,fdatasync,syncfs -o $1"; }
# fsw_count DIR - the fsyncs of a run: DIR/daemons.perf, plus
# DIR/submit.strace when the case had submitters ("-" when not counted)
fsw_count() {
	[ "$HAVE_PERF" = 1 ] && [ -f "$1/daemons.perf" ] || { echo -; return; }
	[ "${2:-}" = sub ] && { [ "$HAVE_SFSW" = 1 ] && [ -f "$1/submit.strace" ] || { echo -; return; }; }
	{
		awk -F, '$3 ~ /sys_enter_(fsync|fdatasync|syncfs)$/ && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' "$1/daemons.perf"
		[ "${2:-}" = sub ] && awk '$NF == "fsync" || $NF == "fdatasync" || $NF == "syncfs" { s += $4 } END { print s + 0 }' "$1/submit.strace"
	} | awk '{ s += $1 } END { print s + 0 }'
}

# the message: headers + a body to SIZE bytes
MSG=$BL_W/msg
{
	printf 'From: <s@src.test>\nTo: <r@dst.test>\nSubject: e2e bench\n\n'
	head -c $((SIZE - 60)) /dev/zero | tr '\0' 'x' | fold -w 72
	echo
} > "$MSG"

# --- shared: sinks, nsd --------------------------------------------------------
# sinks COUNT ADDR... - one smtp-sink per address on port SPORT, each exits
# after COUNT messages; sets SINKS (their pids)
sinks() {
	local cnt=$1 a
	shift
	SINKS=()
	for a in "$@"; do
		smtp-sink "${SINK_USER[@]}" -c -M "$cnt" "$a:$SPORT" 1024 > "$BL_W/sink.$a.out" 2>&1 &
		SINKS+=($!)
		track $!
	done
	for a in "$@"; do
		for i in $(seq 1 100); do
			[ -n "$(ss -Hltn "src $a:$SPORT" 2>/dev/null)" ] && break
			sleep 0.05
		done
	done
}
# wait_sinks T0 - until every sink exited or TIMEOUT; 0 when all did
wait_sinks() {
	local p
	for p in "${SINKS[@]}"; do
		while kill -0 "$p" 2>/dev/null; do
			awk -v a="$1" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }' && return 1
			sleep 0.01
		done
	done
	return 0
}
kill_sinks() { local p; for p in "${SINKS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
FANOUT_DNS=none
NSD_PORT=
start_nsd53() {
	command -v nsd > /dev/null 2>&1 || return 1
	local d=$BL_W/nsd i
	mkdir -p "$d"
	{
		printf '$ORIGIN test.\n$TTL 300\n@ IN SOA ns.test. h.test. 1 3600 600 86400 300\n@ IN NS ns.test.\nns IN A 127.0.0.1\n'
		for i in $(seq 1 10); do
			printf 'd%d IN MX 10 mx%d.fan.test.\nmx%d.fan IN A 127.0.0.%d\n' "$i" "$i" "$i" $((i + 1))
		done
		printf 'dst IN MX 10 mx.dst.test.\nmx.dst IN A 127.0.0.1\n'
	} > "$d/zone"
	NSD_PORT=$(pick_port)
	local ifs="  ip-address: 127.0.0.1@$NSD_PORT"
	if [ "$HAVE_PFX" = 1 ] && [ -z "$(ss -Hlun 'sport = :53' 2>/dev/null)" ] &&
	   [ -z "$(ss -Hltn 'sport = :53' 2>/dev/null)" ] &&
	   unshare -m sh -c "echo 'nameserver 127.0.0.1' > $d/resolv.conf && mount --bind $d/resolv.conf /etc/resolv.conf" 2>/dev/null; then
		ifs="$ifs
  ip-address: 127.0.0.1@53"
		FANOUT_DNS=ns53
	fi
	cat > "$d/nsd.conf" <<EOF
server:
$ifs
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
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: "test"
  zonefile: "zone"
EOF
	nsd -d -c "$d/nsd.conf" > "$d/nsd.out" 2>&1 &
	track $!
	for i in $(seq 1 100); do
		[ -n "$(ss -Hlun "sport = :$NSD_PORT" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	echo "# nsd did not start: $(tail -2 "$d/nsd.out" "$d/nsd.log" 2>/dev/null)"
	FANOUT_DNS=none
	return 1
}

# --- zmta --------------------------------------------------------------------
# z_build DIR - a postoffice delivering dst.test to 127.0.0.1:SPORT and the
# d*.test domains by MX (DNS_SERVERS = our nsd)
z_build() {
	local d=$1 a
	mkdir -p "$d/bin/ta" "$d/etc/forms" "$d/log" "$d/po"
	chmod 755 "$d" "$d/bin" "$d/bin/ta" "$d/etc" "$d/log"
	ln -s "$top_builddir/scheduler/scheduler" "$d/bin/scheduler"
	ln -s "$top_builddir/router/router" "$d/bin/router"
	[ "$HAVE_SMTPD" = 1 ] && ln -s "$top_builddir/smtpserver/smtpserver" "$d/bin/smtpserver"
	for a in smtp errormail; do ln -s "$top_builddir/transport/$a/$a" "$d/bin/ta/$a"; done
	cp "$top_srcdir"/transport/errormail/forms/* "$d/etc/forms/" 2>/dev/null
	scratch_po -p "$d/po" -c "$d/etc/zmta.conf" "MAILBIN=$d/bin" "MAILSHARE=$d/etc" \
		"MAILVAR=$d/etc" "LOGDIR=$d/log" "ROUTERCONF=$d/etc/router.conf" "ROUTER_RESCAN=1" \
		"ZMTA_USER=$ME" "MYHOSTNAME=zmta-bench.test" "SMTP_TEST_ALLOW_LOOPBACK=yes" \
		"DNS_SERVERS=127.0.0.1:${NSD_PORT:-1}" ${E2E_ZCONF:-} || { echo "postoffice-init failed"; return 1; }
	cat > "$d/etc/scheduler.conf" <<EOF
*/*	interval=5s
	retries="1 2 4"
	expiry=1h
	idlemax=10s
	maxta=40 maxchannel=30 maxring=30 maxthr=${E2E_MAXTHR:-10} overfeed=50
error/*	command="errormail -c \$channel"
smtp/*	command="smtp -c \$channel -p $SPORT"
EOF
	printf 'myhostname zmta-bench.test\nroute dst.test smtp![127.0.0.1]\n' > "$d/etc/router.conf"
	[ "$HAVE_SMTPD" = 1 ] && printf 'listen 127.0.0.1:%s\n' "$ZPORT" > "$d/etc/smtpserver.conf"
	chmod 644 "$d"/etc/*
}
# z_start DIR [strace-output] - zmta start -f under reaper.py (and strace)
z_start() {
	local d=$1 st=${2:-} i
	local cmd=("$top_builddir/zmtactl/zmta" start -f)
	[ -n "$st" ] && cmd=(strace -f $STRACE_MODE -e trace=fsync,fdatasync,syncfs -o "$st" "${cmd[@]}")
	[ -z "$st" ] && cmd=($(fsw "$d/daemons.perf") "${cmd[@]}")
	ZCONFIG=$d/etc/zmta.conf "$PY" "$REAPER" "$d/zmta.ru" "$d/zmta.rpid" -- "${cmd[@]}" \
		> "$d/zmta.out" 2>&1 &
	Z_REAPER=$!
	track "$Z_REAPER"
	for i in $(seq 1 200); do
		[ -S "$d/po/.router.notify" ] && [ -S "$d/po/.mailq.sock" ] && break
		sleep 0.05
	done
	[ "$HAVE_SMTPD" = 1 ] && { wait_port "$ZPORT" 10 || echo "  WARN zmta smtpserver not listening"; }
	return 0
}
# z_stop DIR - SIGTERM to the supervisor; wait for the whole tree
z_stop() {
	local p
	p=$(cat "$1/po/.pid.zmta" 2>/dev/null)
	[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	wait "$Z_REAPER" 2>/dev/null
}
# snap RUFILE REAPERPID - CPU seconds of a reaper's tree so far
snap() {
	local i
	rm -f "$1.snap"
	kill -USR1 "$2" 2>/dev/null || { echo 0; return; }
	for i in $(seq 1 100); do [ -s "$1.snap" ] && break; sleep 0.02; done
	cat "$1.snap" 2>/dev/null || echo 0
}
# cpu_split ROOT N - CPU ms per message of each live process below ROOT,
# summed by name (utime+stime plus the reaped children's), one line
# "name=ms ..." - where the cost of a run went (started processes that
# already exited and were reaped by ROOT itself are not shown)
cpu_split() {
	local root=$1 n=$2
	for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done | awk -v root="$root" -v n="$n" -v tck="$CLK_TCK" '
		NF > 20 { i = index($0, "("); j = length($0); while (substr($0, j, 1) != ")") j--
			pid = $1; comm = substr($0, i + 1, j - i - 1); split(substr($0, j + 2), r, " ")
			par[pid] = r[2]; nm[pid] = comm; tk[pid] = r[12] + r[13] + r[14] + r[15] }
		END { for (p in tk) { q = p; for (k = 0; k < 64 && (q in par); k++) { q = par[q]; if (q == root) { s[nm[p]] += tk[p]; break } } }
			for (c in s) if (s[c] > 0) printf "%s=%.3f ", c, s[c] * 1000 / tck / n; print "" }'
}
FAN_RCPTS=$(for i in $(seq 1 10); do printf 'u@d%d.test ' "$i"; done)

# fill_wait DIR FIND-ARGS... - until DIR holds N files (or TIMEOUT)
fill_wait() {
	local dir=$1 end
	shift
	end=$(($(date +%s) + TIMEOUT))
	while [ "$(find "$dir" "$@" | wc -l)" -lt "$N" ]; do
		[ "$(date +%s)" -ge "$end" ] && { echo "  WARN fill of $dir: only $(find "$dir" "$@" | wc -l) of $N in ${TIMEOUT}s" >&2; return 1; }
		sleep 0.2
	done
}
# rate_line N T0 T1 C0 C1 OK FSYNCS - "rate cpu_ms_per_msg fsyncs_per_msg"
rate_line() {
	awk -v n="$1" -v a="$2" -v b="$3" -v c0="$4" -v c1="$5" -v ok="$6" -v f="$7" \
		'BEGIN { if (!ok) { print "nan nan -"; exit }
			printf "%.1f %.3f %s\n", n / (b - a), (c1 - c0) * 1000 / n, (f == "-" ? "-" : sprintf("%.3f", f / n)) }'
}

# zmta_case CASE RUN - one measurement; prints "rate cpu_ms_per_msg fsyncs_per_msg"
# (fsyncs: daemons and submitters over the whole run; drain: "-", the
# fill and the release are not told apart on the Postfix side)
zmta_case() {
	local c=$1 d=$BL_W/z.$1.$2 n=$N t0 t1 c0 c1 ok=1
	ZPORT=$(pick_port)
	z_build "$d" || return 1
	case $c in
	fanout)
		n=$((N / 10))
		sinks "$n" $(for i in $(seq 2 11); do echo 127.0.0.$i; done)
		;;
	*) sinks "$N" 127.0.0.1 ;;
	esac
	if [ "$c" = drain ]; then
		# the router alone fills transport/; then zmta start releases
		ZCONFIG=$d/etc/zmta.conf "$top_builddir/router/router" -L "$d/log/router.fill" &
		local rp=$!
		track "$rp"
		bash "$0" --lanes "$LANES" "$N" "$MSG" env ZCONFIG="$d/etc/zmta.conf" \
			"$top_builddir/sendmail/sendmail" -i -f s@src.test r@dst.test
		fill_wait "$d/po/transport" -type f -name '[0-9]*'
		kill -TERM "$rp"; wait "$rp" 2>/dev/null
		t0=$(now)
		z_start "$d"
		c0=0
	else
		z_start "$d"
		c0=$(snap "$d/zmta.ru" "$Z_REAPER")
		t0=$(now)
		case $c in
		submit) $(sub_fsw "$d/submit.strace") bash "$0" --lanes "$LANES" "$N" "$MSG" env ZCONFIG="$d/etc/zmta.conf" \
				"$top_builddir/sendmail/sendmail" -i -f s@src.test r@dst.test ;;
		smtp-in) smtp-source -s 10 -m "$N" -l "$SIZE" -M client.test -f s@src.test -t r@dst.test \
				"127.0.0.1:$ZPORT" > /dev/null ;;
		fanout) $(sub_fsw "$d/submit.strace") bash "$0" --lanes "$LANES" "$n" "$MSG" env ZCONFIG="$d/etc/zmta.conf" \
				"$top_builddir/sendmail/sendmail" -i -f s@src.test $FAN_RCPTS ;;
		esac
	fi
	wait_sinks "$t0" || ok=0
	t1=$(now)
	c1=$(snap "$d/zmta.ru" "$Z_REAPER")
	echo "cpu-split $c zmta $N $(cpu_split "$Z_REAPER" "$N")" > "$BL_W/split.z.$c.$2"
	z_stop "$d"
	kill_sinks
	[ "$ok" = 1 ] || { echo "  WARN zmta $c run $2: timed out; $(grep -ho 'mesg=[0-9]*' "$BL_W"/sink.*.out | tr '\n' ' ')" >&2; }
	local fs=-
	case $c in submit|fanout) fs=$(fsw_count "$d" sub) ;; smtp-in) fs=$(fsw_count "$d") ;; esac
	rate_line "$N" "$t0" "$t1" "$c0" "$c1" "$ok" "$fs"
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$d"
}

# --- Postfix -------------------------------------------------------------------
# pfx_case CASE RUN - the same for Postfix (the master runs under perf
# when it can, and in a private mount namespace for fanout with ns53)
pfx_case() {
	local c=$1 D=$BL_W/p.$1.$2 n=$N t0 t1 c0 c1 ok=1 extra=() i
	mkdir -p "$D"
	PPORT=$(pick_port)
	[ "$c" = drain ] && extra+=("smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=HOLD }")
	if [ "$c" = fanout ] && [ "$FANOUT_DNS" = ns53 ]; then
		extra+=("smtp_dns_support_level = enabled" "smtp_host_lookup = dns")
	fi
	pfx_build "$D" "$PPORT" "[127.0.0.1]:$SPORT" "${extra[@]}" > /dev/null || return 1
	if [ "$c" = fanout ] && [ "$FANOUT_DNS" = ns53 ]; then
		# lib-postfix.sh turns DNS off; this case wants it (the lines above)
		sed -i -e '/^smtp_dns_support_level = disabled$/d' -e '/^smtp_host_lookup = native$/d' "$D/etc/main.cf"
	fi
	for i in $(seq 1 10); do
		if [ "$FANOUT_DNS" = ns53 ]; then
			echo "d$i.test smtp:d$i.test:$SPORT" >> "$D/etc/transport"
		else
			echo "d$i.test smtp:[127.0.0.$((i + 1))]:$SPORT" >> "$D/etc/transport"
		fi
	done
	case $c in
	fanout) n=$((N / 10)); sinks "$n" $(for i in $(seq 2 11); do echo 127.0.0.$i; done) ;;
	*) sinks "$N" 127.0.0.1 ;;
	esac
	local pcmd=("$PFX_PY" "$REAPER" "$D/postfix.ru" "$D/master.pid" -- $(fsw "$D/daemons.perf") \
		/usr/lib/postfix/sbin/master -c "$D/etc")
	if [ "$c" = fanout ] && [ "$FANOUT_DNS" = ns53 ]; then
		# the master and its daemons see /etc/resolv.conf -> our nsd on :53
		unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh \
			"$BL_W/nsd/resolv.conf" "${pcmd[@]}" &
	else
		"${pcmd[@]}" &
	fi
	PFX_REAPER=$!; track $PFX_REAPER
	wait_port "$PPORT" 15 || { echo "postfix did not come up" >&2; tail "$D/maillog" >&2 2>/dev/null; echo "nan nan -"; return 1; }
	if [ "$c" = drain ]; then
		smtp-source -s 10 -m "$N" -l "$SIZE" -M client.test -f s@src.test -t r@dst.test \
			"127.0.0.1:$PPORT" > /dev/null
		fill_wait "$D/queue/hold" -type f
		c0=$(snap "$D/postfix.ru" "$PFX_REAPER")
		t0=$(now)
		postsuper -c "$D/etc" -H ALL > /dev/null 2>&1
		postqueue -c "$D/etc" -f
	else
		c0=$(snap "$D/postfix.ru" "$PFX_REAPER")
		t0=$(now)
		case $c in
		submit) $(sub_fsw "$D/submit.strace") bash "$0" --lanes "$LANES" "$N" "$MSG" env MAIL_CONFIG="$D/etc" \
				/usr/sbin/sendmail -i -f s@src.test r@dst.test ;;
		smtp-in) smtp-source -s 10 -m "$N" -l "$SIZE" -M client.test -f s@src.test -t r@dst.test \
				"127.0.0.1:$PPORT" > /dev/null ;;
		fanout) $(sub_fsw "$D/submit.strace") bash "$0" --lanes "$LANES" "$n" "$MSG" env MAIL_CONFIG="$D/etc" \
				/usr/sbin/sendmail -i -f s@src.test $FAN_RCPTS ;;
		esac
	fi
	wait_sinks "$t0" || ok=0
	t1=$(now)
	c1=$(snap "$D/postfix.ru" "$PFX_REAPER")
	echo "cpu-split $c postfix $N $(cpu_split "$PFX_REAPER" "$N")" > "$BL_W/split.p.$c.$2"
	kill -TERM "$(cat "$D/queue/pid/master.pid" 2>/dev/null | tr -d ' ')" 2>/dev/null
	wait "$PFX_REAPER" 2>/dev/null
	PFX_MASTER=""; PFX_REAPER=""
	kill_sinks
	[ "$ok" = 1 ] || { echo "  WARN postfix $c run $2: timed out; $(grep -ho 'mesg=[0-9]*' "$BL_W"/sink.*.out | tr '\n' ' ')" >&2; tail -3 "$D/maillog" >&2; }
	local fs=-
	case $c in submit|fanout) fs=$(fsw_count "$D" sub) ;; smtp-in) fs=$(fsw_count "$D") ;; esac
	rate_line "$N" "$t0" "$t1" "$c0" "$c1" "$ok" "$fs"
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$D"
}

# --- run -------------------------------------------------------------------------
SPORT=$(pick_port)
case " $CASES " in *" fanout "*) start_nsd53 ;; esac
echo "# e2e: N=$N (fanout $((N / 10)) x 10 rcpts) size=$SIZE lanes=$LANES runs=$RUNS $(nproc) cpus; postfix $(postconf -d -h mail_version 2>/dev/null || echo -); smtpserver $([ "$HAVE_SMTPD" = 1 ] && echo built || echo 'not built'); fanout DNS for Postfix: $([ "$FANOUT_DNS" = ns53 ] && echo 'nsd on 127.0.0.1:53 via a private /etc/resolv.conf (unshare -m)' || echo 'none: transport map to the sinks')"
echo "# rates are messages/s (fanout: deliveries/s, N/10 messages x 10) from the first submission (drain: the release, including zmta start) to the sinks' last message; cpu = the daemons' CPU ms per message (fanout: per delivery); fsyncs per message (fanout: per delivery) of daemons and submitters, $([ "$HAVE_PERF" = 1 ] && echo "perf + strace" || echo "not counted (no perf)")"
# med_fs V... - median of the numbers among V ("-" when none)
med_fs() {
	local v l=()
	for v in "$@"; do [ "$v" = - ] || l+=("$v"); done
	[ ${#l[@]} -gt 0 ] && median "${l[@]}" || echo -
}
for c in $CASES; do
	zr=(); zc=(); zf=(); pr=(); pc=(); pf=()
	for run in $(seq 1 "$RUNS"); do
		if [ "$c" = smtp-in ] && [ "$HAVE_SMTPD" = 0 ]; then
			z=(skip skip -)
		else
			z=($(zmta_case "$c" "$run"))
		fi
		p=(nan nan -)
		[ "$HAVE_PFX" = 1 ] && p=($(pfx_case "$c" "$run"))
		[ ${#z[@]} = 3 ] || z=(nan nan -)
		[ ${#p[@]} = 3 ] || p=(nan nan -)
		[ "${E2E_SCALE_LINES:-}" = 1 ] && cat "$BL_W/split.z.$c.$run" "$BL_W/split.p.$c.$run" 2>/dev/null
		echo "run $run $c: zmta ${z[0]} msg/s ${z[1]} ms/msg ${z[2]} fsyncs/msg  postfix ${p[0]} msg/s ${p[1]} ms/msg ${p[2]} fsyncs/msg  (load $(cut -d' ' -f1 /proc/loadavg))"
		case ${z[0]} in nan*|skip*) ;; *) zr+=("${z[0]}"); zc+=("${z[1]}"); zf+=("${z[2]}") ;; esac
		case ${p[0]} in nan*) ;; *) pr+=("${p[0]}"); pc+=("${p[1]}"); pf+=("${p[2]}") ;; esac
	done
	if [ ${#zr[@]} = 0 ]; then
		echo "ratio $c -  (zmta: $([ "$c" = smtp-in ] && [ "$HAVE_SMTPD" = 0 ] && echo 'smtpserver not built' || echo 'no complete run'))"
		continue
	fi
	mz=$(median "${zr[@]}"); mzc=$(median "${zc[@]}"); mzf=$(med_fs "${zf[@]}")
	[ "${E2E_SCALE_LINES:-}" = 1 ] && echo "scale $c zmta $N $mz $mzc $mzf"
	if [ ${#pr[@]} = 0 ]; then
		printf 'ratio %s -  zmta %.0f msg/s %.3f ms/msg  postfix -\n' "$c" "$mz" "$mzc"
		continue
	fi
	mp=$(median "${pr[@]}"); mpc=$(median "${pc[@]}"); mpf=$(med_fs "${pf[@]}")
	[ "${E2E_SCALE_LINES:-}" = 1 ] && echo "scale $c postfix $N $mp $mpc $mpf"
	printf 'ratio %s %.2f  zmta %.0f msg/s %.3f ms/msg  postfix %.0f msg/s %.3f ms/msg  (cpu ratio %.2f)  fsyncs/msg zmta %s postfix %s\n' \
		"$c" "$(calc "$mz / $mp")" "$mz" "$mzc" "$mp" "$mpc" "$(calc "$mzc / $mpc")" "$mzf" "$mpf"
done

# --- fsyncs per message (submit, strace) ----------------------------------------
# fsyncs FILE... - total fsync+fdatasync+syncfs calls in strace outputs
# (-c tables, or with E2E_FSYNC_DETAIL=1 one line per call)
fsyncs() {
	if [ -n "${E2E_FSYNC_DETAIL:-}" ]; then
		cat "$@" 2>/dev/null | grep -c -E '(fsync|fdatasync|syncfs)\(' || true
	else
		awk '$NF == "fsync" || $NF == "fdatasync" || $NF == "syncfs" { s += $4 } END { print s + 0 }' "$@" 2>/dev/null
	fi
}
# fsync_detail WHO FILE - with E2E_FSYNC_DETAIL=1: calls per message by
# the spool path they sync (digits folded to N; strace -y names the fd)
fsync_detail() {
	[ -n "${E2E_FSYNC_DETAIL:-}" ] || return 0
	sed -n -E 's/.*(fsync|fdatasync|syncfs)\([0-9]+<([^>]*)>.*/\1 \2/p' "$2" |
		sed -E "s#$BL_W/[^/ ]*/po/##; s#[0-9]+#N#g; s#/[A-Z]/#/X/#g" | sort | uniq -c |
		awk -v w="$1" -v n="$N" '{ printf "fsync-detail %s %s %s %.2f/msg\n", w, $2, $3, $1 / n }'
}
STRACE_MODE=-c
[ -n "${E2E_FSYNC_DETAIL:-}" ] && STRACE_MODE=-y
if [ "$FSN" -gt 0 ] && command -v strace > /dev/null 2>&1; then
	N0=$N; N=$FSN
	d=$BL_W/z.fsync
	ZPORT=$(pick_port)
	z_build "$d"
	sinks "$N" 127.0.0.1
	z_start "$d" "$d/daemons.strace"
	strace -f $STRACE_MODE -e trace=fsync,fdatasync,syncfs -o "$d/submit.strace" bash "$0" --lanes "$LANES" "$N" "$MSG" \
		env ZCONFIG="$d/etc/zmta.conf" "$top_builddir/sendmail/sendmail" -i -f s@src.test r@dst.test
	wait_sinks "$(now)"
	z_stop "$d"
	kill_sinks
	fsync_detail sendmail "$d/submit.strace"
	fsync_detail daemons "$d/daemons.strace"
	zs=$(fsyncs "$d/submit.strace"); zd=$(fsyncs "$d/daemons.strace")
	line="fsyncs submit (N=$N): zmta $(calc "($zs + $zd) / $N")/msg (sendmail $(calc "$zs / $N"), daemons $(calc "$zd / $N"))"
	if [ "$HAVE_PFX" = 1 ]; then
		D=$BL_W/p.fsync
		mkdir -p "$D"
		PPORT=$(pick_port)
		pfx_build "$D" "$PPORT" "[127.0.0.1]:$SPORT" > /dev/null
		sinks "$N" 127.0.0.1
		PFX_LIBDIR=$top_srcdir/bench/postfix
		"$PFX_PY" "$REAPER" "$D/postfix.ru" "$D/master.rpid" -- \
			strace -f $STRACE_MODE -e trace=fsync,fdatasync,syncfs -o "$D/daemons.strace" /usr/lib/postfix/sbin/master -c "$D/etc" &
		PFX_REAPER=$!; track $PFX_REAPER
		wait_port "$PPORT" 15
		strace -f $STRACE_MODE -e trace=fsync,fdatasync,syncfs -o "$D/submit.strace" bash "$0" --lanes "$LANES" "$N" "$MSG" \
			env MAIL_CONFIG="$D/etc" /usr/sbin/sendmail -i -f s@src.test r@dst.test
		wait_sinks "$(now)"
		kill -TERM "$(cat "$D/queue/pid/master.pid" 2>/dev/null | tr -d ' ')" 2>/dev/null
		wait "$PFX_REAPER" 2>/dev/null
		kill_sinks
		ps_=$(fsyncs "$D/submit.strace"); pd=$(fsyncs "$D/daemons.strace")
		line="$line; postfix $(calc "($ps_ + $pd) / $N")/msg (sendmail+postdrop $(calc "$ps_ / $N"), daemons $(calc "$pd / $N"))"
	fi
	echo "$line"
	N=$N0
fi
exit 0
