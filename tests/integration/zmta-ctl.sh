#!/bin/sh
# zmta-ctl.sh - "zmta start|stop|status|reload|check" with the real
# scheduler (and a stand-in router script, since MAILBIN is the test's own
# directory):
#   check    passes on a good scheduler.conf; names file and line and exits
#            EX_CONFIG (78) on a broken one; start and reload refuse then;
#   start    daemonises a supervisor that runs the scheduler (pid from
#            status, checked in /proc); an absent router is reported as not
#            installed; a second start is refused (EX_TEMPFAIL); a caller
#            that is neither root nor ZMTA_USER is refused (EX_NOPERM);
#   restart  kill -9 of the scheduler: the supervisor starts a new one;
#   reload   the scheduler gets SIGUSR1 + SIGHUP (its log says so); a router
#            installed since is started, and a second reload reaches it;
#   stop     no process the test knows of is left; status says not running;
#   kill -9 of the supervisor: status shows the scheduler running outside,
#            start refuses, stop stops it through its own pid file;
#   start -f runs in the foreground (zmta.service) and stops on SIGTERM.
ZT_TIMEOUT=${ZT_TIMEOUT:-180}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_ZMTA" "$ZT_SCHED"

PO=$ZT_W/po
BIN=$ZT_W/bin
ETC=$ZT_W/etc
LOG=$ZT_W/log
mkdir -p "$BIN" "$ETC" "$LOG"
chmod 755 "$BIN" "$ETC" "$LOG"
ln -s "$ZT_SCHED" "$BIN/scheduler"
# the scheduler needs no DNS here; scratch_po points DNS_SERVERS at a dead
# local port anyway
scratch_po -p "$PO" -c "$ETC/zmta.conf" "MAILBIN=$BIN" "MAILSHARE=$ETC" "MAILVAR=$ETC" \
	"LOGDIR=$LOG"
GOOD=$(printf '*/*\tinterval=1s retries="1" expiry=1h idlemax=5s\n')
printf '%s\n' "$GOOD" > "$ETC/scheduler.conf"
BAD=$(printf '*/*\tinterval=1s\n\tfrobnicate=3\n')

# zmta ARGS... - run zmta, output in $OUT, exit code in $RC
SAN='ERROR: (Address|Leak)Sanitizer|runtime error:'
zmta() {
	OUT=$(with_timeout 60 "$ZT_ZMTA" "$@" 2>&1)
	RC=$?
	if printf '%s' "$OUT" | grep -Eq "$SAN"; then
		fail "sanitizer report from zmta $*"
		printf '%s\n' "$OUT" | head -40
	fi
}
# status_pid NAME - the pid "zmta status" gives for a running daemon
status_pid() {
	"$ZT_ZMTA" status 2>/dev/null | sed -n "s/^$1: running, pid \\([0-9][0-9]*\\),.*/\\1/p"
}
# alive PID - the process exists and is not a zombie (a daemonised process
# whose parent died is reaped by whoever adopted it, maybe late)
alive() {
	local st
	st=$(sed -E 's/^.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# wait_gone PID [SECS]
wait_gone() {
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		alive "$1" || return 0
		sleep 0.05
	done
	return 1
}
# is_sched PID - PID is a live process running the scheduler binary
is_sched() {
	[ -n "$1" ] && [ -d "/proc/$1" ] &&
		[ "$(readlink -f "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$ZT_SCHED")" ]
}

# --- check ------------------------------------------------------------------
zmta check
check_eq "check: good configuration" 0 "$RC"
check_match "check: names zmta.conf" "zmta.conf: $ETC/zmta.conf: OK" "$OUT"
check_match "check: scheduler checked" 'scheduler: configuration OK' "$OUT"
check_match "check: absent router reported" "router: not installed \\($BIN/router\\)" "$OUT"
printf '%s\n' "$BAD" > "$ETC/scheduler.conf"
zmta check
check_eq "check: broken scheduler.conf -> EX_CONFIG" 78 "$RC"
check_match "check: file and line" "$ETC/scheduler.conf:2:.*frobnicate" "$OUT"
check_match "check: says which daemon" 'scheduler: configuration check failed' "$OUT"
zmta start
check_eq "start: refused with a broken scheduler.conf" 78 "$RC"
check_match "start: says why" "scheduler.conf:2:" "$OUT"
check_eq "start: nothing runs" "" "$(status_pid scheduler)"
printf '%s\n' "$GOOD" > "$ETC/scheduler.conf"

# --- who may start ----------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	OUT=$(with_timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZT_ZMTA" start 2>&1)
	check_eq "start: neither root nor ZMTA_USER -> EX_NOPERM" 77 "$?"
	check_match "start: says who may" 'root or as ZMTA_USER' "$OUT"
else
	info "not root (or no setpriv): the EX_NOPERM case is not run"
fi

# --- start ------------------------------------------------------------------
zmta start
check_eq "start: exit" 0 "$RC"
check_match "start: scheduler started" 'scheduler: started, pid [0-9]+' "$OUT"
check_match "start: router not installed, said so" "router: not installed \\($BIN/router\\), not started" "$OUT"
SUP=$(cat "$PO/.pid.zmta" 2>/dev/null)
[ -n "$SUP" ] && track "$SUP"
S1=$(status_pid scheduler)
[ -n "$S1" ] && track "$S1"
is_sched "$S1" && pass "start: status names a live scheduler ($S1)" || fail "start: no scheduler '$S1'"
check_eq "start: the scheduler is the supervisor's child" "$SUP" \
	"$(awk '{ print $4 }' "/proc/$S1/stat" 2>/dev/null)"
wait_file "$PO/.mailq.sock" 10 || fail "start: the scheduler did not open its mailq socket"
zmta status
check_eq "status: exit 0 while running" 0 "$RC"
check_match "status: supervisor line" "^zmta: running, supervisor pid $SUP, up [0-9]" "$OUT"
check_match "status: scheduler line" "scheduler: running, pid $S1, up [0-9]" "$OUT"
check_match "status: router line" "router: not installed" "$OUT"
check_match "status: queue line" 'queue: 0 in transport/, 0 in router/, 0 in deferred/, 0 in postman/' "$OUT"
zmta start
check_eq "second start: refused (EX_TEMPFAIL)" 75 "$RC"
check_match "second start: names the running supervisor" "already running \\(supervisor pid $SUP" "$OUT"
check_eq "second start: the first supervisor still runs" "$S1" "$(status_pid scheduler)"

# --- restart after kill -9 --------------------------------------------------
kill -KILL "$S1"
S2=
for i in $(seq 1 600); do
	S2=$(status_pid scheduler)
	[ -n "$S2" ] && [ "$S2" != "$S1" ] && break
	sleep 0.05
done
[ -n "$S2" ] && track "$S2"
if [ -n "$S2" ] && [ "$S2" != "$S1" ] && is_sched "$S2"; then
	pass "restart: a new scheduler ($S2) after kill -9"
else
	fail "restart: no new scheduler (had $S1, now '$S2')"
fi
check_match "restart: status counts it" 'restarts 1, last exit: signal 9' "$("$ZT_ZMTA" status)"
check_match "restart: logged" "scheduler: pid $S1 killed by signal 9 after .*; restart in 1s" "$(cat "$LOG/zmta")"
wait_file "$PO/.mailq.sock" 10
wait_grep "scheduler\\[$S2\\]: info: initial scan" "$LOG/scheduler" 10 ||
	fail "restart: the new scheduler did not start up"

# --- reload -----------------------------------------------------------------
printf '%s\n' "$BAD" > "$ETC/scheduler.conf"
zmta reload
check_eq "reload: refused with a broken scheduler.conf" 78 "$RC"
check_match "reload: nothing reloaded" 'nothing reloaded' "$OUT"
printf '%s\n' "$GOOD" > "$ETC/scheduler.conf"
zmta reload
check_eq "reload: exit" 0 "$RC"
wait_grep "scheduler\\[$S2\\]: info: logs reopened" "$LOG/scheduler" 10 &&
	pass "reload: the scheduler got SIGHUP" || fail "reload: no 'logs reopened' in the scheduler log"
wait_grep "scheduler\\[$S2\\]: info: configuration reloaded" "$LOG/scheduler" 10 &&
	pass "reload: the scheduler reread scheduler.conf (SIGUSR1)" || fail "reload: scheduler.conf not reread"
check_eq "reload: same scheduler" "$S2" "$(status_pid scheduler)"

# a router installed while running is started by the next reload
cat > "$BIN/router" <<'SH'
#!/bin/sh
# stand-in router: -n checks; else it runs in the foreground; -L FILE is its log
[ "$1" = -n ] && { echo "router.conf: OK"; exit 0; }
log=/dev/null
[ "${1:-}" = -L ] && log=$2
trap 'echo "router[$$]: HUP" >> "$log"' HUP
trap 'echo "router[$$]: TERM" >> "$log"; exit 0' TERM
echo "router[$$]: started $*" >> "$log"
while :; do sleep 0.2; done
SH
chmod 755 "$BIN/router"
zmta reload
check_eq "reload: exit (router installed)" 0 "$RC"
R1=
for i in $(seq 1 600); do
	R1=$(status_pid router)
	[ -n "$R1" ] && break
	sleep 0.05
done
[ -n "$R1" ] && track "$R1"
[ -n "$R1" ] && pass "reload: the router installed since was started ($R1)" || fail "reload: router not started"
wait_grep "router\\[$R1\\]: started -L $LOG/router\$" "$LOG/router" 10 &&
	pass "router: started with its log option only" || fail "router: not started with -L"
zmta reload
wait_grep "router\\[$R1\\]: HUP" "$LOG/router" 10 && pass "reload: the router got SIGHUP" ||
	fail "reload: the router got no SIGHUP"

# --- stop -------------------------------------------------------------------
zmta stop
check_eq "stop: exit" 0 "$RC"
check_match "stop: says so" "stopped \\(supervisor pid $SUP\\)" "$OUT"
for p in "$SUP" "$S1" "$S2" "$R1"; do
	[ -n "$p" ] || continue
	wait_gone "$p" 5 && pass "stop: pid $p is gone" || fail "stop: pid $p still runs"
done
grep -q "router\\[$R1\\]: TERM" "$LOG/router" && pass "stop: the router got SIGTERM" ||
	fail "stop: the router got no SIGTERM"
zmta status
check_eq "status: not running -> EX_UNAVAILABLE" 69 "$RC"
check_match "status: says not running" "zmta: not running \\(postoffice $PO\\)" "$OUT"
zmta stop
check_eq "stop again: nothing to do" 0 "$RC"
check_match "stop again: says not running" 'not running' "$OUT"
# and it starts again (the stale pid file is taken over)
zmta start
check_eq "start after stop: exit" 0 "$RC"
SUP2=$(cat "$PO/.pid.zmta" 2>/dev/null)
[ -n "$SUP2" ] && track "$SUP2"
S3=$(status_pid scheduler)
[ -n "$S3" ] && track "$S3"
is_sched "$S3" && pass "start after stop: scheduler runs" || fail "start after stop: no scheduler"
# the stand-in router holds no pid file of its own: "zmta stop" cannot find
# it once its supervisor is gone, so the test stops it itself below
R2=
for i in $(seq 1 600); do
	R2=$(status_pid router)
	[ -n "$R2" ] && break
	sleep 0.05
done
[ -n "$R2" ] && track "$R2"
# --- a supervisor killed with SIGKILL leaves its daemons: status shows
# them, start refuses, stop stops them by their own pid files.  First wait
# until the scheduler holds its own pid lock (it takes it after start-up).
for i in $(seq 1 600); do
	[ "$(cat "$PO/.pid.scheduler" 2>/dev/null)" = "$S3" ] && break
	sleep 0.05
done
kill -KILL "$SUP2"
for i in $(seq 1 600); do
	"$ZT_ZMTA" status > /dev/null 2>&1
	[ $? = 69 ] && break
	sleep 0.05
done
zmta status
check_eq "killed supervisor: status exit" 69 "$RC"
check_match "killed supervisor: the scheduler runs outside" \
	"scheduler: running outside the supervisor, pid $S3 \\(lock $PO/.pid.scheduler\\)" "$OUT"
zmta start
check_eq "killed supervisor: start refused" 75 "$RC"
check_match "killed supervisor: start says why" 'stop the daemons above first' "$OUT"
zmta stop
check_eq "killed supervisor: stop exit" 0 "$RC"
check_match "killed supervisor: stop signals the scheduler" "scheduler: sent SIGTERM to pid $S3" "$OUT"
wait_gone "$S3" 5 && pass "killed supervisor: the scheduler is gone" ||
	fail "killed supervisor: scheduler $S3 still runs"
zmta status
check_match "killed supervisor: nothing left" '^zmta: not running' "$OUT"
check_nomatch "killed supervisor: no daemon outside" 'outside' "$OUT"
[ -n "$R2" ] && stop_pid "$R2"
# --- start -f (what zmta.service runs): the supervisor stays in the
# foreground, logs to stderr, and SIGTERM stops it and its daemons
"$ZT_ZMTA" start -f > "$ZT_W/fg.out" 2>&1 &
FG=$!
track "$FG"
S4=
for i in $(seq 1 600); do
	S4=$(status_pid scheduler)
	[ -n "$S4" ] && break
	sleep 0.05
done
[ -n "$S4" ] && track "$S4"
R3=$(status_pid router)
[ -n "$R3" ] && track "$R3"
is_sched "$S4" && pass "start -f: scheduler runs" || fail "start -f: no scheduler"
check_eq "start -f: the pid file names the foreground process" "$FG" "$(cat "$PO/.pid.zmta" 2>/dev/null)"
check_match "start -f: logs to stderr" "zmta\\[$FG\\]: info: scheduler: started, pid $S4" "$(cat "$ZT_W/fg.out")"
kill -TERM "$FG"
wait_gone "$FG" 40 && pass "start -f: SIGTERM stops the supervisor" || fail "start -f: still running"
wait "$FG"
check_eq "start -f: exit 0 after SIGTERM" 0 "$?"
wait_gone "$S4" 5 && pass "start -f: its scheduler is gone" || fail "start -f: scheduler $S4 still runs"
[ -n "$R3" ] && { wait_gone "$R3" 5 && pass "start -f: its router is gone" || fail "start -f: router $R3 still runs"; }
check_match "start -f: logged the stop" 'supervisor stopped' "$(cat "$ZT_W/fg.out")"
check_nomatch "start -f: no sanitizer report" "$SAN" "$(cat "$ZT_W/fg.out")"

# --- the queue length (nothing runs now): control files are numeric names
# in transport/ and its hash directories; quarantined messages have .reason
mkdir -p "$PO/transport/K/Q"
: > "$PO/transport/1234"; : > "$PO/transport/K/Q/5678"; : > "$PO/transport/.tmp1"
: > "$PO/router/4321"; : > "$PO/router/4322"; : > "$PO/deferred/99.deferred"
: > "$PO/postman/77.admin"; : > "$PO/postman/77.admin.body"; : > "$PO/postman/77.admin.reason"
zmta status
check_match "queue: counts" 'queue: 2 in transport/, 2 in router/, 1 in deferred/, 1 in postman/' "$OUT"
# --- a pid file planted by someone else (ZMTA_USER can write $PO): a
# locked .pid.zmta naming a process that is not zmta is never signalled
if command -v flock >/dev/null 2>&1; then
	# the locked descriptor survives the exec: sleep itself holds the lock
	( exec 9<>"$PO/.pid.zmta"; flock -x 9; exec sleep 30 ) &
	FL=$!
	track "$FL"
	for i in $(seq 1 600); do
		flock -n "$PO/.pid.zmta" true 2>/dev/null || break
		sleep 0.05
	done
	echo "$FL" > "$PO/.pid.zmta"
	zmta stop
	check_eq "planted pid file: stop refuses (EX_SOFTWARE)" 70 "$RC"
	check_match "planted pid file: says why" "names pid $FL, which does not run this zmta" "$OUT"
	zmta reload
	check_eq "planted pid file: reload refuses" 70 "$RC"
	alive "$FL" && pass "planted pid file: the process was not signalled" ||
		fail "planted pid file: process $FL was signalled"
	stop_pid "$FL"
fi
# a sanitizer build (--enable-sanitizers): the supervisor's stderr is its log
check_eq "no sanitizer report in the logs" "" "$(grep -El "$SAN" "$LOG"/* 2>/dev/null)"
[ "$ZT_FAILS" = 0 ] || show "$LOG/zmta" "$LOG/scheduler" "$LOG/router"
zt_done
