#!/bin/sh
# sched-restart.sh - the scheduler killed with SIGKILL in the middle of a
# run and started again finishes the queue: files still locked by a live
# agent of the old scheduler wait, stale locks of dead agents are cleared,
# recipients already marked done in the files are not sent again, and the
# spool ends empty with every message delivered.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd jq
start_aiosmtpd --slow 0.1 || { fail "aiosmtpd"; zt_done; }
scratch_po -H 1
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1s retries="1" expiry=1h idlemax=2s overfeed=3 maxthr=2
smtp/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT"
CF
N=60
for i in $(seq 1 $N); do "$ZT_MKJOB" -P "$PO" -H 1 "slow$i@[127.0.0.1]" > /dev/null; done
check_eq "queued in hash dirs" "$N" "$(find "$PO/transport" -mindepth 2 -type f | wc -l)"
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched1.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 100); do [ "$(aio_msgs)" -ge 10 ] && break; sleep 0.1; done
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
left=$(find "$PO/transport" -type f | wc -l)
info "scheduler killed after $(aio_msgs) messages, $left control files left"
[ "$left" -gt 0 ] && pass "work was left when the scheduler died" || fail "nothing left to test"
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched2.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 600); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "transport/ empty" 0 "$(find "$PO/transport" -type f | wc -l)"
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
distinct=$(jq -r 'select(.ev=="msg") | .rcpt_tos[]' "$AIO_LOG" | sort -u | wc -l)
check_eq "every message delivered" "$N" "$distinct"
total=$(aio_msgs)
[ "$total" -le $((N + 6)) ] && pass "few duplicates ($total transactions for $N)" || fail "$total transactions for $N messages"
check_eq "no reports" 0 "$(find "$PO/router" -type f | wc -l)"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched2.log"
zt_done
