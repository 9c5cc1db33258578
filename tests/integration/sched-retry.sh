#!/bin/sh
# sched-retry.sh - a destination that refuses connections is retried on the
# clause's schedule (interval 1s, retries "1 1"), then expires (expiry 6s)
# with an RFC 3464 report submitted into router/; a recipient asking
# NOTIFY=DELAY also gets a delay report first; transport/ and queue/ end
# empty; the attempt count is kept in the DELAY slot while queued, so a
# message past its expiry is expired at once by a restarted scheduler.
# (PARAMretryat-max = 1s cuts the smtp agent's "retryat +60" after a
# refused connection, so that the table's schedule shows.)
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd socat
dead_tcp_port || { fail "no dead port"; zt_done; }
scratch_po
cat > "$ZT_W/scheduler.conf" <<CF
PARAMdelay-warning = 2s
PARAMexpire-sweep = 1s
PARAMretryat-max = 1s
*/*	interval=1s retries="1 1" expiry=6s idlemax=2s skew=5
smtp/*	command="$ZT_SMTP -c \$channel -p $DEAD_TCP_PORT"
CF
j1=$("$ZT_MKJOB" -P "$PO" -f sender@src.test "r1@[127.0.0.1]")
j2=$("$ZT_MKJOB" -P "$PO" -f other@src.test -N FAILURE,DELAY "r2@[127.0.0.1]")
j3=$("$ZT_MKJOB" -P "$PO" -f '' "r3@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" -l "$ZT_W/stat.log" &
SPID=$!
track "$SPID"
slot=
for i in $(seq 1 100); do
	[ -e "$PO/transport/$j1" ] || break
	slot=$(grep -a '^r' "$PO/transport/$j1" | cut -c9-12 | tr -d ' ')
	[ -n "$slot" ] && break
	sleep 0.05
done
[ -n "$slot" ] && [ "$slot" -ge 1 ] && pass "attempts recorded in the DELAY slot ($slot)" || fail "DELAY slot: '$slot'"
for i in $(seq 1 300); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "transport/ empty" 0 "$(find "$PO/transport" -type f | wc -l)"
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
# every message tried, and retried on the schedule (how many rounds fit
# before the expiry depends on the machine's speed: no count is asserted)
check_eq "every message was tried" 3 \
	"$(sed -nE 's/.*\]: (S[0-9A-Za-z]+): info: .* deferred \(attempt 1\).*/\1/p' "$ZT_W/sched.log" | sort -u | wc -l)"
grep -q 'deferred (attempt [2-9])' "$ZT_W/sched.log" && pass "messages were retried" || fail "no retry before the expiry"
check_eq "three expiries in the statistics log" 3 "$(grep -c ' expire ' "$ZT_W/stat.log")"
f1=$(grep -l 'To: <\?sender@src.test' "$PO"/router/* 2>/dev/null | head -1)
[ -n "$f1" ] && pass "failure report for sender@src.test" || fail "no report for sender@src.test"
if [ -n "$f1" ]; then
	c=$(cat "$f1")
	check_match "report: null sender envelope" '^channel error' "$c"
	check_match "report: multipart/report" 'multipart/report' "$c"
	check_match "report: Action failed" 'Action: failed' "$c"
	check_match "report: Status 4.4.7" 'Status: 4\.4\.7' "$c"
	check_match "report: Final-Recipient" 'Final-Recipient: rfc822; ?r1@\[127\.0\.0\.1\]' "$c"
fi
dl=$(grep -l 'Action: delayed' "$PO"/router/* 2>/dev/null | head -1)
[ -n "$dl" ] && pass "delay report for NOTIFY=DELAY" || fail "no delay report"
[ -n "$dl" ] && check_match "delay report: Will-Retry-Until" 'Will-Retry-Until:' "$(cat "$dl")"
check_eq "no delay report for NOTIFY default" 1 "$(grep -l 'Action: delayed' "$PO"/router/* 2>/dev/null | wc -l)"
df=$(grep -l 'Double-fault' "$PO"/router/* 2>/dev/null | head -1)
[ -n "$df" ] && pass "null sender: double fault to postmaster" || fail "no double-fault report"
check_eq "report count (2 failures, 1 delay, 1 double fault)" 4 "$(find "$PO/router" -type f | wc -l)"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# restart: the attempt count kept in the control file lets expiry happen
# on time without a new attempt after the restart
nrep=$(ls "$PO/router" | wc -l)
j4=$("$ZT_MKJOB" -P "$PO" -f late@src.test "r4@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched2.log" &
SPID=$!
track "$SPID"
slot=
for i in $(seq 1 100); do
	slot=$(grep -a '^r' "$PO/transport/$j4" 2>/dev/null | cut -c9-12 | tr -d ' ')
	[ -n "$slot" ] && break
	sleep 0.05
done
kill -KILL "$SPID"; wait "$SPID" 2>/dev/null
[ -n "$slot" ] && pass "attempt recorded before the crash ($slot)" || fail "no attempt recorded"
# wait until the message is past its expiry
arr=$(stat -c %Y "$PO/queue/$j4")
while [ "$(date +%s)" -le $((arr + 7)) ]; do sleep 0.2; done
sleep 0.5
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched3.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 100); do [ ! -e "$PO/transport/$j4" ] && break; sleep 0.1; done
wait_spool_empty "$PO" 50
check_eq "expired at start-up" 0 "$(find "$PO/transport" "$PO/queue" -type f | wc -l)"
check_eq "no new attempt after the restart" 0 "$(grep -c 'deferred (attempt' "$ZT_W/sched3.log")"
check_eq "its report was submitted" $((nrep + 1)) "$(ls "$PO/router" | wc -l)"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
