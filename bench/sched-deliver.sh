#!/bin/bash
# sched-deliver.sh - the scheduler delivering a generated queue through
# smtp agents to smtp-sink, compared with Postfix draining the same number
# of messages (bench/postfix-drain.sh) in the same run.
# N one-recipient messages (SIZE-byte bodies) for HOSTS hosts h1.test ..
# hHOSTS.test are generated directly in the spool (tests/tools/mkjob -q);
# dnsmasq (started here, loopback) answers hN.test -> 127.0.0.1 and is the
# agents' only DNS server; one smtp-sink -c counts.  The scheduler runs in
# the foreground (-i) under bench/postfix/reaper.py; timed from its start
# (the start-up scan included) until the sink has counted all N messages,
# and it runs on until transport/ is empty.  Reported per run:
# wall time until the sink has counted all N (as the Postfix anchor is
# timed; the time until transport/ is empty, the last removals included,
# is printed beside it), msg/s, the scheduler's own CPU (utime+stime from /proc just
# before it is stopped) in total and per message (and the removal
# thread's share of it), and the agents' CPU (the
# reaper's whole tree minus the scheduler's own).  The sink count must be N.
# Then the Postfix anchor and "ratio zmta/postfix" for the delivery rate and
# for CPU per message (zmta = scheduler + agents; Postfix = every Postfix
# process during the drain).  RUNS runs each, medians.
# Env: N (20000; N=100000 for the issue's full figure) RUNS (3) SIZE (1000)
#      HOSTS (1000) MAXCHANNEL (200) OVERFEED (50) FORKRATE (-R; default the
#      scheduler's own) TIMEOUT (s per run; default 120 + N/20)
#      SCHED_BIN (another scheduler binary, e.g. a copy of main's, to
#      compare builds in one run; default the build's own)
#      SCHED_DELIVER_POSTFIX=0 skips the Postfix anchor; BENCH_KEEP=1;
#      BENCH_STRACE=1 adds one untimed run with strace -c attached to each
#      thread of the scheduler (event loop, removal worker) and prints their
#      system calls (and syscall time) per message, one line per thread.
# A missing tool makes it print why and exit 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-20000}; RUNS=${RUNS:-3}; SIZE=${SIZE:-1000}; HOSTS=${HOSTS:-1000}
MAXCHANNEL=${MAXCHANNEL:-200}; OVERFEED=${OVERFEED:-50}
TIMEOUT=${TIMEOUT:-$((120 + N / 20))}
SCHED=${SCHED_BIN:-$top_builddir/scheduler/scheduler}
SMTP=$top_builddir/transport/smtp/smtp
MKJOB=$top_builddir/tests/tools/mkjob
REAPER=$top_srcdir/bench/postfix/reaper.py
skip() { echo "SKIP sched-deliver: $*"; exit 0; }
for c in "$SCHED" "$SMTP" "$MKJOB" smtp-sink dnsmasq /usr/bin/python3; do
	command -v "$c" > /dev/null 2>&1 || [ -x "$c" ] || skip "missing $c (build: make scheduler/scheduler transport/smtp/smtp tests/tools/mkjob)"
done
[ "$HOSTS" -ge 1 ] && [ "$N" -ge "$HOSTS" ] || skip "need N >= HOSTS >= 1 (N=$N HOSTS=$HOSTS)"
per=$((N / HOSTS)); N=$((per * HOSTS))

# DNS: dnsmasq with one host record per host, nothing else
DNSP=$(pick_port) || skip "no free port"
hr=()
for i in $(seq 1 "$HOSTS"); do hr+=("--host-record=h$i.test,127.0.0.1"); done
dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=127.0.0.1 --port="$DNSP" --pid-file= --user=nobody --group=nogroup \
	--log-facility="$BL_W/dnsmasq.log" --local=/test/ "${hr[@]}" > "$BL_W/dnsmasq.out" 2>&1 &
track $!
for i in $(seq 1 100); do [ -n "$(ss -Hlun "sport = :$DNSP" 2>/dev/null)" ] && break; sleep 0.05; done
[ -n "$(ss -Hlun "sport = :$DNSP" 2>/dev/null)" ] || { cat "$BL_W/dnsmasq.out"; echo "sched-deliver: dnsmasq did not start"; exit 1; }

SINK_PORT=$(pick_port) || skip "no free port"
SINK_OUT=$BL_W/sink.out
smtp-sink "${SINK_USER[@]}" -c "127.0.0.1:$SINK_PORT" 1024 > "$SINK_OUT" 2>&1 &
track $!
wait_port "$SINK_PORT" || { echo "sched-deliver: smtp-sink did not start"; exit 1; }
# sink_count - smtp-sink's message counter (last value in its -c output)
sink_count() { local v; v=$(tail -c 4096 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2); echo "${v:-0}"; }

scratch_po -p "$BL_W/po" -c "$BL_W/zmta.conf" "DNS_SERVERS=127.0.0.1:$DNSP" "SMTP_TEST_ALLOW_LOOPBACK=yes"
cat > "$BL_W/scheduler.conf" <<CF
*/*	interval=2s retries="1 1 2" expiry=1h idlemax=5s
	maxta=$((MAXCHANNEL + 10)) maxchannel=$MAXCHANNEL maxring=$MAXCHANNEL maxthr=1 overfeed=$OVERFEED
smtp/*	command="$SMTP -c \$channel -p $SINK_PORT"
CF
"$SCHED" -n -f "$BL_W/scheduler.conf" -P "$BL_W" > "$BL_W/conf.check" 2>&1 || { cat "$BL_W/conf.check"; echo "sched-deliver: scheduler.conf refused"; exit 1; }
RARG=(); [ -n "${FORKRATE:-}" ] && RARG=(-R "$FORKRATE")

echo "# sched-deliver: N=$N msgs x ${SIZE}B, 1 rcpt each, $HOSTS hosts ($per each), RUNS=$RUNS, maxchannel=$MAXCHANNEL maxthr=1 overfeed=$OVERFEED fork-rate=${FORKRATE:-default} ($(nproc) cpus)"
rates=(); walls=(); scpu=(); sus=(); acpu=(); tcpm=()
nrun=$RUNS
[ "${BENCH_STRACE:-0}" = 1 ] && command -v strace > /dev/null && nrun=$((RUNS + 1))
for run in $(seq 1 "$nrun"); do
	traced=0; [ "$run" -gt "$RUNS" ] && traced=1
	rm -rf "$PO"
	mk_postoffice "$PO"
	for h in $(seq 1 "$HOSTS"); do
		"$MKJOB" -P "$PO" -q -z "$SIZE" -m "$per" "u@h$h.test" > /dev/null || { echo "sched-deliver: mkjob failed"; exit 1; }
	done
	sync
	q=$(find "$PO/transport" -type f | wc -l)
	[ "$q" = "$N" ] || echo "  WARN run $run: $q control files queued, expected $N"
	m0=$(sink_count)
	rm -f "$BL_W/sched.ru" "$BL_W/sched.pid"
	t0=$(now)
	/usr/bin/python3 "$REAPER" "$BL_W/sched.ru" "$BL_W/sched.pid" -- \
		"$SCHED" -i "${RARG[@]}" -f "$BL_W/scheduler.conf" -P "$PO" -L "$BL_W/sched.log.$run" -l "$BL_W/stat.log.$run" &
	R=$!; track "$R"
	for i in $(seq 1 100); do [ -s "$BL_W/sched.pid" ] && break; sleep 0.01; done
	SPID=$(cat "$BL_W/sched.pid")
	STRS=()
	if [ "$traced" = 1 ]; then
		# one strace per thread (the event loop, the removal worker):
		# not -f, which would follow the agents too
		for i in $(seq 1 100); do [ "$(ls "/proc/$SPID/task" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.01; done
		rm -f "$BL_W"/strace.txt.*
		for t in $(ls "/proc/$SPID/task" 2>/dev/null); do
			strace -c -p "$t" -o "$BL_W/strace.txt.$t" 2> /dev/null &
			STRS+=($!); track $!
		done
	fi
	ok=1
	td=""
	while [ -n "$(find "$PO/transport" -type f -print -quit)" ]; do
		[ -z "$td" ] && [ "$(sink_count)" -ge $((m0 + N)) ] && td=$(now)
		kill -0 "$SPID" 2>/dev/null || { ok=0; echo "  WARN run $run: scheduler exited"; break; }
		awk -v a="$t0" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }' && { ok=0; echo "  WARN run $run: timed out after ${TIMEOUT}s"; break; }
		sleep 0.02
	done
	t1=$(now)
	[ -z "$td" ] && td=$t1
	# the scheduler's own CPU, and its reaped agents', just before it is stopped
	read -r su ss scu scs < <(awk '{ print $14, $15, $16, $17 }' "/proc/$SPID/stat" 2>/dev/null)
	# the removal worker's share (every thread but the loop)
	wk=0
	for tf in /proc/$SPID/task/*/stat; do
		[ "$tf" = "/proc/$SPID/task/$SPID/stat" ] && continue
		wk=$((wk + $(awk '{ print $14 + $15 }' "$tf" 2>/dev/null || echo 0)))
	done
	for p in "${STRS[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kill -TERM "$SPID" 2>/dev/null
	wait "$R" 2>/dev/null
	sleep 0.3
	m1=$(sink_count)
	got=$((m1 - m0))
	left=$(find "$PO/transport" -type f | wc -l)
	okl=$(grep -c ' ok3 ' "$BL_W/stat.log.$run" 2>/dev/null)
	errs=$(grep -c ': error: ' "$BL_W/sched.log.$run" 2>/dev/null)
	[ "$got" = "$N" ] || { ok=0; echo "  WARN run $run: sink counted $got of $N"; }
	# timed like the Postfix anchor: until the sink has counted all N
	# (the removal of the last control files is reported beside it)
	wall=$(calc "$td - $t0")
	rate=$(calc "$N / $wall")
	wall_q=$(calc "$t1 - $t0")
	sc=$(calc "(${su:-0} + ${ss:-0}) / $CLK_TCK")
	tree=$(awk '{ print $1 + $2 }' "$BL_W/sched.ru" 2>/dev/null)
	ac=$(calc "${tree:-0} - $sc")
	su_msg=$(calc "$sc * 1e6 / $N")
	tc=$(calc "(${tree:-0}) * 1000 / $N")
	if [ "$traced" = 1 ]; then
		# strace -c rows: % seconds usecs/call calls [errors] syscall
		for f in "$BL_W"/strace.txt.*; do
			[ -f "$f" ] || continue
			who="removal worker thread"; [ "${f##*.}" = "$SPID" ] && who="event loop thread"
			awk -v n="$N" '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
				t += $4; if ($4 / n >= 0.01) printf "%s %.2f %.1f\n", $NF, $4 / n, $2 * 1e6 / n }
				END { printf "total %.2f\n", t / n }' "$f" | sort -k2 -rn |
				awk -v who="$who" '{ printf "%s%s %s%s", (NR > 1 ? ", " : "strace (untimed run, scheduler " who "): syscalls per message: "), $1, $2, ($3 != "" ? " (" $3 " us)" : "") } END { print "" }'
		done
		continue
	fi
	printf 'run %d: zmta %6.0f msg/s (%.2f s; transport/ empty at %.2f s)  scheduler cpu %.2f s = %.1f us/msg (user %.2f sys %.2f; removal thread %.2f)  agents cpu %.2f s  total %.3f ms/msg  [sink %d, ok3 %d, left %d, errors logged %d]\n' \
		"$run" "$rate" "$wall" "$wall_q" "$sc" "$su_msg" "$(calc "${su:-0} / $CLK_TCK")" "$(calc "${ss:-0} / $CLK_TCK")" "$(calc "$wk / $CLK_TCK")" "$ac" "$tc" "$got" "${okl:-0}" "$left" "${errs:-0}"
	if [ "$ok" = 1 ]; then
		rates+=("$rate"); walls+=("$wall"); scpu+=("$sc"); sus+=("$su_msg"); acpu+=("$ac"); tcpm+=("$tc")
	fi
	[ "${BENCH_VERBOSE:-0}" = 1 ] && grep -v ' delivered\| complete\| queued' "$BL_W/sched.log.$run" | head -20
done
[ ${#rates[@]} -gt 0 ] || { echo "SUMMARY sched-deliver N=$N: no complete run"; exit 1; }
mr=$(median "${rates[@]}"); mt=$(median "${tcpm[@]}")
printf 'SUMMARY sched-deliver N=%d hosts=%d size=%d runs=%d: zmta %.0f msg/s (%.2f s), scheduler cpu %.2f s = %.1f us/msg, agents cpu %.2f s, scheduler+agents %.3f ms/msg  [rates: %s]\n' \
	"$N" "$HOSTS" "$SIZE" "${#rates[@]}" "$mr" "$(median "${walls[@]}")" "$(median "${scpu[@]}")" "$(median "${sus[@]}")" \
	"$(median "${acpu[@]}")" "$mt" "$(printf '%.0f ' "${rates[@]}")"

# the Postfix anchor, same N, same body size
[ "${SCHED_DELIVER_POSTFIX:-1}" = 0 ] && { echo "ratio zmta/postfix: not measured (SCHED_DELIVER_POSTFIX=0)"; exit 0; }
res=""
reuse=/tmp/zbench-postfix-drain.$PPID.$N.$SIZE
if [ "$PPID" -gt 1 ] && [ -f "$reuse" ] && [ -n "$(find "$reuse" -mmin -60)" ]; then
	read -r tag rn rr rpm rc < "$reuse"
	if [ "$rr" = "$RUNS" ]; then
		res="$rn $rr $rpm $rc"
		echo "# postfix anchor: reusing bench/postfix-drain.sh's result of this run (N=$N runs=$RUNS): $(cat "$reuse")"
	fi
fi
rm -f "$reuse"
if [ -z "$res" ]; then
	PFX_NO_RESULT_FILE=1 N=$N RUNS=$RUNS SIZE=$SIZE bash "$top_srcdir/bench/postfix-drain.sh" < /dev/null > "$BL_W/pfx.out" 2>&1 &
	PFXJOB=$!; track "$PFXJOB"
	wait "$PFXJOB"
	sed 's/^/  /' "$BL_W/pfx.out"
	res=$(sed -n 's/^PFX_RESULT //p' "$BL_W/pfx.out")
	rm -f "$reuse"
fi
if [ -z "$res" ]; then
	echo "ratio zmta/postfix: not measured (Postfix anchor did not run)"
	exit 0
fi
read -r pn pr prate pcpm <<< "$res"
printf 'ratio zmta/postfix (delivery rate, higher is better): %.2f  (zmta %.0f msg/s, postfix %.0f msg/s)\n' "$(calc "$mr / $prate")" "$mr" "$prate"
printf 'ratio zmta/postfix (CPU per message, lower is better): %.2f  (zmta scheduler+agents %.3f ms/msg, postfix %.3f ms/msg)\n' "$(calc "$mt / $pcpm")" "$mt" "$pcpm"
exit 0
