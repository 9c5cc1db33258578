#!/bin/bash
# sched-scan.sh - scheduler start-up scan benchmark.
# Queues 10,000 and 100,000 one-recipient control files spread over 1,000
# hosts (tests/tools/mkjob -q), then runs "scheduler -X" (scan the queue,
# print counts, time, RSS, cost of a scheduling event, exit) twice per size
# and reports the warm run: files/s (target >= 50k/s), RSS bytes per queued
# recipient (target <= 300) and microseconds per scheduling event (should
# not grow from 10k to 100k).  Usage: bench/sched-scan.sh [sizes...]
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/bench/benchlib.sh"
SCHED=$top_builddir/scheduler/scheduler
MKJOB=$top_builddir/tests/tools/mkjob
[ -x "$SCHED" ] && [ -x "$MKJOB" ] || { echo "sched-scan: build scheduler/scheduler and tests/tools/mkjob first" >&2; exit 77; }
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000)
HOSTS=${SCHED_BENCH_HOSTS:-1000}
printf 'size\tfiles/s\tbytes/rcpt\tusec/event\tscan_s\n'
for n in "${SIZES[@]}"; do
	PO=$BL_W/po$n
	mkdir -p "$PO"
	for d in public router queue transport deferred postman freezer; do mkdir -p "$PO/$d"; done
	printf 'POSTOFFICE=%s\nDNS_SERVERS=127.0.0.1:9\n' "$PO" > "$BL_W/zmta.conf"
	export ZCONFIG=$BL_W/zmta.conf
	per=$((n / HOSTS)); [ "$per" -ge 1 ] || per=1
	for h in $(seq 1 "$HOSTS"); do
		"$MKJOB" -P "$PO" -q -m "$per" "u@h$h.bench" > /dev/null || exit 1
	done
	printf '*/*\tinterval=1m retries="1 2 4"\nsmtp/*\tcommand="/bin/true"\n' > "$BL_W/s.conf"
	"$SCHED" -X -f "$BL_W/s.conf" -P "$PO" > "$BL_W/cold.$n" 2>&1
	"$SCHED" -X -f "$BL_W/s.conf" -P "$PO" > "$BL_W/warm.$n" 2>&1
	w=$BL_W/warm.$n
	fps=$(sed -n 's/.*files_per_second \([0-9.]*\).*/\1/p' "$w")
	bpr=$(sed -n 's/.*bytes_per_rcpt \([0-9.]*\).*/\1/p' "$w")
	upe=$(sed -n 's/.*usec_per_event \([0-9.]*\).*/\1/p' "$w")
	sec=$(sed -n 's/.*scan_seconds \([0-9.]*\).*/\1/p' "$w")
	printf '%s\t%s\t%s\t%s\t%s\n' "$((per * HOSTS))" "$fps" "$bpr" "$upe" "$sec"
	[ "${BENCH_VERBOSE:-0}" = 1 ] && cat "$w"
	rm -rf "$PO"
done
