#!/bin/sh
# sched-agentkill.sh - an agent killed with SIGKILL in the middle of a run
# loses nothing: its unreported recipients are looked up in the control
# file (a '~' lock of the dead agent is cleared), deferred and retried;
# every message reaches the (slow) aiosmtpd peer, at most the one in
# flight twice, and the spool ends empty.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd jq
start_aiosmtpd --slow 0.3 || { fail "aiosmtpd"; zt_done; }
scratch_po
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1s retries="1" expiry=1h idlemax=2s overfeed=4
smtp/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT"
CF
N=20
for i in $(seq 1 $N); do "$ZT_MKJOB" -P "$PO" "slow$i@[127.0.0.1]" > /dev/null; done
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
# wait for a few deliveries, then kill the agent (our scheduler's child)
for i in $(seq 1 100); do [ "$(aio_msgs)" -ge 3 ] && break; sleep 0.1; done
sleep 0.15
apid=$(pgrep -P "$SPID" | head -1)
if [ -n "$apid" ]; then
	kill -KILL "$apid"
	pass "killed agent $apid after $(aio_msgs) messages"
else
	fail "no agent process found"
fi
for i in $(seq 1 400); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "transport/ empty" 0 "$(find "$PO/transport" -type f | wc -l)"
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
distinct=$(jq -r 'select(.ev=="msg") | .rcpt_tos[]' "$AIO_LOG" | sort -u | wc -l)
total=$(aio_msgs)
check_eq "every message delivered" "$N" "$distinct"
[ "$total" -le $((N + 1)) ] && pass "at most one duplicate ($total transactions)" || fail "$total transactions for $N messages"
grep -q 'killed by signal 9' "$ZT_W/sched.log" && pass "agent death logged" || fail "agent death not logged"
check_eq "no failures" 0 "$(find "$PO/router" -type f | wc -l)"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
