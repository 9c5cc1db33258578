#!/bin/sh
# sched-hostcheck.sh - control-file hosts are checked against the host
# grammar when the file is read: in a with-host clause a host "-l<path>"
# never reaches the agent's argv (the smtp agent would open it as its log),
# and hosts with a blank or a control byte are failed at once with a
# "5.1.2 invalid host" diagnostic and a bounce, never retried; a good
# message through the same with-host clause ("--" before the host) is
# delivered.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
start_sink_nodump
scratch_po
# the agent: records its argv, then is the real smtp agent
cat > "$ZT_W/argv.sh" <<AG
#!/bin/sh
printf '%s\n' "\$*" >> "$ZT_W/argv.log"
exec "$ZT_SMTP" "\$@"
AG
chmod 755 "$ZT_W/argv.sh"
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1h retries="1" expiry=1d idlemax=2s
smtp/*	command="$ZT_W/argv.sh -c \$channel -p $SINK_PORT \$host"
CF
good=$("$ZT_MKJOB" -P "$PO" -f s1@src.test "good@[127.0.0.1]")
inj=$("$ZT_MKJOB" -P "$PO" -f s2@src.test "x@-l$ZT_W/pwned")
# hosts the writer would refuse, patched into the r line afterwards
blank=$("$ZT_MKJOB" -P "$PO" -f s3@src.test "y@placeholder.test")
ctrl=$("$ZT_MKJOB" -P "$PO" -f s4@src.test "z@placeholder.test")
sed -i '/^r/s/ placeholder\.test / (bad host) /' "$PO/transport/$blank"
sed -i "/^r/s/ placeholder\\.test / bad$(printf '\001')host /" "$PO/transport/$ctrl"
grep -aq '^r.* (bad host) ' "$PO/transport/$blank" || fail "setup: blank host not in place"
grep -aq "^r.* bad$(printf '\001')host " "$PO/transport/$ctrl" || fail "setup: control byte not in place"

"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 150); do
	[ "$(find "$PO/transport" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "every message finished (none left for a retry)" 0 "$(find "$PO/transport" -type f | wc -l)"
[ -e "$ZT_W/pwned" ] && fail "host -l$ZT_W/pwned reached an agent: it created the file" ||
	pass "no file created through the host"
check_eq "no agent argv with the injected host" 0 "$(grep -c -- '-l/' "$ZT_W/argv.log" 2>/dev/null || true)"
check_match "good message's agent got -- before its host" ' -- \[127\.0\.0\.1\]$' "$(cat "$ZT_W/argv.log" 2>/dev/null)"
check_eq "the good message was delivered" 1 "$(grep -c 'offset [0-9]*: ok' "$ZT_W/sched.log")"
check_eq "three recipients failed at scan" 3 "$(grep -c 'failed: 5\.1\.2 invalid host' "$ZT_W/sched.log")"
check_eq "nothing deferred (no retry until expiry)" 0 "$(grep -c 'deferred' "$ZT_W/sched.log")"
for s in s2 s3 s4; do
	f=$(grep -l "^To: <\\?$s@src.test" "$PO"/router/* 2>/dev/null | head -1)
	if [ -n "$f" ]; then
		c=$(cat "$f")
		check_match "$s: bounce says Action failed" 'Action: failed' "$c"
		check_match "$s: bounce has Status 5.1.2" 'Status: 5\.1\.2' "$c"
		check_match "$s: bounce names the invalid host" 'invalid host' "$c"
	else
		fail "$s: no bounce in router/"
	fi
done
check_eq "no bounce for the good message" 0 "$(grep -l 'To: <\?s1@src.test' "$PO"/router/* 2>/dev/null | wc -l)"
wait_spool_empty "$PO" 50
check_eq "queue/ empty" 0 "$(find "$PO/queue" -type f | wc -l)"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.log" "$ZT_W/argv.log"
zt_done
