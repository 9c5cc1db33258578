#!/bin/sh
# sched-readerr.sh - a system error while the scheduler reads a control
# file (EIO, EMFILE: injected with the rderr.so LD_PRELOAD shim) is not a
# parse error: the file stays in transport/ (nothing in postman/) and is
# read again later and delivered.  A file that really does not parse
# still goes to postman/.
ZT_TIMEOUT=${ZT_TIMEOUT:-90}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED" "$ZT_SMTP" "$ZT_MKJOB"
need_cmd cc socat
SHIM=$ZT_W/rderr.so
cc -shared -fPIC -o "$SHIM" "$top_srcdir/tests/tools/rderr.c" -ldl > "$ZT_W/cc.out" 2>&1 ||
	{ show "$ZT_W/cc.out"; skip "cannot build the rderr shim with cc"; }
if ldd "$ZT_SCHED" 2>/dev/null | grep -q 'libasan'; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export ASAN_OPTIONS
fi
nm "$ZT_SCHED" 2>/dev/null | grep -q ' [TW] pread$' &&
	skip "$ZT_SCHED defines pread itself (static sanitizer runtime): the shim cannot work"
start_sink_nodump
scratch_po
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1h retries="1" expiry=1d idlemax=2s
smtp/*	command="$ZT_SMTP -c \$channel -p $SINK_PORT"
CF
run_case() {	# ERRNO
	local j bad log=$ZT_W/rderr.$1.log
	j=$("$ZT_MKJOB" -P "$PO" -f "s$1@src.test" "r$1@[127.0.0.1]")
	RDERR_MATCH=/transport/$j RDERR_ERRNO=$1 RDERR_COUNT=1 RDERR_LOG=$log LD_PRELOAD=$SHIM \
		"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.$1.log" &
	SPID=$!
	track "$SPID"
	wait_file "$PO/.scheduler.notify" 10 || fail "$1: no notify socket"
	for i in $(seq 1 50); do [ -s "$log" ] && break; sleep 0.1; done
	[ -s "$log" ] || { fail "$1: the shim did not fire"; stop_pid "$SPID"; return; }
	sleep 0.3
	check_eq "$1: nothing in postman/" 0 "$(find "$PO/postman" -type f | wc -l)"
	grep -q "cannot read now" "$ZT_W/sched.$1.log" && pass "$1: logged as retry later" ||
		fail "$1: no 'cannot read now' log line"
	# read again now (a rescan would do it within 10 s)
	sched_notify "$j"
	for i in $(seq 1 150); do [ ! -e "$PO/transport/$j" ] && break; sleep 0.1; done
	[ ! -e "$PO/transport/$j" ] && pass "$1: read again and delivered" || fail "$1: still queued"
	# the log line may follow the unlink (the scheduler holds log lines briefly)
	for i in $(seq 1 50); do grep -q 'offset [0-9]*: ok' "$ZT_W/sched.$1.log" && break; sleep 0.1; done
	check_eq "$1: delivered" 1 "$(grep -c 'offset [0-9]*: ok' "$ZT_W/sched.$1.log")"
	kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
	[ "$ZT_FAILS" = 0 ] || show "$ZT_W/sched.$1.log"
}
run_case EIO
run_case EMFILE
# a file that does not parse is still quarantined
printf 'garbage\001 not a control file\n' > "$PO/transport/1234501"
printf 'x\n' > "$PO/queue/1234501"
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.bad.log" &
SPID=$!
track "$SPID"
r=
for i in $(seq 1 100); do
	r=$(grep -l '^control: transport/1234501$' "$PO"/postman/*.reason 2>/dev/null | head -1)
	[ -n "$r" ] && break
	sleep 0.1
done
[ -n "$r" ] && pass "unparseable file quarantined" || fail "unparseable file not in postman/"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
zt_done
