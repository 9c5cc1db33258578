#!/bin/sh
# sched-syscalls.sh - the scheduler's own file and pipe system calls per
# delivered message stay few: 200 one-recipient messages for 10 hosts
# (dnsmasq) are delivered through smtp agents to smtp-sink while strace -c
# counts the scheduler's calls (its agents are not followed).  Per message
# the scheduler reads the control file at start-up (open, fstat, pread,
# lstat of the body, close) and at completion only when there is
# something to report (open, pread, close); the control file and body are
# unlinked by the removal thread (not traced: strace follows the event
# loop's thread only), and the loop writes its job lines, log and
# statistics lines in batches (one write per loop round): about 9 such
# calls (about 19 before the batching).  The
# start-up check for orphan bodies (scheduler/orphans.c) adds up to 3 per
# body already queued when the scheduler starts.  The limit is 16.  Reads of agent reports are not counted (how many reports
# one read gets depends on timing).  A count of calls, not a timing;
# skipped without strace.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd smtp-sink
need_cmd dnsmasq
need_cmd strace
N=200
HOSTS=10
LIMIT=16

start_sink_nodump
start_dnsmasq_hosts $HOSTS

scratch_po "DNS_SERVERS=127.0.0.1:$DNSP" \
	"SMTP_TEST_ALLOW_LOOPBACK=yes"
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=2s retries="1 1 2" expiry=1h idlemax=3s
	maxta=20 maxchannel=20 maxring=20 maxthr=1 overfeed=20
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
for i in $(seq 1 $HOSTS); do
	"$ZT_MKJOB" -P "$PO" -q -m $((N / HOSTS)) "u$i@h$i.test" > /dev/null || fail "mkjob h$i"
done
check_eq "queued control files" "$N" "$(find "$PO/transport" -type f | wc -l)"

# strace runs the scheduler (not its agents: no -f) and writes the
# summary when the scheduler exits
strace -c -o "$ZT_W/strace.txt" -- "$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" \
	-L "$ZT_W/sched.log" -l "$ZT_W/stat.log" &
STR=$!
track "$STR"
for i in $(seq 1 900); do
	[ "$(find "$PO/transport" "$PO/queue" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "transport/ empty" 0 "$(find "$PO/transport" -type f | wc -l)"
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
SPID=$(pgrep -P "$STR" | head -1)
[ -n "$SPID" ] && kill -TERM "$SPID"
wait "$STR" 2>/dev/null
check_eq "statistics lines" "$N" "$(grep -c ' ok3 ' "$ZT_W/stat.log")"
check_eq "completions logged" "$N" "$(grep -c ': complete (total' "$ZT_W/sched.log")"
# strace -c rows: % seconds usecs/call calls [errors] syscall
calls=$(awk '$4 ~ /^[0-9]+$/ && $NF ~ /^(write|writev|openat|open|close|newfstatat|fstat|lstat|statx|pread64|unlink|unlinkat)$/ { t += $4 }
	END { print t + 0 }' "$ZT_W/strace.txt")
per=$(awk -v c="$calls" -v n="$N" 'BEGIN { printf "%.1f", c / n }')
info "file system calls and writes of the scheduler: $calls for $N messages ($per per message)"
[ "$calls" -gt 0 ] || { show "$ZT_W/strace.txt"; fail "strace counted nothing"; zt_done; }
awk -v c="$calls" -v n="$N" -v l="$LIMIT" 'BEGIN { exit !(c / n <= l) }' &&
	pass "at most $LIMIT per message" || { show "$ZT_W/strace.txt"; fail "$per system calls per message (limit $LIMIT)"; }
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log"
zt_done
