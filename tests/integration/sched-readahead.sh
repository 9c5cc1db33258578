#!/bin/sh
# sched-readahead.sh - an agent that asks for its next job before it
# reports the previous one (as the smtp agent does) ends the round with
# the job still in flight.  Nothing was deferred, so the round takes no
# retry step: the thread is "in flight" with no wakeup (W=0s), never in
# "retry wait"; when the report comes it is delivered and the thread is
# gone.  The same agent deferring its job afterwards closes the round then:
# the thread goes to "retry wait" (it is not left "in flight").
ZT_TIMEOUT=${ZT_TIMEOUT:-40}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
MAILQ=${ZT_MAILQ:-$top_builddir/scheduler/mailq}
need_built "$ZT_SCHED" "$ZT_MKJOB" "$MAILQ"
scratch_po
# ahead.sh PO GATE WORD - take one job, ask for the next, report WORD
# for its first recipient once GATE exists; then idle until told to exit
cat > "$ZT_W/ahead.sh" <<'TA'
#!/bin/sh
po=$1 gate=$2 word=$3
echo '#hungry'
read -r job || exit 0
echo '#hungry'
path=${job%%	*}
off=$(grep -boa '^r' "$po/transport/$path" | head -n 1 | cut -d: -f1)
n=0
while [ ! -e "$gate" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
printf '%s/%s\t\t%s read-ahead test\n' "${path##*/}" "$off" "$word"
while read -r l; do
	[ -z "$l" ] && exit 0
	[ "$l" = '#idle' ] && echo '#hungry'
done
TA
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1h retries="1" expiry=1d idlemax=30s
rok/*	command="/bin/sh $ZT_W/ahead.sh $PO $ZT_W/gate-ok ok"
rdef/*	command="/bin/sh $ZT_W/ahead.sh $PO $ZT_W/gate-def deferred"
CF
SL=$ZT_W/sched.log
# thread_line CHANNEL - the mailq -Q line of the channel's thread
thread_line() { with_timeout 10 "$MAILQ" -P "$PO" -Q | grep "^$1/"; }
# round_over CHANNEL - wait until the channel's thread has no agent
round_over() {
	for i in $(seq 1 100); do
		case "$(thread_line "$1")" in
		*"in flight"*|*"retry wait"*) return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}
jok=$("$ZT_MKJOB" -P "$PO" -c rok "a@x.test")
jdef=$("$ZT_MKJOB" -P "$PO" -c rdef "b@x.test")
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$SL" &
SPID=$!
track "$SPID"
wait_file "$PO/.mailq.sock" 10 || fail "no mailq socket"

for ch in rok rdef; do
	round_over $ch || fail "$ch: the agent did not leave the thread"
	check_match "$ch: read-ahead round takes no retry step" \
		'^r[a-z]+/x\.test/0 R=1 A=0 .* W=0s in flight$' "$(thread_line $ch)"
done
check_eq "no deferral before the reports" 0 "$(grep -c 'deferred (attempt' "$SL")"

: > "$ZT_W/gate-ok"
for i in $(seq 1 100); do [ -e "$PO/transport/$jok" ] || [ -e "$PO/queue/$jok" ] || break; sleep 0.1; done
check_eq "delivered message left the spool" 0 "$(find "$PO/transport/$jok" "$PO/queue/$jok" 2>/dev/null | wc -l)"
check_eq "its thread is gone" "" "$(thread_line rok)"

: > "$ZT_W/gate-def"
for i in $(seq 1 100); do grep -q 'deferred (attempt' "$SL" && break; sleep 0.1; done
for i in $(seq 1 50); do case "$(thread_line rdef)" in *"retry wait"*) break ;; esac; sleep 0.1; done
check_match "a deferral after the round closes it: retry wait" \
	'^rdef/x\.test/0 R=1 A=1 .* W=[1-9][0-9]*s retry wait$' "$(thread_line rdef)"
[ -e "$PO/transport/$jdef" ] && pass "deferred message still queued" || fail "deferred message gone"
kill -0 "$SPID" 2>/dev/null && pass "scheduler still running" || fail "scheduler died"
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null
[ "$ZT_FAILS" = 0 ] || show "$SL"
zt_done
