#!/bin/sh
# sched-hostile.sh - bad input and faulty agents: hostile or truncated
# control files and one without its body end in postman/ with a .reason
# (never unlinked); an agent that writes garbage, reports unknown offsets
# and crashes, and one that hangs, get their recipients deferred (never
# counted delivered, nothing lost); mailq shows the queue; a good message
# is still delivered.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
need_cmd socat
start_sink_nodump
scratch_po
# agents for the fault cases
cat > "$ZT_W/crash.sh" <<'AG'
#!/bin/sh
echo "#hungry"
read -r job || exit 0
echo "this is not the protocol"
printf '%s\n' "1/1	x	ok all delivered (a lie about an unknown recipient)"
echo "# about to crash"
exit 70
AG
cat > "$ZT_W/hang.sh" <<'AG'
#!/bin/sh
echo "#hungry"
read -r job || exit 0
exec sleep 600
AG
cat > "$ZT_W/spam.sh" <<'AG'
#!/bin/sh
echo "#hungry"
read -r job || exit 0
yes '# spam spam spam spam spam spam spam spam' | head -n 200000
exec sleep 600
AG
chmod 755 "$ZT_W/crash.sh" "$ZT_W/hang.sh" "$ZT_W/spam.sh"
cat > "$ZT_W/scheduler.conf" <<CF
PARAMmax-ta-silence = 2s
*/*	interval=1h retries="1" expiry=1d idlemax=2s
crash/*	command="$ZT_W/crash.sh"
hang/*	command="$ZT_W/hang.sh"
spam/*	command="$ZT_W/spam.sh"
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
good=$("$ZT_MKJOB" -P "$PO" "good@[127.0.0.1]")
crash=$("$ZT_MKJOB" -P "$PO" -c crash "c@[127.0.0.1]")
hang=$("$ZT_MKJOB" -P "$PO" -c hang "h@[127.0.0.1]")
spam=$("$ZT_MKJOB" -P "$PO" -c spam "s@[127.0.0.1]")
# hostile control files (with bodies, so both must be kept)
printf 'garbage\001\002 not a control file\n' > "$PO/transport/1234501"
printf 'x\n' > "$PO/queue/1234501"
head -c 40 "$PO/transport/$good" > "$PO/transport/1234502"; printf 'x\n' > "$PO/queue/1234502"
sed 's/^@ 0x00000007/@ 0x000000ff/' "$PO/transport/$good" > "$PO/transport/1234503"; printf 'x\n' > "$PO/queue/1234503"
nb=$("$ZT_MKJOB" -P "$PO" "nobody@[127.0.0.1]"); rm -f "$PO/queue/$nb"

"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 100); do [ ! -e "$PO/transport/$good" ] && break; sleep 0.1; done
check_eq "good message delivered" 0 "$(find "$PO/transport/$good" 2>/dev/null | wc -l)"
for n in 1234501 1234502 1234503 "$nb"; do
	r=$(grep -l "^control: transport/$n\$" "$PO"/postman/*.reason 2>/dev/null | head -1)
	if [ -n "$r" ]; then pass "$n quarantined: $(head -1 "$r")"; else fail "$n not in postman/"; fi
done
r=$(grep -l '^control: transport/1234501$' "$PO"/postman/*.reason 2>/dev/null | head -1)
[ -n "$r" ] && [ -f "${r%.reason}.body" ] && pass "hostile file's body kept" || fail "body of 1234501 lost"
check_eq "no control file left for the hostile ones" 0 "$(ls "$PO/transport" | grep -c '^123450')"
# crash agent: deferred, still queued
for i in $(seq 1 60); do grep -q "h@\|offset.*deferred.*silent" "$ZT_W/sched.log" && grep -q 'silent too long' "$ZT_W/sched.log" && break; sleep 0.1; done
[ -e "$PO/transport/$crash" ] && pass "crashed agent's message still queued" || fail "crashed agent's message gone"
check_eq "crashed agent's recipient not marked done" _ "$(ctl_tags "$PO/transport/$crash")"
grep -q 'report for unknown or not fed recipient' "$ZT_W/sched.log" && pass "unknown offset logged" || fail "unknown offset not logged"
grep -q 'exited with EX_SOFTWARE' "$ZT_W/sched.log" && pass "agent exit code logged" || fail "exit code not logged"
[ -e "$PO/transport/$hang" ] && pass "hung agent's message still queued" || fail "hung agent's message gone"
grep -q 'silent too long' "$ZT_W/sched.log" && pass "hung agent killed" || fail "hung agent not killed"
check_eq "hung agent's recipient unlocked" _ "$(ctl_tags "$PO/transport/$hang")"
grep -q 'floods its output: killing it' "$ZT_W/sched.log" && pass "flooding agent killed" || fail "flooding agent not killed"
[ -e "$PO/transport/$spam" ] && pass "flooding agent's message still queued" || fail "flooding agent's message gone"
check_eq "flooding agent's recipient not done" _ "$(ctl_tags "$PO/transport/$spam")"
out=$(mailq_cmd "UNIX-CONNECT:$PO/.mailq.sock" 'SHOW QUEUE SHORT' 'SHOW QUEUE THREADS' \
	'SHOW THREAD crash [127.0.0.1]' 'BOGUS cmd')
check_match "mailq short lists the crash message" "crash/\[127\.0\.0\.1\] c@\[127\.0\.0\.1\] A=1" "$out"
check_match "mailq threads line" 'hang/\[127\.0\.0\.1\]/0 R=1' "$out"
check_match "mailq unknown command" "^-MAILQ2 Unknown command" "$out"
if [ -x "$top_builddir/scheduler/mailq" ]; then
	"$top_builddir/scheduler/mailq" -P "$PO" > "$ZT_W/mailq.out" 2>&1 || true
	grep -q 'c@\[127.0.0.1\]\|crash' "$ZT_W/mailq.out" && pass "mailq(1) shows the queue" ||
		fail "mailq(1) output: $(head -5 "$ZT_W/mailq.out" | tr '\n' '|')"
fi
# mailq clients that never read their answers (thousands of commands) or
# send garbage (binary, an endless line) do not stop the scheduler
cat > "$ZT_W/mqhog.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setblocking(False)
data = (b"SHOW QUEUE THREADS\nSHOW QUEUE SHORT\n" * 5000) if sys.argv[2] == "hog" else \
	(b"\x00\xff garbage \x01\r\n" * 100 + b"x" * 300000)
try:
	while data:
		data = data[s.send(data):]
except BlockingIOError:
	pass
time.sleep(8)
PY
"$ZT_PY" "$ZT_W/mqhog.py" "$PO/.mailq.sock" hog & HOG=$!; track "$HOG"
"$ZT_PY" "$ZT_W/mqhog.py" "$PO/.mailq.sock" junk & JUNK=$!; track "$JUNK"
sleep 1
out=$(mailq_cmd "UNIX-CONNECT:$PO/.mailq.sock" 'SHOW COUNTERS')
check_match "mailq answers while a client does not read" 'threads' "$out"
kill -0 "$SPID" 2>/dev/null && pass "scheduler survives hostile mailq clients" || fail "scheduler died (mailq clients)"
stop_pid "$HOG"; stop_pid "$JUNK"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
