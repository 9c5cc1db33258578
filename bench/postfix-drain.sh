#!/bin/bash
# postfix-drain.sh - the Postfix anchor for bench/sched-deliver.sh: N
# one-recipient messages (SIZE-byte bodies) queue -> smtp-sink through a
# private Postfix instance in DRAIN mode: smtp-source injects them onto the
# hold queue (smtpd access action HOLD), then "postsuper -H ALL; postqueue
# -f" releases them and only the drain (qmgr + smtp clients) is timed, until
# the smtp-sink (-M N) has counted all N.  Postfix CPU is that of every
# Postfix process during the drain (bench/postfix/reaper.py snapshots at
# release and at the end).  RUNS runs, medians.
# Env: N (20000) RUNS (3) SIZE (1000) SESS (10 injecting sessions)
#      TIMEOUT (per phase, s; default 120 + N/50) BENCH_KEEP=1
#      PFX_EXTRA_MAIN_CF='param = value' (one more main.cf line)
# Output: one line per run, then
#   SUMMARY postfix-drain ... rate=R msg/s cpu=C s (M ms/msg) ...
#   PFX_RESULT N RUNS rate_median cpu_ms_per_msg_median   (read by sched-deliver.sh)
# Postfix defaults otherwise (relayhost [127.0.0.1]:sink, one destination,
# default_destination_concurrency_limit 20, default_process_limit 100);
# no DNS (smtp_dns_support_level = disabled).  Needs root and postfix:
# otherwise it says why and exits 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-20000}; RUNS=${RUNS:-3}; SIZE=${SIZE:-1000}; SESS=${SESS:-10}
TIMEOUT=${TIMEOUT:-$((120 + N / 50))}
skip() { echo "SKIP postfix-drain: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (the Postfix master starts as root)"
for c in postfix postsuper postqueue postconf smtp-sink smtp-source /usr/lib/postfix/sbin/master /usr/bin/python3; do
	command -v "$c" > /dev/null 2>&1 || [ -x "$c" ] || skip "missing $c"
done
getent passwd postfix > /dev/null || skip "no postfix user"
. "$top_srcdir/bench/postfix/lib-postfix.sh"
PY=/usr/bin/python3
REAPER=$top_srcdir/bench/postfix/reaper.py
# snap RUFILE - CPU seconds of the reaper's tree so far
snap() {
	local r=$1 pid=$2 i
	rm -f "$r.snap"
	kill -USR1 "$pid" 2>/dev/null || { echo nan; return; }
	for i in $(seq 1 100); do [ -s "$r.snap" ] && break; sleep 0.02; done
	cat "$r.snap" 2>/dev/null || echo nan
}
# elapsed T0 - seconds since T0
elapsed() { calc "$(now) - $1"; }
over() { awk -v a="$1" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }'; }
EXTRA=("smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=HOLD }")
[ -n "${PFX_EXTRA_MAIN_CF:-}" ] && EXTRA+=("$PFX_EXTRA_MAIN_CF")
echo "# postfix-drain: postfix $(postconf -d -h mail_version 2>/dev/null), N=$N msgs x ${SIZE}B, 1 rcpt, RUNS=$RUNS, DRAIN (hold, release, time queue -> sink) ($(nproc) cpus)"
rates=(); cpus=(); cpms=()
for run in $(seq 1 "$RUNS"); do
	D=$BL_W/pfx$run
	mkdir -p "$D"
	SMTPD_PORT=$(pick_port) || skip "no free port"
	while :; do SINK_PORT=$(pick_port); [ "$SINK_PORT" != "$SMTPD_PORT" ] && break; done
	pfx_build "$D" "$SMTPD_PORT" "[127.0.0.1]:$SINK_PORT" "${EXTRA[@]}" || { echo "postfix-drain: pfx_build failed"; exit 1; }
	"$PY" "$REAPER" "$D/sink.ru" "$D/sink.pid" -- \
		smtp-sink "${SINK_USER[@]}" -c -M "$N" "127.0.0.1:$SINK_PORT" 1024 > "$D/sink.out" 2>&1 &
	SINK_R=$!; track "$SINK_R"
	wait_port "$SINK_PORT" || { echo "postfix-drain: smtp-sink did not start"; exit 1; }
	pfx_start "$D" || { echo "postfix-drain: postfix did not start"; exit 1; }
	track "$PFX_REAPER"
	ti=$(now)
	timeout "$TIMEOUT" smtp-source -s "$SESS" -m "$N" -l "$SIZE" -M client.test -f s@src.test -t r@dst.test \
		"127.0.0.1:$SMTPD_PORT" || echo "  WARN run $run: smtp-source exit $?"
	held=0
	while :; do
		held=$(find "$D/queue/hold" -type f | wc -l)
		[ "$held" -ge "$N" ] && break
		over "$ti" && break
		sleep 0.1
	done
	inj=$(calc "$N / $(elapsed "$ti")")
	[ "$held" -ge "$N" ] || echo "  WARN run $run: only $held of $N on hold after ${TIMEOUT}s"
	c0=$(snap "$D/postfix.ru" "$PFX_REAPER")
	t0=$(now)
	postsuper -c "$D/etc" -H ALL > /dev/null 2>&1
	postqueue -c "$D/etc" -f
	ok=1
	while kill -0 "$SINK_R" 2>/dev/null; do
		over "$t0" && { ok=0; break; }
		sleep 0.01
	done
	t1=$(now)
	c1=$(snap "$D/postfix.ru" "$PFX_REAPER")
	pfx_stop
	kill -TERM "$SINK_R" 2>/dev/null; wait "$SINK_R" 2>/dev/null
	got=$(tr '\r' '\n' < "$D/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
	[ "$ok" = 1 ] || echo "  WARN run $run: timed out after ${TIMEOUT}s, sink counted ${got:-?} of $N"
	wall=$(calc "$t1 - $t0")
	rate=$(calc "$N / $wall")
	cpu=$(calc "$c1 - $c0")
	cpm=$(calc "$cpu * 1000 / $N")
	whole=$(awk '{ printf "%.2f", $1 + $2 }' "$D/postfix.ru" 2>/dev/null)
	sent=$(grep -c ' status=sent ' "$D/maillog" 2>/dev/null)
	printf 'run %d: postfix drain %6.0f msg/s (%.2f s)  cpu %.2f s = %.3f ms/msg  [inject %.0f msg/s, whole-run postfix cpu %s s, logged sent %s, sink %s]\n' \
		"$run" "$rate" "$wall" "$cpu" "$cpm" "$inj" "$whole" "${sent:-0}" "${got:-?}"
	if [ "$ok" = 1 ]; then rates+=("$rate"); cpus+=("$cpu"); cpms+=("$cpm"); fi
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$D"
done
[ ${#rates[@]} -gt 0 ] || { echo "SUMMARY postfix-drain N=$N: no complete run"; exit 1; }
mr=$(median "${rates[@]}"); mc=$(median "${cpus[@]}"); mm=$(median "${cpms[@]}")
printf 'SUMMARY postfix-drain N=%d size=%d runs=%d: rate=%.0f msg/s cpu=%.2f s (%.3f ms/msg)  [rates: %s]\n' \
	"$N" "$SIZE" "${#rates[@]}" "$mr" "$mc" "$mm" "$(printf '%.0f ' "${rates[@]}")"
echo "PFX_RESULT $N ${#rates[@]} $mr $mm"
# for sched-deliver.sh run next by the same parent (bench/run-all.sh): it
# reuses this instead of running Postfix a second time
[ "$PPID" -gt 1 ] && [ -z "${PFX_NO_RESULT_FILE:-}" ] && echo "PFX_RESULT $N ${#rates[@]} $mr $mm" > "/tmp/zbench-postfix-drain.$PPID.$N.$SIZE"
exit 0
