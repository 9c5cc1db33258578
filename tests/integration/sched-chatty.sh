#!/bin/sh
# sched-chatty.sh - an agent's own log lines (one per recipient from the
# smtp agent) are logged by the scheduler, every one, and never count as a
# flood while they come with reports: 300 messages through one smtp agent
# with PARAMmax-ta-comments = 20 (lines a second beyond 4 per report) are
# delivered once each, no agent is killed, and the scheduler's log holds a
# delivery line for each.  An agent that only writes comment lines is still
# killed (sched-hostile.sh).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
N=300

start_sink_nodump
scratch_po "SMTP_TEST_ALLOW_LOOPBACK=yes"
cat > "$ZT_W/scheduler.conf" <<CF
PARAMmax-ta-comments = 20
*/*	interval=1h retries="1" expiry=1h idlemax=3s
	maxta=1 maxchannel=1 maxring=1 maxthr=1 overfeed=50
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
"$ZT_MKJOB" -P "$PO" -q -m "$N" "u@[127.0.0.1]" > /dev/null || fail "mkjob"
check_eq "queued control files" "$N" "$(find "$PO/transport" -type f | wc -l)"

"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
wait_spool_empty "$PO" 600 || fail "spool not emptied in 60 s"
check_eq "sink messages: each once" "$N" "$(sink_counter mesg)"
check_eq "no agent killed as flooding" 0 "$(grep -c 'floods its output' "$ZT_W/sched.log")"
check_eq "a delivery line logged per recipient" "$N" \
	"$(grep -c 'agent pid [0-9]*: smtp:[0-9]*: S[0-9A-Za-z]*: info: to=<u@\[127\.0\.0\.1\]>.*stat=' "$ZT_W/sched.log")"
zt_done
