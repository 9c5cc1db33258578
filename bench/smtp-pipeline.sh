#!/bin/bash
# smtp-pipeline.sh - one smtp agent process delivers N one-recipient
# messages (SIZE-byte bodies) for one host over one connection to smtp-sink,
# compared with `smtp-source -d -s 1 -m N -l SIZE` (lockstep, no pipelining)
# against the same sink in the same run.  RUNS runs; prints both rates, the
# ratio, the agent's CPU and context switches (voluntary+involuntary) per
# message, and medians.  Target (issue 13): ratio >= 5.
# smtp-source waits for 4 replies per message (MAIL, RCPT, DATA, dot); the
# agent for one (the DATA's 354 comes only after the previous dot was
# taken), so the ratio is bounded by about 4x the round trip over the
# agent's cycle (its work before the write plus one round trip).
# Env: N (10000) RUNS (5) SIZE (1000) BENCH_KEEP=1 keeps the work dir;
# BENCH_STRACE=1 adds one run of the agent under strace -c -f and prints
# its system calls per message (not timed).
# The agent keeps at most one end-of-data reply outstanding and writes the
# next message's MAIL/RCPT/DATA behind the previous dot (smtp(8), PIPELINING).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-10000}; RUNS=${RUNS:-5}; SIZE=${SIZE:-1000}
SMTP=$top_builddir/transport/smtp/smtp
MKJOB=$top_builddir/tests/tools/mkjob
need smtp-sink smtp-source "$SMTP" "$MKJOB"
start_sink || { echo "smtp-sink did not start"; exit 1; }
DEAD=$(pick_port)
PO=$BL_W/po
echo "POSTOFFICE=$PO" > "$BL_W/zmta.conf"
echo "DNS_SERVERS=127.0.0.1:$DEAD" >> "$BL_W/zmta.conf"
export ZCONFIG=$BL_W/zmta.conf
H='[127.0.0.1]'
echo "# smtp-pipeline: N=$N msgs x ${SIZE}B, 1 rcpt each, 1 host, RUNS=$RUNS, sink 127.0.0.1:$SINK_PORT ($(nproc) cpus)"
ta_rates=(); src_rates=(); ratios=(); cpus=(); csws=()
for r in $(seq 1 "$RUNS"); do
	rm -rf "$PO"
	"$MKJOB" -q -P "$PO" -z "$SIZE" -m "$N" "r@$H" | sed "s/\$/\t$H/" > "$BL_W/jobs" || { echo "mkjob failed"; exit 1; }
	m0=$(sink_mesg)
	t0=$(now)
	( cd "$PO/transport" && /usr/bin/time -f "%U %S %w %c" -o "$BL_W/ta.time" "$SMTP" -c smtp -p "$SINK_PORT" \
		< "$BL_W/jobs" > "$BL_W/ta.out" 2> "$BL_W/ta.err" )
	rc=$?
	t1=$(now)
	ok=$(grep -c $'\tok3' "$BL_W/ta.out")
	sleep 0.3
	m1=$(sink_mesg)
	[ "$ok" -ne "$N" ] && echo "  WARN run $r: agent exit $rc, $ok of $N ok3 ($(grep -v '^#' "$BL_W/ta.out" | grep -v $'\tok3' | head -2 | tr '\t\n' '  '))"
	[ $((m1 - m0)) -ne "$N" ] && echo "  WARN run $r: sink counted $((m1 - m0)) of $N"
	ta=$(calc "$ok / ($t1 - $t0)")
	cpu=$(awk -v n="$N" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$BL_W/ta.time" 2>/dev/null)
	csw=$(awk -v n="$N" '{ printf "%.2f", ($3 + $4) / n }' "$BL_W/ta.time" 2>/dev/null)
	m0=$(sink_mesg)
	t0=$(now)
	smtp-source -d -s 1 -m "$N" -l "$SIZE" -f s@src.test -t r@dst.test -M bench.test "127.0.0.1:$SINK_PORT"
	src_rc=$?
	t1=$(now)
	sleep 0.3
	m1=$(sink_mesg)
	[ "$src_rc" -ne 0 ] && echo "  WARN run $r: smtp-source exit $src_rc"
	[ $((m1 - m0)) -ne "$N" ] && echo "  WARN run $r: sink counted $((m1 - m0)) of $N from smtp-source"
	# smtp-source works in lock step: its wall time covers every reply
	src=$(calc "$N / ($t1 - $t0)")
	ratio=$(calc "$ta / $src")
	printf 'run %d: smtp %8.0f msg/s  smtp-source -d %8.0f msg/s  ratio %5.2f  smtp cpu %s us/msg  %s csw/msg\n' \
		"$r" "$ta" "$src" "$ratio" "$cpu" "$csw"
	ta_rates+=("$ta"); src_rates+=("$src"); ratios+=("$ratio"); cpus+=("$cpu"); csws+=("$csw")
done
if [ "${BENCH_STRACE:-0}" = 1 ] && command -v strace > /dev/null; then
	rm -rf "$PO"
	"$MKJOB" -q -P "$PO" -z "$SIZE" -m "$N" "r@$H" | sed "s/\$/\t$H/" > "$BL_W/jobs"
	( cd "$PO/transport" && strace -c -f -o "$BL_W/strace.txt" "$SMTP" -c smtp -p "$SINK_PORT" \
		< "$BL_W/jobs" > "$BL_W/ta.out" 2> "$BL_W/ta.err" )
	# strace -c rows: % seconds usecs/call calls [errors] syscall
	awk -v n="$N" '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
		t += $4; if ($4 / n >= 0.01) printf "%s %.2f\n", $NF, $4 / n }
		END { printf "total %.2f\n", t / n }' "$BL_W/strace.txt" | sort -k2 -rn |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : "strace: syscalls per message: "), $1, $2 } END { print "" }'
fi
mr=$(median "${ratios[@]}")
verdict=$(awk -v r="$mr" 'BEGIN { print (r >= 5 ? "met" : "NOT met") }')
printf 'SUMMARY smtp-pipeline N=%d size=%d runs=%d: smtp median %.0f msg/s, smtp-source -d median %.0f msg/s, ratio median %.2f (target >= 5: %s), smtp cpu median %s us/msg, %s csw/msg\n' \
	"$N" "$SIZE" "$RUNS" "$(median "${ta_rates[@]}")" "$(median "${src_rates[@]}")" "$mr" "$verdict" "$(median "${cpus[@]}")" "$(median "${csws[@]}")"
