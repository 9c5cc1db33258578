#!/bin/sh
# sched-basic.sh - the scheduler with the real smtp agent and smtp-sink:
# 1,000 messages to 20 hosts (h1.test .. h20.test via dnsmasq) are all
# delivered, the spool is emptied, the statistics log has one line per
# recipient, and mailq shows the (empty) queue.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
need_cmd dnsmasq
N=${SCHED_N:-1000}

start_sink_nodump
start_dnsmasq_hosts 20

scratch_po "DNS_SERVERS=127.0.0.1:$DNSP" \
	"SMTP_TEST_ALLOW_LOOPBACK=yes"
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=2s retries="1 1 2" expiry=1h idlemax=3s
	maxta=40 maxchannel=40 maxring=40 maxthr=1 overfeed=20
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
for i in $(seq 1 20); do
	"$ZT_MKJOB" -P "$PO" -q -m $((N / 20)) "u$i@h$i.test" > /dev/null || fail "mkjob h$i"
done
check_eq "queued control files" "$N" "$(find "$PO/transport" -type f | wc -l)"

"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" -l "$ZT_W/stat.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 900); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "transport/ empty" 0 "$(find "$PO/transport" -type f | wc -l)"
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
sleep 0.5
check_eq "sink messages" "$N" "$(sink_counter mesg)"
check_eq "statistics lines" "$N" "$(grep -c ' ok3 ' "$ZT_W/stat.log")"
check_eq "no errors logged" 0 "$(grep -c ': error: ' "$ZT_W/sched.log")"
check_eq "no DSN submitted" 0 "$(find "$PO/router" -type f | wc -l)"
# mailq socket
if [ -x "$top_builddir/scheduler/mailq" ]; then :; fi
out=$(mailq_cmd "UNIX-CONNECT:$PO/.mailq.sock" 'SHOW COUNTERS')
check_match "mailq greeting" '^version zmta 2.0' "$out"
check_match "mailq counters: delivered" "delivered $N" "$out"
# a second scheduler must refuse to start
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" > "$ZT_W/second.out" 2>&1
check_eq "second instance exit code (EX_TEMPFAIL)" 75 "$?"
check_match "second instance message" 'another scheduler is running' "$(cat "$ZT_W/second.out")"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
