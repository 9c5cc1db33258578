#!/bin/sh
# sched-ctlcheck.sh - what the scheduler checks when it reads a control
# file: an 'i' line naming another message's body sends the file to
# postman/ (with a reason) and the other message's body is untouched; a
# recipient locked by a live process that is not one of the scheduler's
# agents (pid 1) is not parked forever: the stale lock is cleared and the
# recipient is delivered, and a message past its expiry with such a lock
# is expired with a report.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
start_sink_nodump
scratch_po
# hold: never started (queueonly), so its message and body stay queued
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1h retries="1" expiry=1d idlemax=2s
hold/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT" queueonly
late/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT" expiry=2s expiry2=1s
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
# lock_pid1 JOB - tag '~' and pid 1 in the slot of the first r line
lock_pid1() {
	local f=$PO/transport/$1 off
	off=$(ctl_rcpt_offsets "$f" | head -1)
	printf '~     1' | dd of="$f" bs=1 seek=$((off + 1)) conv=notrunc 2>/dev/null
}
victim=$("$ZT_MKJOB" -P "$PO" -c hold -f v@src.test "v@[127.0.0.1]")
thief=$("$ZT_MKJOB" -P "$PO" -f t@src.test "t@[127.0.0.1]")
sed -i "s/^i $thief\$/i $victim/" "$PO/transport/$thief"
grep -aq "^i $victim\$" "$PO/transport/$thief" || fail "setup: i line not rewritten"
locked=$("$ZT_MKJOB" -P "$PO" -f l@src.test "l@[127.0.0.1]")
lock_pid1 "$locked"
check_eq "setup: recipient locked by pid 1" '~     1' "$(dd if="$PO/transport/$locked" bs=1 skip=$(($(ctl_rcpt_offsets "$PO/transport/$locked" | head -1) + 1)) count=7 2>/dev/null)"
old=$("$ZT_MKJOB" -P "$PO" -c late -f o@src.test "o@[127.0.0.1]")
lock_pid1 "$old"
touch -d '1 hour ago' "$PO/queue/$old"

"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 150); do
	[ ! -e "$PO/transport/$locked" ] && [ ! -e "$PO/transport/$old" ] &&
		grep -q "^control: transport/$thief\$" "$PO"/postman/*.reason 2>/dev/null && break
	sleep 0.1
done
# the body thief
r=$(grep -l "^control: transport/$thief\$" "$PO"/postman/*.reason 2>/dev/null | head -1)
if [ -n "$r" ]; then
	pass "control file naming another body quarantined"
	check_match "reason names the 'i' line" "'i' line names body \"$victim\"" "$(cat "$r")"
else
	fail "control file naming another body not in postman/"
fi
[ -f "$PO/queue/$victim" ] && pass "the other message's body is untouched" || fail "queue/$victim was removed"
[ -f "$PO/transport/$victim" ] && pass "the other message is still queued" || fail "transport/$victim gone"
# the lock of pid 1
[ ! -e "$PO/transport/$locked" ] && pass "recipient locked by pid 1 was not parked" || fail "message with pid-1 lock still queued"
grep -q "cleared stale lock of foreign process 1" "$ZT_W/sched.log" && pass "stale foreign lock logged" || fail "no log of the cleared lock"
check_eq "it was delivered" 1 "$(grep -c "offset [0-9]*: ok" "$ZT_W/sched.log")"
# expiry applies to a locked recipient
[ ! -e "$PO/transport/$old" ] && pass "locked message past its expiry finished" || fail "locked message past its expiry still queued"
f=$(grep -l '^To: <\?o@src.test' "$PO"/router/* 2>/dev/null | head -1)
[ -n "$f" ] && check_match "expiry report for it" 'Action: failed' "$(cat "$f")" || fail "no expiry report for o@src.test"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
