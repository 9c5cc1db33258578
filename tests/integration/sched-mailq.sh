#!/bin/sh
# sched-mailq.sh - the mailq(1) client against a running scheduler:
#   mailq            one block per message (spool id line, a TAB line per
#                    recipient with channel/host, address, A= and W=);
#   mailq -Q         one line per thread (R= A= W=) and the summary lines;
#   mailq -s         the counters (msgs, threads, rcpts...);
#   --json           every line of the listing, -Q, -s and -h output is one
#                    JSON object (parsed with python3) with the documented
#                    fields;
#   -h host -c ch    SHOW THREAD: the vertices of one thread, only that
#                    channel's;
#   -E host          ETRN starts a queueonly thread at once: its message
#                    reaches the peer, which the retry timer never does;
#   -K spoolid       the message leaves transport/ and queue/ and is kept in
#                    postman/ (<ino>.killed), no report; an unknown id
#                    exits 1;
#   no scheduler     exit 69 with "cannot connect to the scheduler".
ZT_TIMEOUT=${ZT_TIMEOUT:-58}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
MAILQ=${ZT_MAILQ:-$top_builddir/scheduler/mailq}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB" "$MAILQ"
need_cmd socat
start_aiosmtpd || { fail "aiosmtpd did not start"; zt_done; }
dead_tcp_port || { fail "no dead port"; zt_done; }
scratch_po
# smtp: a refusing destination with a long interval (messages stay queued);
# hold: queueonly, delivered to the peer only on ETRN
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=30s retries="1" expiry=1h idlemax=5s
hold/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT" queueonly
smtp/*	command="$ZT_SMTP -c \$channel -p $DEAD_TCP_PORT"
CF
j1=$("$ZT_MKJOB" -P "$PO" -f alice@src.test "r1@[127.0.0.1]" "r2@[127.0.0.1]")
j2=$("$ZT_MKJOB" -P "$PO" -f bob@src.test "r3@[127.0.0.1]")
j3=$("$ZT_MKJOB" -P "$PO" -c hold -f carol@src.test "h1@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
wait_file "$PO/.mailq.sock" 10 || fail "no mailq socket"
# mq ARGS... - run mailq bounded; output in $out, status in $mrc
mq() { out=$(with_timeout 10 "$MAILQ" -P "$PO" "$@" 2>&1); mrc=$?; }
# jsonok - every stdin line is a JSON object
jsonok() { "$ZT_PY" -c 'import json,sys
n = 0
for l in sys.stdin:
    o = json.loads(l); assert isinstance(o, dict); n += 1
assert n > 0
print(n)'; }
# wait until the refused attempts were made (the smtp thread is in retry wait)
for i in $(seq 1 100); do
	grep -q 'deferred (attempt' "$ZT_W/sched.log" && break
	sleep 0.1
done
sleep 0.3
spool1=$(sed -nE "s/.*\\]: (S[0-9A-Za-z]+): info: queued $j1:.*/\\1/p" "$ZT_W/sched.log" | head -1)
[ -n "$spool1" ] || spool1=$(with_timeout 10 "$MAILQ" -P "$PO" --json | "$ZT_PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if any(r["addr"] == "r1@[127.0.0.1]" for r in o["rcpts"]): print(o["spoolid"])')
check_match "spool id of the first message" '^S[0-9A-Za-z]+$' "$spool1"

# --- the listing --------------------------------------------------------------
mq
check_eq "mailq: exit status" 0 "$mrc"
check_match "mailq: message line" "^$spool1 [^ ]+ [0-9]+ .* alice@src\\.test\$" "$(printf '%s\n' "$out" | grep "^$spool1 ")"
check_match "mailq: recipient line" $'^\tsmtp/\\[127\\.0\\.0\\.1\\] r1@\\[127\\.0\\.0\\.1\\] A=[01] W=[0-9]+' \
	"$(printf '%s\n' "$out" | grep 'r1@')"
# the agent's deferall after the refused connection ends the round: the
# message it was given has A=1 and the diagnostic, the others A=0
check_match "mailq: attempt and diagnostic shown" 'A=1 W=[0-9]+ .*([Rr]efused|connect)' \
	"$(printf '%s\n' "$out" | grep $'^\t')"
check_eq "mailq: hold recipient never tried" 1 "$(printf '%s\n' "$out" | grep -c $'^\thold/\\[127\\.0\\.0\\.1\\] h1@\\[127\\.0\\.0\\.1\\] A=0 ')"
check_eq "mailq: three message blocks" 3 "$(printf '%s\n' "$out" | grep -c '^S')"
check_eq "mailq: four recipient lines" 4 "$(printf '%s\n' "$out" | grep -c $'^\t')"
mq --json
check_eq "mailq --json: status" 0 "$mrc"
check_eq "mailq --json: every line is a JSON object" 3 "$(printf '%s\n' "$out" | jsonok)"
chk=$(printf '%s\n' "$out" | "$ZT_PY" -c '
import json, sys
m = {}
for l in sys.stdin:
    o = json.loads(l)
    m[o["spoolid"]] = o
    for k in ("msgid", "arrival", "size", "sender", "rcpts"): assert k in o, k
    for r in o["rcpts"]:
        for k in ("addr", "channel", "host", "attempts", "wakeup", "diag"): assert k in r, k
o = m[sys.argv[1]]
print(o["sender"], len(o["rcpts"]), sorted(r["addr"] for r in o["rcpts"]),
      o["rcpts"][0]["channel"], o["rcpts"][0]["host"], o["rcpts"][0]["attempts"] in (0, 1))
' "$spool1" 2>&1)
check_eq "mailq --json: fields of the first message" \
	"alice@src.test 2 ['r1@[127.0.0.1]', 'r2@[127.0.0.1]'] smtp [127.0.0.1] True" "$chk"

# --- threads ------------------------------------------------------------------
mq -Q
check_eq "mailq -Q: status" 0 "$mrc"
check_match "mailq -Q: the smtp thread" '^smtp/\[127\.0\.0\.1\]/[^ ]* R=3 A=[1-9][0-9]* .*W=[0-9]+s retry wait' \
	"$(printf '%s\n' "$out" | grep '^smtp/')"
check_match "mailq -Q: the queueonly thread" '^hold/\[127\.0\.0\.1\]/[^ ]* R=1 A=0 ' \
	"$(printf '%s\n' "$out" | grep '^hold/')"
check_match "mailq -Q: summary" 'Threads: 2 Msgs: 3 ' "$out"
check_match "mailq -Q: second summary" 'Kids: [0-9]+ Idle: [0-9]+ Msgs: 3 Thrds: 2 Rcpnts: 4 Uptime: ' "$out"
mq -Q --json
check_eq "mailq -Q --json: every line is a JSON object" 3 "$(printf '%s\n' "$out" | jsonok)"
chk=$(printf '%s\n' "$out" | "$ZT_PY" -c '
import json, sys
res = []
for l in sys.stdin:
    o = json.loads(l)
    if "summary" in o:
        s = o["summary"]; res.append("summary %d %d" % (s["threads"], s["msgs"]))
        for k in ("procs", "idle", "uptime"): assert k in s, k
    else:
        for k in ("channel", "host", "rcpts", "attempts", "procs", "state", "unfed", "age", "wakeup_in", "pending"):
            assert k in o, k
        res.append("%s %s %d %s" % (o["channel"], o["host"], o["rcpts"], o["attempts"] > 0))
print(";".join(sorted(res)))' 2>&1)
check_eq "mailq -Q --json: fields" "hold [127.0.0.1] 1 False;smtp [127.0.0.1] 3 True;summary 2 3" "$chk"

# --- counters -------------------------------------------------------------------
mq -s
check_eq "mailq -s: status" 0 "$mrc"
for k in uptime kids idle msgs threads rcpts forks delivered failed deferred expired reports; do
	check_match "mailq -s: $k" "^$k [0-9]+\$" "$out"
done
check_match "mailq -s: msgs 3" '^msgs 3$' "$out"
mq -s --json
check_eq "mailq -s --json: one JSON object" 1 "$(printf '%s\n' "$out" | jsonok)"
chk=$(printf '%s\n' "$out" | "$ZT_PY" -c '
import json, sys
o = json.loads(sys.stdin.readline())
print(o["msgs"], o["threads"], o["rcpts"], o["deferred"] >= 1)' 2>&1)
check_eq "mailq -s --json: values" "3 2 4 True" "$chk"

# --- one thread -------------------------------------------------------------------
mq -h '[127.0.0.1]'
check_eq "mailq -h: status" 0 "$mrc"
check_eq "mailq -h (channel smtp): the three recipients" "r1@ r2@ r3@ " \
	"$(printf '%s\n' "$out" | grep -o 'r[0-9]@' | sort | tr '\n' ' ')"
check_eq "mailq -h (channel smtp): not the hold message" 0 "$(printf '%s\n' "$out" | grep -c "$j3")"
mq -h '[127.0.0.1]' -c hold --json
check_eq "mailq -h -c hold --json: one JSON line" 1 "$(printf '%s\n' "$out" | jsonok)"
chk=$(printf '%s\n' "$out" | "$ZT_PY" -c '
import json, sys
o = json.loads(sys.stdin.readline())
for k in ("path", "addr", "offset", "expiry", "wakeup", "lastfeed", "attempts", "diag"): assert k in o, k
print(o["path"], o["addr"], o["attempts"])' 2>&1)
check_eq "mailq -h -c hold --json: fields" "$j3 h1@[127.0.0.1] 0" "$chk"
mq -h no.such.host
check_eq "mailq -h unknown host: status 1" 1 "$mrc"
check_match "mailq -h unknown host: message" 'no such thread' "$out"

# --- ETRN: the queueonly thread starts now ---------------------------------------
check_eq "queueonly: not delivered by the timer" 0 "$(aio_msgs)"
mq -E '[127.0.0.1]'
check_eq "mailq -E: status" 0 "$mrc"
check_match "mailq -E: started" 'ETRN started something' "$out"
for i in $(seq 1 100); do [ -e "$PO/transport/$j3" ] || break; sleep 0.1; done
check_eq "ETRN: the held message was delivered" 1 "$(aio_msgs)"
[ -e "$PO/transport/$j3" ] && fail "ETRN: the held message is still queued" || pass "ETRN: the held message left the queue"
mq -E no.such.host
check_match "mailq -E unknown host: nothing started" "didn't start anything" "$out"

# --- KILL ---------------------------------------------------------------------------
ino2=$(basename "$j2")
spool2=$(sed -nE "s/.*\\]: (S[0-9A-Za-z]+): info: .*/\\1/p" "$ZT_W/sched.log" | sort -u |
	while read -r s; do grep -q "^$s " <(with_timeout 10 "$MAILQ" -P "$PO") && echo "$s"; done | grep -v "^$spool1\$" | head -1)
mq -K "$spool2"
check_eq "mailq -K: status" 0 "$mrc"
check_match "mailq -K: answer" "killed $spool2" "$out"
[ -e "$PO/transport/$j2" ] && fail "KILL: control file still in transport/" || pass "KILL: control file left transport/"
[ -e "$PO/queue/$ino2" ] && fail "KILL: body still in queue/" || pass "KILL: body left queue/"
# postman/ names it after the control file's inode (zmta-spool(5))
reason=$(grep -l "^control: transport/$j2\$" "$PO"/postman/*.killed.reason 2>/dev/null | head -1)
[ -n "$reason" ] && pass "KILL: kept in postman/ with a reason" ||
	fail "KILL: nothing in postman/ for $j2 ($(ls "$PO/postman" | tr '\n' ' '))"
q=${reason%.reason}
[ -n "$reason" ] && [ -f "$q" ] && [ -f "$q.body" ] && pass "KILL: control file and body kept" ||
	fail "KILL: control file or body missing in postman/"
[ -n "$reason" ] && check_match "KILL: the control file is the message's" 'r3@' "$(cat "$q")"
check_match "KILL: the log names the postman/ file" "killed by mailq \\(moved to postman/$(basename "$q")\\)" \
	"$(cat "$ZT_W/sched.log")"
check_eq "KILL: no report submitted" 0 "$(find "$PO/router" -type f | wc -l)"
mq
check_eq "KILL: gone from the listing" 0 "$(printf '%s\n' "$out" | grep -c "^$spool2 ")"
mq -K S000NOSUCHID
check_eq "mailq -K unknown: status 1" 1 "$mrc"
check_match "mailq -K unknown: message" 'no such message' "$out"

# --- no scheduler -----------------------------------------------------------------
kill -TERM "$SPID"
for i in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
wait "$SPID" 2>/dev/null
mq
check_eq "no scheduler: exit status 69" 69 "$mrc"
check_match "no scheduler: message" 'cannot connect to the scheduler' "$out"
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
