#!/bin/sh
# sched-config.sh - scheduler -n checks scheduler.conf: a good file exits 0,
# an unknown keyword exits EX_CONFIG (78) naming file and line, and the
# daemon refuses to start with the same message; SIGUSR1 with a broken file
# keeps the old configuration; ETRN files start a queueonly thread.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
need_cmd socat
scratch_po
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
# ETRN over the mailq socket
j2=$("$ZT_MKJOB" -P "$PO" "q2@[127.0.0.1]")
sched_notify "$j2"
sleep 1
[ -e "$PO/transport/$j2" ] && pass "second queueonly message waits" || fail "second queueonly message ran"
out=$(mailq_cmd "UNIX-CONNECT:$PO/.mailq.sock" 'ETRN [127.0.0.1]')
check_match "mailq ETRN reply" 'ETRN started something' "$out"
for i in $(seq 1 100); do [ ! -e "$PO/transport/$j2" ] && break; sleep 0.1; done
[ ! -e "$PO/transport/$j2" ] && pass "mailq ETRN delivered it" || fail "mailq ETRN did not deliver"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# TCP mailq only with PARAMmailqsock=TCP:... and a readable auth file;
# AUTH is required, attributes limit the commands
MQP=$(pick_port)
printf 'ops:secret:QQ TT SNMP:[127.0.0.1]/32\nnobody:nobody:SNMP:[127.0.0.0]/8\n' > "$ZT_W/auth"
chmod 600 "$ZT_W/auth"
{ printf 'PARAMmailqsock = "TCP:%s@127.0.0.1"\nPARAMauthfile = "%s"\n' "$MQP" "$ZT_W/auth"; cat "$ZT_W/good.conf"; } > "$ZT_W/tcp.conf"
"$ZT_SCHED" -i -f "$ZT_W/tcp.conf" -P "$PO" -L "$ZT_W/sched-tcp.log" &
SPID=$!
track "$SPID"
wait_port "$MQP" 10 && pass "TCP mailq listening on 127.0.0.1" || fail "no TCP mailq listener"
check_eq "TCP mailq bound to loopback only" 0 "$(ss -Hltn "sport = :$MQP" | grep -vc '127.0.0.1')"
out=$(mailq_cmd "TCP:127.0.0.1:$MQP" 'SHOW COUNTERS')
check_match "TCP: challenge" '^220 MAILQ-V2-HMAC-SHA256 [0-9a-f]{64}$' "$(printf '%s' "$out" | sed -n 2p)"
check_match "TCP: command before AUTH refused" 'USER MUST AUTHENTICATE' "$out"
if [ -x "$top_builddir/scheduler/mailq" ]; then
	MAILQ_AUTH=ops:secret "$top_builddir/scheduler/mailq" -P "$PO" -p "127.0.0.1:$MQP" -Q > "$ZT_W/mq1.out" 2>&1
	check_eq "mailq(1) over TCP with AUTH" 0 "$?"
	MAILQ_AUTH=ops:wrong "$top_builddir/scheduler/mailq" -P "$PO" -p "127.0.0.1:$MQP" -Q > "$ZT_W/mq2.out" 2>&1
	[ "$?" != 0 ] && pass "mailq(1) with a wrong password refused" || fail "wrong password accepted"
	MAILQ_AUTH=nobody:nobody "$top_builddir/scheduler/mailq" -P "$PO" -p "127.0.0.1:$MQP" -E example.test > "$ZT_W/mq3.out" 2>&1
	grep -q 'refused by access control' "$ZT_W/mq3.out" && pass "ETRN refused without the ETRN attribute" ||
		fail "ETRN without attribute: $(cat "$ZT_W/mq3.out")"
fi
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log" "$ZT_W/n2.out"
zt_done
