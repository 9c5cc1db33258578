#!/bin/sh
# sched-signals.sh - the scheduler's signals and its statistics log, with
# the real smtp agent and the aiosmtpd peer (recipients "slow*" make the
# peer wait before the DATA reply, so an agent is busy when a signal comes):
#   SIGHUP   the -L and -l files were renamed: new lines go to fresh files
#            at the old paths, nothing more to the renamed ones;
#   -l       one line per final recipient, "spoolid dt1 dt2 state
#            channel/host" (ok3 and error2, spool ids as in the log);
#   SIGTERM  the scheduler exits while its agent is still in a transaction;
#            the agent finishes that job alone; a restart delivers the rest;
#            every message reaches the peer exactly once;
#   SIGQUIT  the scheduler waits for the busy agent, logs its report, exits
#            0 after it; a restart delivers the rest, exactly once;
#   maxthr=1 while an agent that read ahead still holds the thread's only
#            job, no further agent is started for it (one per restart).
# (SIGUSR1 is covered by sched-config.sh.)
ZT_TIMEOUT=${ZT_TIMEOUT:-58}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd socat jq
start_aiosmtpd --slow 3 || { fail "aiosmtpd did not start"; zt_done; }
scratch_po
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1s retries="1 1" expiry=1h idlemax=30s
	maxthr=1 overfeed=0
smtp/*	command="$ZT_SMTP -c \$channel -p $AIO_PORT"
CF
SL=$ZT_W/sched.log
ST=$ZT_W/stat.log

# notify REL - tell the scheduler about a new control file (no 10 s rescan)
notify() { sched_notify "$1"; }
# start_sched LOG [STATLOG] - scheduler in the foreground, SPID
start_sched() {
	if [ -n "${2:-}" ]; then
		"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$1" -l "$2" &
	else
		"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$1" &
	fi
	SPID=$!
	track "$SPID"
	wait_file "$PO/.mailq.sock" 10 && wait_file "$PO/.scheduler.notify" 10 ||
		fail "scheduler did not open its sockets"
}
# wait_gone PID [SECS] - until PID has exited (0) or the time is up (1)
wait_gone() {
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
# queue_files - control and body files left
queue_files() { find "$PO/transport" "$PO/queue" -type f | wc -l; }
# wait_empty [SECS]
wait_empty() {
	local i
	for i in $(seq 1 $((${1:-10} * 10))); do
		[ "$(queue_files)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# peer_msgs_to PREFIX - recipients of accepted messages that start with PREFIX
peer_msgs_to() { jq -r 'select(.ev == "msg") | .rcpt_tos[]' "$AIO_LOG" | grep -c "^$1"; }
# peer_dups - highest number of times one message (Message-Id) was received
peer_dups() {
	jq -r 'select(.ev == "msg") | .sha256' "$AIO_LOG" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }'
}

# --- SIGHUP and the statistics log -----------------------------------------
start_sched "$SL" "$ST"
wait_grep 'initial scan' "$SL" || fail "no start line"
mv "$SL" "$SL.old"
mv "$ST" "$ST.old"
kill -HUP "$SPID"
wait_grep 'logs reopened' "$SL" && pass "HUP: the log is reopened at its path" ||
	fail "HUP: no fresh log file"
[ -e "$ST" ] && pass "HUP: a fresh statistics log" || fail "HUP: no fresh statistics log"
j1=$("$ZT_MKJOB" -P "$PO" "ok1@[127.0.0.1]")
j2=$("$ZT_MKJOB" -P "$PO" "rcpt-perm1@[127.0.0.1]")
notify "$j1"; notify "$j2"
wait_empty 15 || fail "HUP: messages not finished"
wait_lines "$ST" 2 5
check_eq "HUP: nothing more in the renamed log" 0 "$(grep -c 'offset' "$SL.old")"
check_eq "HUP: nothing in the renamed statistics log" 0 "$(wc -l < "$ST.old")"
id1=$(sed -nE "s/.*\\]: (S[0-9A-Za-z]+): info: queued $j1:.*/\\1/p" "$SL" | head -1)
# (the last line: job 1 may be delivered and removed before job 2 is made,
# and then job 2 can get job 1's inode number, so its file name)
id2=$(sed -nE "s/.*\\]: (S[0-9A-Za-z]+): info: queued $j2:.*/\\1/p" "$SL" | tail -1)
check_match "spool id of job 1 in the log" '^S[0-9A-Za-z]+$' "$id1"
check_eq "statistics: two lines" 2 "$(wc -l < "$ST")"
# "<spoolid> <dt1> <dt2> <state> <channel>/<host>"
check_match "statistics: delivered line" "^$id1 [0-9]+ [0-9]+ ok3 smtp/\\[127\\.0\\.0\\.1\\]\$" \
	"$(grep "^$id1 " "$ST")"
check_match "statistics: failed line" "^$id2 [0-9]+ [0-9]+ error2? smtp/\\[127\\.0\\.0\\.1\\]\$" \
	"$(grep "^$id2 " "$ST")"
bad=$(awk 'NF != 5 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $2 > 60 || $3 > 60' "$ST")
check_eq "statistics: 5 fields, small non-negative delays" "" "$bad"
kill -TERM "$SPID"; wait_gone "$SPID" 10; wait "$SPID" 2>/dev/null

# --- SIGTERM: fast stop ----------------------------------------------------
# three slow messages: the agent is inside a transaction when TERM comes
: > "$AIO_LOG"
"$ZT_MKJOB" -P "$PO" -m 3 "slow-t@[127.0.0.1]" > /dev/null
start_sched "$ZT_W/term.log"
wait_grep '"verb": "DATA"' "$AIO_LOG" 15 || fail "TERM: the agent never reached DATA"
apid=$(sed -nE 's/.*started agent pid ([0-9]+) .*/\1/p' "$ZT_W/term.log" | head -1)
kill -TERM "$SPID"
if wait_gone "$SPID" 2; then
	wait "$SPID"; rc=$?
	check_eq "TERM: exit status" 0 "$rc"
	if [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; then
		pass "TERM: the scheduler is gone while its agent is still in a transaction"
	else
		fail "TERM: agent '$apid' was not alive after the scheduler exited"
	fi
else
	fail "TERM: the scheduler did not exit promptly"
fi
check_log "TERM: logged" 'fast stop' "$ZT_W/term.log"
[ -n "$apid" ] && { wait_gone "$apid" 15 || fail "TERM: the agent did not finish"; }
n=$(peer_msgs_to slow-t)
[ "$n" -ge 1 ] && pass "TERM: the agent finished its job alone ($n)" || fail "TERM: agent delivered nothing"
start_sched "$ZT_W/term2.log"
wait_empty 20 && pass "TERM: restart finished the queue" || fail "TERM: queue not empty after restart"
check_eq "TERM: restart: one agent while its job is in flight" 1 "$(grep -c 'started agent' "$ZT_W/term2.log")"
check_eq "TERM: every message delivered exactly once" "3 1" "$(peer_msgs_to slow-t) $(peer_dups)"
kill -TERM "$SPID"; wait_gone "$SPID" 10; wait "$SPID" 2>/dev/null

# --- SIGQUIT: slow stop ----------------------------------------------------
: > "$AIO_LOG"
"$ZT_MKJOB" -P "$PO" -m 3 "slow-q@[127.0.0.1]" > /dev/null
start_sched "$ZT_W/quit.log"
wait_grep '"verb": "DATA"' "$AIO_LOG" 15 || fail "QUIT: the agent never reached DATA"
apid=$(sed -nE 's/.*started agent pid ([0-9]+) .*/\1/p' "$ZT_W/quit.log" | head -1)
kill -QUIT "$SPID"
sleep 0.5
kill -0 "$SPID" 2>/dev/null && pass "QUIT: the scheduler waits for its busy agent" ||
	fail "QUIT: the scheduler did not wait"
if wait_gone "$SPID" 25; then
	wait "$SPID"; rc=$?
	check_eq "QUIT: exit status" 0 "$rc"
else
	fail "QUIT: the scheduler did not exit after its agent"
fi
[ -n "$apid" ] && ! kill -0 "$apid" 2>/dev/null && pass "QUIT: the agent exited first" ||
	fail "QUIT: agent '$apid' still running"
after=$(sed -n '/slow stop/,$p' "$ZT_W/quit.log")
check_match "QUIT: the agent's report was read after the signal" 'offset [0-9]+: ok3' "$after"
check_match "QUIT: ... and its message completed" 'complete \(total 1 recipient' "$after"
n=$(peer_msgs_to slow-q)
nc=$(grep -c 'complete (total' "$ZT_W/quit.log")
check_eq "QUIT: every delivered message was completed before the exit" "$n" "$nc"
start_sched "$ZT_W/quit2.log"
wait_empty 20 && pass "QUIT: restart finished the queue" || fail "QUIT: queue not empty after restart"
check_eq "QUIT: restart: one agent while its job is in flight" 1 "$(grep -c 'started agent' "$ZT_W/quit2.log")"
check_eq "QUIT: every message delivered exactly once" "3 1" "$(peer_msgs_to slow-q) $(peer_dups)"
kill -TERM "$SPID"; wait_gone "$SPID" 10; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$SL" "$ZT_W/term.log" "$ZT_W/term2.log" "$ZT_W/quit.log" "$ZT_W/quit2.log" "$AIO_ERR"
zt_done
