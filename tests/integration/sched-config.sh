#!/bin/sh
# sched-config.sh - scheduler -n checks scheduler.conf: a good file exits 0,
# an unknown keyword exits EX_CONFIG (78) naming file and line, and the
# daemon refuses to start with the same message; SIGUSR1 with a broken file
# keeps the old configuration; ETRN files start a queueonly thread.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
PO=$ZT_W/po
mk_postoffice "$PO"
write_zconf "$ZT_W/zmta.conf" "POSTOFFICE=$PO"
start_sink_nodump
cat > "$ZT_W/good.conf" <<CF
*/*	interval=1s retries="1" expiry=1h idlemax=2s
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
	queueonly
CF
printf '*/*\tinterval=1m\nsmtp/*\tcommand="smtp"\n\tfrobnicate=3\n' > "$ZT_W/bad.conf"
"$ZT_SCHED" -n -f "$ZT_W/good.conf" > "$ZT_W/n1.out" 2>&1
check_eq "-n good config exit" 0 "$?"
"$ZT_SCHED" -n -f "$ZT_W/bad.conf" > "$ZT_W/n2.out" 2>&1
check_eq "-n bad config exit (EX_CONFIG)" 78 "$?"
check_match "-n names file and line" 'bad.conf:3:.*frobnicate' "$(cat "$ZT_W/n2.out")"
"$ZT_SCHED" -i -f "$ZT_W/bad.conf" -P "$PO" > "$ZT_W/start.out" 2>&1
check_eq "daemon refuses a bad config" 78 "$?"
check_match "daemon names file and line" 'bad.conf:3:' "$(cat "$ZT_W/start.out")"
"$ZT_SCHED" -n -f "$ZT_W/missing.conf" > "$ZT_W/n3.out" 2>&1
check_eq "-n missing explicit config" 78 "$?"

# queueonly: nothing is sent until an ETRN file arrives
j=$("$ZT_MKJOB" -P "$PO" "q@[127.0.0.1]")
cp "$ZT_W/good.conf" "$ZT_W/run.conf"
"$ZT_SCHED" -i -f "$ZT_W/run.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
sleep 1.5
[ -e "$PO/transport/$j" ] && pass "queueonly thread waits" || fail "queueonly thread ran"
cp "$ZT_W/bad.conf" "$ZT_W/run.conf"
kill -USR1 "$SPID"
sleep 0.5
grep -q 'config reload refused' "$ZT_W/sched.log" && pass "bad reload refused" || fail "bad reload not refused"
cp "$ZT_W/good.conf" "$ZT_W/run.conf"
kill -USR1 "$SPID"
sleep 0.5
grep -q 'configuration reloaded' "$ZT_W/sched.log" && pass "good reload accepted" || fail "good reload not logged"
[ -e "$PO/transport/$j" ] && pass "still queueonly after reload" || fail "queueonly lost on reload"
printf 'T [127.0.0.1] 127.0.0.1\n' > "$PO/transport/..etrn-x"
mv "$PO/transport/..etrn-x" "$PO/transport/77-etrn"
for i in $(seq 1 150); do [ ! -e "$PO/transport/$j" ] && break; sleep 0.1; done
[ ! -e "$PO/transport/$j" ] && pass "ETRN file started the queueonly thread" || fail "ETRN did not deliver"
[ ! -e "$PO/transport/77-etrn" ] && pass "ETRN file removed" || fail "ETRN file left"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log" "$ZT_W/n2.out"
zt_done
