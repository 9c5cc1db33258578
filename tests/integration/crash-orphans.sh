#!/bin/sh
# crash-orphans.sh - a body in queue/ that no control file names (what a
# SIGKILL of the scheduler between unlinking a control file and its body
# leaves) is removed when the scheduler starts; bodies still named by a
# router/ file, the router's temp control file transport/.<id>, a control
# file (found by the sweep's listing of transport/, also in a hash
# directory), or a deferred/ or postman/ file stay.
ZT_TIMEOUT=${ZT_TIMEOUT:-60}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_ZMTA" "$ZT_SCHED" "$ZT_MKJOB"
PO=$ZT_W/po BIN=$ZT_W/bin ETC=$ZT_W/etc LOG=$ZT_W/log
mkdir -p "$BIN" "$ETC" "$LOG"
chmod 755 "$BIN" "$ETC" "$LOG"
ln -s "$ZT_SCHED" "$BIN/scheduler"
scratch_po -p "$PO" -c "$ETC/zmta.conf" -H 1 "MAILBIN=$BIN" "MAILSHARE=$ETC" "MAILVAR=$ETC" \
	"LOGDIR=$LOG"
printf '*/*\tinterval=1s retries="1" expiry=1h idlemax=5s\n' > "$ETC/scheduler.conf"
for n in 111 333 444 555 666; do echo "body $n" > "$PO/queue/$n"; done
echo "body 777" > "$PO/queue/K/777"
echo "body 888" > "$PO/queue/K/888"
: > "$PO/transport/.333"          # the router between its two renames
: > "$PO/deferred/444.deferred"
: > "$PO/postman/555.admin"
cp "$PO/queue/666" "$PO/router/666"
: > "$PO/transport/K/.888"
: > "$PO/queue/notanumber"
# real queued messages (control file + body; no agent is configured for
# their channel, so they stay queued): their bodies must stay
jobs=$(mkjob -P "$PO" -q -m 3 u@x.test) || fail "mkjob"
[ "$(echo "$jobs" | wc -l)" = 3 ] || fail "mkjob made $(echo "$jobs" | wc -l) messages"
with_timeout 30 "$ZT_ZMTA" start > "$ZT_W/start.out" 2>&1 || { show "$ZT_W/start.out"; fail "zmta start"; }
for i in $(seq 1 100); do
	grep -q 'initial scan' "$LOG/scheduler" 2>/dev/null && break
	sleep 0.05
done
with_timeout 30 "$ZT_ZMTA" stop > "$ZT_W/stop.out" 2>&1
check_eq "orphan body removed" no "$([ -e "$PO/queue/111" ] && echo yes || echo no)"
check_eq "orphan body in a hash directory removed" no "$([ -e "$PO/queue/K/777" ] && echo yes || echo no)"
for n in 333 444 555 666 K/888 notanumber; do
	check_eq "body $n kept" yes "$([ -e "$PO/queue/$n" ] && echo yes || echo no)"
done
for j in $jobs; do
	check_eq "body of queued message $j kept" yes "$([ -e "$PO/queue/$j" ] && echo yes || echo no)"
done
check_match "removal logged" 'removed orphan body queue/111' "$(cat "$LOG/scheduler")"
check_match "removal logged (hash)" 'removed orphan body queue/K/777' "$(cat "$LOG/scheduler")"
[ "$ZT_FAILS" = 0 ] || show "$LOG/scheduler" "$LOG/zmta"
zt_done
