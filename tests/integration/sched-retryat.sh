#!/bin/sh
# sched-retryat.sh - an agent's "retryat +N" is honoured even when it is
# longer than any step of the clause's table (interval=1s, retries="1"):
# +8 and +300 as asked, +7200 bounded by PARAMretryat-max = 10m; the next
# wakeup is read from the queue model (mailq -Q --json) and from the log
# line written when the round closes; no timing is asserted.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
MAILQ=${ZT_MAILQ:-$top_builddir/scheduler/mailq}
need_built "$ZT_SCHED" "$ZT_MKJOB" "$MAILQ"
scratch_po
# the agent answers every recipient of a job with "retryat +$1"
cat > "$ZT_W/later.sh" <<'AG'
#!/bin/bash
secs=$1
echo "#hungry"
while IFS=$'\t' read -r rel host; do
	[ -n "$rel" ] || exit 0
	case $rel in \#*) echo "#hungry"; continue ;; esac
	ino=${rel##*/}
	for off in $(grep -boa '^r' "$rel" | cut -d: -f1); do
		printf '%s/%s\t\tretryat +%s come back later\n' "$ino" "$off" "$secs"
	done
	echo "#hungry"
done
AG
chmod 755 "$ZT_W/later.sh"
cat > "$ZT_W/scheduler.conf" <<CF
PARAMretryat-max = 10m
*/*	interval=1s retries="1" expiry=1d idlemax=5s skew=1
later/*	command="$ZT_W/later.sh 300"
far/*	command="$ZT_W/later.sh 7200"
eight/*	command="$ZT_W/later.sh 8"
CF
j1=$("$ZT_MKJOB" -P "$PO" -c later "a@[127.0.0.1]")
j2=$("$ZT_MKJOB" -P "$PO" -c far "b@[127.0.0.1]")
j3=$("$ZT_MKJOB" -P "$PO" -c eight "c@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
wait_file "$PO/.mailq.sock" 10 || fail "no mailq socket"
for i in $(seq 1 100); do
	[ "$(grep -c 'deferred (attempt 1)' "$ZT_W/sched.log")" -ge 3 ] && break
	sleep 0.1
done
sleep 0.5
# wakeup CHANNEL - seconds until the thread's next attempt, from the model
wakeup() {
	with_timeout 10 "$MAILQ" -P "$PO" -Q --json 2>/dev/null | "$ZT_PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("channel") == sys.argv[1]:
        print(o["wakeup_in"])
' "$1"
}
w1=$(wakeup later)
w2=$(wakeup far)
info "next attempt: later in ${w1}s, far in ${w2}s"
# retryat +300: far beyond the table's 1 s, and honoured (the model's
# clock only moves forward, so it is at most 300)
[ -n "$w1" ] && [ "$w1" -gt 60 ] && [ "$w1" -le 300 ] && pass "retryat +300 honoured (${w1}s)" ||
	fail "retryat +300 not honoured: next attempt in '${w1}'s"
# retryat +7200 with PARAMretryat-max = 10m: bounded by the maximum
[ -n "$w2" ] && [ "$w2" -gt 60 ] && [ "$w2" -le 600 ] && pass "retryat +7200 bounded by PARAMretryat-max (${w2}s)" ||
	fail "retryat +7200: next attempt in '${w2}'s (want <= 600)"
grep -q 'later/\[127.0.0.1\]: next attempt in 300 s as the agent asked' "$ZT_W/sched.log" &&
	pass "hint logged" || fail "hint not logged"
# retryat +8 with interval=1s: the round's wakeup is the agent's 8 s (the
# computed time is logged when the round closes, a second may have passed)
grep -Eq 'eight/\[127.0.0.1\]: next attempt in [5-8] s as the agent asked' "$ZT_W/sched.log" &&
	pass "retryat +8 with interval=1s honoured" || fail "retryat +8 not honoured"
check_eq "one attempt each for the long hints" 2 "$(grep -E -c '(later|far)/.*deferred \(attempt' "$ZT_W/sched.log")"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
