#!/bin/sh
# sched-keepalive.sh - a busy agent is not a hung one: the peer delays its
# end-of-data reply (5 s) past the scheduler's silence limit
# (PARAMmax-ta-silence = 2s); the smtp agent writes "#keepalive" every
# second (SMTP_KEEPALIVE=1s) while it waits, the scheduler counts that as
# activity, does not kill the agent and does not log the line; the message
# is delivered once and the spool ends empty.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd jq
start_aiosmtpd --slow 5 || { fail "aiosmtpd"; zt_done; }
scratch_po "SMTP_KEEPALIVE=1s"
cat > "$ZT_W/scheduler.conf" <<CF
PARAMmax-ta-silence = 2s
*/*	interval=1s retries="1" expiry=1h idlemax=2s
smtp/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT"
CF
"$ZT_MKJOB" -P "$PO" "slow1@[127.0.0.1]" > /dev/null
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 300); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "spool empty (delivered)" 0 "$(find "$PO/transport" "$PO/queue" -type f | wc -l)"
check_eq "one transaction at the peer" 1 "$(aio_msgs)"
check_eq "no agent killed for silence" 0 "$(grep -c 'silent too long' "$ZT_W/sched.log")"
check_eq "#keepalive is not logged" 0 "$(grep -c 'pid [0-9]*: *#*keepalive' "$ZT_W/sched.log")"
check_eq "nothing bounced" 0 "$(find "$PO/router" -type f | wc -l)"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
