#!/bin/sh
# sched-privs.sh - ids of the scheduler and its agents (issue 8):
#  1. zmta postoffice-init -u gives every directory to the mail system with
#     the maildrop modes and repairs them on an existing tree (files kept);
#  2. a non-root scheduler refuses user=/group= naming someone else (-n and
#     start-up, with file:line), accepts its own user;
#  3. a root scheduler with user=nobody (no group=) keeps root, says why,
#     and the agent runs with nobody's uid, gid and groups only;
#  4. a root scheduler without user= drops to ZMTA_USER for good
#     (/proc/PID/status) and its agents run as that user too;
#  5. an agent that cannot start (execve fails) reports why: the recipients
#     are deferred with that reason instead of a fork loop.
# Parts 1 and 3-5 need root (exit 77 otherwise).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB" "$ZT_ZMTA"
need_cmd setpriv

# programs that another user runs must be reachable by that user
B=$ZT_W/bin
mkdir -p "$B"
cp "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB" "$ZT_ZMTA" "$B/"
chmod 755 "$B" "$B"/*
SCHED=$B/scheduler
ZMTA=$B/zmta

# --- 2. non-root scheduler and user= (runs for any user) -------------------
if [ "$(id -u)" = 0 ]; then
	AS_OTHER=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
	OTHER=daemon
	SELF=nobody
else
	AS_OTHER=()
	OTHER=root
	SELF=$(id -un)
fi
write_zconf "$ZT_W/zmta.conf" "POSTOFFICE=$ZT_W/none" "ZMTA_USER=$SELF"
printf '*/*\tinterval=1m\nsmtp/*\tcommand="smtp -c $channel"\n\tuser=%s\n' "$OTHER" > "$ZT_W/other.conf"
printf '*/*\tinterval=1m\nsmtp/*\tcommand="smtp -c $channel"\n\tuser=%s\n' "$SELF" > "$ZT_W/self.conf"
printf '*/*\tinterval=1m\nsmtp/*\tcommand="smtp -c $channel" group=%s\n' "$OTHER" > "$ZT_W/group.conf"
chmod 644 "$ZT_W"/*.conf
out=$("${AS_OTHER[@]}" "$SCHED" -n -f "$ZT_W/other.conf" 2>&1)
check_eq "non-root -n with user=$OTHER: exit EX_CONFIG" 78 "$?"
check_match "non-root -n names file, line and clause" "other.conf:2: user=$OTHER: the scheduler runs as $SELF .*not root" "$out"
out=$("${AS_OTHER[@]}" "$SCHED" -n -f "$ZT_W/group.conf" 2>&1)
check_eq "non-root -n with group=$OTHER: exit EX_CONFIG" 78 "$?"
check_match "group= refused too" "group.conf:2: group=$OTHER:" "$out"
out=$("${AS_OTHER[@]}" "$SCHED" -n -f "$ZT_W/self.conf" 2>&1)
check_eq "non-root -n with its own user: OK" 0 "$?"
out=$("${AS_OTHER[@]}" "$SCHED" -i -f "$ZT_W/other.conf" -P "$ZT_W/none" 2>&1)
check_eq "non-root start-up with user=$OTHER: exit EX_CONFIG" 78 "$?"
check_match "start-up message names the clause" "other.conf:2: user=$OTHER" "$out"

[ "$(id -u)" = 0 ] || { info "not root: the rest needs root"; [ "$ZT_FAILS" = 0 ] && exit 77; zt_done; }
id nobody > /dev/null 2>&1 || skip "no user nobody"
NU=$(id -u nobody)
NG=$(id -g nobody)
id daemon > /dev/null 2>&1 || skip "no user daemon"

# --- 1. postoffice-init: owners and modes, repair ---------------------------
PO=$ZT_W/po
mkdir -p "$PO"
"$ZMTA" postoffice-init -P "$PO" -H 1 -u nobody > "$ZT_W/init.out" 2>&1
check_eq "postoffice-init -u nobody" 0 "$?"
modes=""
for d in . public router queue transport deferred postman freezer transport/K; do
	modes="$modes $d=$(stat -c '%a:%U' "$PO/$d")"
done
check_eq "owners and modes" " .=2755:nobody public=3733:nobody router=2750:nobody queue=2750:nobody transport=2750:nobody deferred=2750:nobody postman=2750:nobody freezer=2750:nobody transport/K=2750:nobody" "$modes"
chmod 1777 "$PO/router"
chown root "$PO/queue"
printf 'x\n' > "$PO/router/12345"
chmod 604 "$PO/router/12345"
"$ZMTA" postoffice-init -P "$PO" -H 1 -u nobody > "$ZT_W/init2.out" 2>&1
check_eq "postoffice-init again" 0 "$?"
check_eq "router/ mode repaired" "2750:nobody" "$(stat -c '%a:%U' "$PO/router")"
check_eq "queue/ owner repaired" "2750:nobody" "$(stat -c '%a:%U' "$PO/queue")"
check_eq "file left alone" "604:root" "$(stat -c '%a:%U' "$PO/router/12345")"
rm -f "$PO/router/12345"
# not root: only says what to do
mkdir -m 777 "$ZT_W/po-user"
out=$("${AS_OTHER[@]}" "$ZMTA" postoffice-init -P "$ZT_W/po-user/po" -u no-such-user-zmta 2>&1)
check_eq "postoffice-init as nobody for a missing user: exit 0" 0 "$?"
check_match "it says what root has to do" "useradd --system --no-create-home" "$out"
check_eq "tree created, owned by the caller" "3733:nobody" "$(stat -c '%a:%U' "$ZT_W/po-user/po/public")"

# --- the test agent: records its ids, then is the real smtp agent ------------
IDS=$ZT_W/ids
mkdir -p "$IDS"
chmod 1777 "$IDS"
cat > "$B/idagent" <<EOF
#!/bin/sh
grep -E '^(Uid|Gid|Groups):' /proc/self/status > "$IDS/agent.\$\$"
exec "$B/smtp" "\$@"
EOF
chmod 755 "$B/idagent"
start_sink_nodump || { fail "smtp-sink"; zt_done; }
# status_ids FILE - "uid r e s f | gid r e s f | groups ..." from a status file
status_ids() {
	awk '/^Uid:/ {u=$2" "$3" "$4" "$5} /^Gid:/ {g=$2" "$3" "$4" "$5}
	     /^Groups:/ {$1=""; s=$0; sub(/^ +/, "", s); sub(/ +$/, "", s)}
	     END {print u" | "g" | "s}' "$1"
}
# mkjobs N RCPT - queue N messages as the spool owner (nobody)
mkjobs() {
	local i
	for i in $(seq 1 "$1"); do
		"${AS_NOBODY[@]}" "$B/mkjob" -P "$PO" -H 1 "$2" > /dev/null || fail "mkjob $2"
	done
}
AS_NOBODY=(setpriv --reuid=nobody --regid="$NG" --clear-groups)
# wait_empty SECS - until transport/ holds no file
wait_empty() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		[ "$(find "$PO/transport" -type f | wc -l)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# --- 3. root keeps root for user=nobody; the agent drops completely ----------
write_zconf "$ZT_W/zmta3.conf" "POSTOFFICE=$PO" "ZMTA_USER=daemon"
cat > "$ZT_W/s3.conf" <<CF
*/*	interval=1s retries="1" expiry=1h idlemax=1s
smtp/*	command="$B/idagent -c \$channel -p $SINK_PORT"
	user=nobody
CF
mkjobs 2 "a@[127.0.0.1]"
"$SCHED" -i -f "$ZT_W/s3.conf" -P "$PO" -L "$ZT_W/sched3.log" &
SPID=$!
track "$SPID"
wait_empty 30 && pass "delivered by the nobody agent" || fail "not delivered"
ids=$(status_ids "$(ls "$IDS"/agent.* | head -1)")
check_eq "agent ids (user=nobody, no group=)" "$NU $NU $NU $NU | $NG $NG $NG $NG | $NG" "$ids"
check_match "scheduler says why it keeps root" "keeping root: .*s3.conf:2 starts agents as user=nobody" "$(cat "$ZT_W/sched3.log")"
check_eq "scheduler kept uid 0" "0 0 0 0" "$(status_ids "/proc/$SPID/status" | cut -d'|' -f1 | sed 's/ *$//')"
stop_pid "$SPID"
rm -f "$IDS"/agent.*

# --- 4. root without user= drops to ZMTA_USER --------------------------------
write_zconf "$ZT_W/zmta4.conf" "POSTOFFICE=$PO" "ZMTA_USER=nobody"
cat > "$ZT_W/s4.conf" <<CF
*/*	interval=1s retries="1" expiry=1h idlemax=1s
smtp/*	command="$B/idagent -c \$channel -p $SINK_PORT"
CF
mkjobs 2 "b@[127.0.0.1]"
"$SCHED" -i -f "$ZT_W/s4.conf" -P "$PO" -L "$ZT_W/sched4.log" &
SPID=$!
track "$SPID"
wait_empty 30 && pass "delivered with the scheduler as nobody" || fail "not delivered"
check_eq "scheduler ids after the drop" "$NU $NU $NU $NU | $NG $NG $NG $NG | $NG" "$(status_ids "/proc/$SPID/status")"
ids=$(status_ids "$(ls "$IDS"/agent.* | head -1)")
check_eq "agent ids (ZMTA_USER)" "$NU $NU $NU $NU | $NG $NG $NG $NG | $NG" "$ids"
check_match "drop logged" "running as nobody .*root dropped for good" "$(cat "$ZT_W/sched4.log")"
# a reload cannot bring user= back
sed -i 's/^smtp\/\*.*/&\n\tuser=daemon/' "$ZT_W/s4.conf"
kill -USR1 "$SPID"
for i in $(seq 1 50); do grep -q 'reload refused' "$ZT_W/sched4.log" && break; sleep 0.1; done
check_match "reload with user=daemon refused" "config reload refused.*s4.conf:2: user=daemon" "$(cat "$ZT_W/sched4.log")"
stop_pid "$SPID"

# --- 5. an agent that cannot start: deferred with the reason ------------------
write_zconf "$ZT_W/zmta5.conf" "POSTOFFICE=$PO" "ZMTA_USER=nobody"
cat > "$ZT_W/s5.conf" <<CF
*/*	interval=1m retries="1" expiry=1h idlemax=1s
smtp/*	command="$B/no-such-agent -c \$channel"
CF
mkjobs 1 "c@[127.0.0.1]"
"$SCHED" -i -f "$ZT_W/s5.conf" -P "$PO" -L "$ZT_W/sched5.log" &
SPID=$!
track "$SPID"
for i in $(seq 1 50); do grep -q 'cannot start agent' "$ZT_W/sched5.log" && break; sleep 0.1; done
sleep 1
check_match "reason logged" "cannot start agent: execve $B/no-such-agent: No such file" "$(cat "$ZT_W/sched5.log")"
check_eq "one start, then retry wait (no fork loop)" 1 "$(grep -c 'started agent' "$ZT_W/sched5.log")"
out=$(mailq_cmd "UNIX-CONNECT:$PO/.mailq.sock" 'SHOW QUEUE THREADS')
check_match "thread waits for its retry" "retry wait" "$out"
stop_pid "$SPID"
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched3.log" "$ZT_W/sched4.log" "$ZT_W/sched5.log"
zt_done
