#!/bin/sh
# sched-interim.sh - a message with one permanently failing and one
# temporarily failing recipient: the failure is reported while the other
# recipient is still queued (PARAMglobal-report-interval), exactly once,
# and the final report after expiry carries only the expired recipient.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
start_aiosmtpd || { fail "aiosmtpd"; zt_done; }
scratch_po
cat > "$ZT_W/scheduler.conf" <<CF
PARAMglobal-report-interval = 2s
*/*	interval=1s retries="1" expiry=8s idlemax=2s
smtp/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT"
CF
j=$("$ZT_MKJOB" -P "$PO" -f snd@src.test "rcpt-perm1@[127.0.0.1]" "rcpt-temp1@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 60); do [ -n "$(ls "$PO/router")" ] && break; sleep 0.1; done
[ -e "$PO/transport/$j" ] && pass "message still queued for the deferred recipient" || fail "message gone early"
r1=$(ls "$PO/router" | head -1)
[ -n "$r1" ] && pass "interim report submitted" || fail "no interim report"
if [ -n "$r1" ]; then
	c=$(cat "$PO/router/$r1")
	check_match "interim: failed recipient" 'Final-Recipient: rfc822; ?rcpt-perm1@' "$c"
	check_nomatch "interim: not the queued one" 'Final-Recipient: rfc822; ?rcpt-temp1@' "$c"
fi
for i in $(seq 1 200); do [ ! -e "$PO/transport/$j" ] && break; sleep 0.1; done
wait_spool_empty "$PO" 50
check_eq "spool empty after expiry" 0 "$(find "$PO/transport" "$PO/queue" -type f | wc -l)"
check_eq "two reports in all" 2 "$(ls "$PO/router" | wc -l)"
r2=$(ls -t "$PO/router" | head -1)
if [ -n "$r2" ] && [ "$r2" != "$r1" ]; then
	c=$(cat "$PO/router/$r2")
	check_match "final: expired recipient" 'Final-Recipient: rfc822; ?rcpt-temp1@' "$c"
	check_nomatch "final: no repeat of the first" 'Final-Recipient: rfc822; ?rcpt-perm1@' "$c"
fi
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
