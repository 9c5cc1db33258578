#!/bin/sh
# sched-wait.sh - a new message for a thread in retry wait does not start
# the thread early: a destination that refuses connections, interval 30s,
# so after the first round the thread waits 30 s or the 60 s of the smtp
# agent's "retryat +60" (hints are honoured); a second message for the
# same host is queued (and announced on the notify socket) and stays
# untried: no new attempt is logged, mailq shows it with A=0 and a wait,
# the thread keeps its attempt count and stays in "retry wait".  The same
# holds for a wakeuprestartonly clause (scheduler.conf(5): that flag only
# concerns threads that have an agent: with it, an arrival never adds an
# agent to a busy thread, without it the second of two arrivals does).  ETRN (mailq -E) then does start
# both threads at once; the new messages, untried in that round (the
# agent's retryat ends it), come first in the next one.
ZT_TIMEOUT=${ZT_TIMEOUT:-58}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
MAILQ=${ZT_MAILQ:-$top_builddir/scheduler/mailq}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB" "$MAILQ"
need_cmd socat
dead_tcp_port || { fail "no dead port"; zt_done; }
scratch_po
# a slow agent that never reads ahead: it takes one job and sits on it
cat > "$ZT_W/slow-ta.sh" <<'TA'
#!/bin/sh
echo '#hungry'
read -r job
sleep 4
TA
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=30s retries="1" expiry=1h idlemax=2s
fa/*	command="/bin/sh $ZT_W/slow-ta.sh" maxthr=2
fw/*	command="/bin/sh $ZT_W/slow-ta.sh" maxthr=2 wakeuprestartonly
wro/*	command="$ZT_SMTP -c \$channel -p $DEAD_TCP_PORT" wakeuprestartonly
smtp/*	command="$ZT_SMTP -c \$channel -p $DEAD_TCP_PORT"
CF
SL=$ZT_W/sched.log
notify() { sched_notify "$1"; }
deferrals() { cat "$SL" 2>/dev/null | grep -c 'deferred (attempt'; }
# rcpt_line ADDR - the mailq line of a recipient
rcpt_line() { with_timeout 10 "$MAILQ" -P "$PO" | grep -F " $1 "; }
# thread_line CHANNEL - the mailq -Q line of the channel's thread
thread_line() { with_timeout 10 "$MAILQ" -P "$PO" -Q | grep "^$1/"; }

m1=$("$ZT_MKJOB" -P "$PO" "a1@[127.0.0.1]")
w1=$("$ZT_MKJOB" -P "$PO" -c wro "b1@[127.0.0.1]")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$SL" &
SPID=$!
track "$SPID"
for i in $(seq 1 100); do [ "$(deferrals)" -ge 2 ] && break; sleep 0.1; done
check_eq "first round: both messages tried once" 2 "$(deferrals)"
sleep 0.3
for ch in smtp wro; do
	check_match "$ch thread in retry wait" '^[a-z]+/\[127\.0\.0\.1\]/[^ ]* R=1 A=1 .* W=[0-9]+s retry wait' \
		"$(thread_line $ch)"
done
agents0=$(grep -c 'started agent' "$SL")

# a new message for each waiting thread
m2=$("$ZT_MKJOB" -P "$PO" "a2@[127.0.0.1]")
w2=$("$ZT_MKJOB" -P "$PO" -c wro "b2@[127.0.0.1]")
notify "$m2"; notify "$w2"
for i in $(seq 1 50); do
	[ "$(grep -c -E "queued ($m2|$w2):" "$SL")" = 2 ] && break
	sleep 0.1
done
check_eq "the scheduler took both new messages" 2 "$(grep -c -E "queued ($m2|$w2):" "$SL")"
sleep 3
check_eq "no new attempt for the waiting threads" 2 "$(deferrals)"
check_eq "no agent started for them" "$agents0" "$(grep -c 'started agent' "$SL")"
check_match "new smtp message waits untried" 'a2@\[127\.0\.0\.1\] A=0 W=(1[0-9]|[2-5][0-9]|60)( |$)' "$(rcpt_line 'a2@[127.0.0.1]')"
check_match "new wakeuprestartonly message waits untried" 'b2@\[127\.0\.0\.1\] A=0 W=(1[0-9]|[2-5][0-9]|60)( |$)' "$(rcpt_line 'b2@[127.0.0.1]')"
for ch in smtp wro; do
	check_match "$ch thread still in retry wait with both messages" \
		'^[a-z]+/\[127\.0\.0\.1\]/[^ ]* R=2 A=1 .* W=(1[0-9]|[2-5][0-9]|60)s retry wait' "$(thread_line $ch)"
done

# ETRN starts both at once; the refused connection (retryat, deferall)
# ends each round after its first message, and the message not tried in a
# round comes first in the next one: a second ETRN tries the new ones
out=$(with_timeout 10 "$MAILQ" -P "$PO" -E '[127.0.0.1]' 2>&1)
check_match "ETRN: started" 'ETRN started something' "$out"
for i in $(seq 1 100); do [ "$(deferrals)" -ge 4 ] && break; sleep 0.1; done
check_eq "ETRN: both threads tried again at once" 4 "$(deferrals)"
sleep 0.3
out=$(with_timeout 10 "$MAILQ" -P "$PO" -E '[127.0.0.1]' 2>&1)
check_match "second ETRN: started" 'ETRN started something' "$out"
for i in $(seq 1 100); do [ "$(deferrals)" -ge 6 ] && break; sleep 0.1; done
check_eq "second ETRN: one more attempt per thread" 6 "$(deferrals)"
sleep 0.3
check_match "the new smtp message was tried" 'a2@\[127\.0\.0\.1\] A=1 ' "$(rcpt_line 'a2@[127.0.0.1]')"
check_match "the new wro message was tried" 'b2@\[127\.0\.0\.1\] A=1 ' "$(rcpt_line 'b2@[127.0.0.1]')"

# wakeuprestartonly proper: a thread whose agent is busy (maxthr=2) gets
# two new messages at once; the arrival of the second one starts a second
# agent, unless the clause says wakeuprestartonly
for ch in fa fw; do
	j=$("$ZT_MKJOB" -P "$PO" -c $ch "x1@[127.0.0.1]"); notify "$j"
done
for i in $(seq 1 50); do [ "$(grep -c -E 'started agent .* for f[aw]/' "$SL")" -ge 2 ] && break; sleep 0.1; done
sleep 0.3
for ch in fa fw; do
	for k in 2 3; do j=$("$ZT_MKJOB" -P "$PO" -c $ch "x$k@[127.0.0.1]"); notify "$j"; done
done
sleep 1.5
check_eq "busy thread: an arrival adds a second agent" 2 "$(grep -c 'started agent .* for fa/' "$SL")"
check_eq "busy wakeuprestartonly thread: no agent added" 1 "$(grep -c 'started agent .* for fw/' "$SL")"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$SL"
zt_done
