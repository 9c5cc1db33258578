#!/bin/sh
# router-kill.sh - the router is killed with SIGKILL again and again while
# 500 submissions flow in; sometimes the master alone, sometimes with its
# workers.  At the end (one more router run) every submission is a control
# file in transport/ with its body in queue/, or in deferred/ or postman/:
# none missing, no temp control file left, every control file complete.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ROUTER=$top_builddir/router/router
MKSUB=$top_builddir/tests/tools/mksub
need_built "$ROUTER" "$MKSUB"
N=${ROUTER_KILL_N:-500}

scratch_po "ROUTER_RESCAN=1" "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\naliases aliases\n' > "$ZT_W/router.conf"
printf 'team: %s, a@remote.test, b@remote.test\n' "$ME" > "$ZT_W/aliases"

# submitters: 5 x N/5 messages, in the background
for k in 1 2 3 4 5; do
	"$MKSUB" -P "$PO" -f bob@remote.test -m $((N / 5)) team "$ME" "x$k@remote.test" > "$ZT_W/inos.$k" &
	track $!
	eval "SUB$k=\$!"
done

round=0
while :; do
	round=$((round + 1))
	"$ROUTER" -w 3 -L "$ZT_W/router.log" &
	RPID=$!
	track "$RPID"
	sleep "$(printf '0.%02d' $((RANDOM % 20 + 5)))"
	kids=$(ps -o pid= --ppid "$RPID" 2>/dev/null | tr -d ' ')
	kill -KILL "$RPID" 2>/dev/null
	if [ $((round % 2)) = 0 ]; then
		for p in $kids; do kill -KILL "$p" 2>/dev/null; done
	fi
	wait "$RPID" 2>/dev/null
	running=0
	for k in 1 2 3 4 5; do
		eval "p=\$SUB$k"
		kill -0 "$p" 2>/dev/null && running=1
	done
	[ "$running" = 0 ] && [ "$round" -ge 8 ] && break
	[ "$round" -ge 200 ] && { fail "submitters did not finish"; break; }
done
info "router killed $round times"
for k in 1 2 3 4 5; do eval "wait \$SUB$k" || fail "submitter $k failed"; done
sleep 0.5   # workers of the last killed master finish their file

# a last run until router/ and public/ are empty
"$ROUTER" -w 3 -L "$ZT_W/router.log" &
RPID=$!
track "$RPID"
for i in $(seq 1 600); do
	left=$(find "$PO/router" "$PO/public" -type f -name '[0-9]*' | wc -l)
	[ "$left" = 0 ] && break
	sleep 0.1
done
sleep 0.3
kill -TERM "$RPID"
wait "$RPID" 2>/dev/null
check_eq "router/ and public/ empty" 0 "$(find "$PO/router" "$PO/public" -type f -name '[0-9]*' | wc -l)"

cat "$ZT_W"/inos.* | sort -u > "$ZT_W/all"
check_eq "submissions made" "$N" "$(wc -l < "$ZT_W/all")"
missing=0 bad=0
while read -r ino; do
	if [ -f "$PO/transport/$ino" ]; then
		c=$PO/transport/$ino
		[ -f "$PO/queue/$ino" ] || { bad=$((bad + 1)); info "no body for $ino"; continue; }
		[ "$(head -1 "$c")" = "@ 0x00000007" ] || { bad=$((bad + 1)); info "bad head $ino"; continue; }
		[ "$(grep -ac '^m$' "$c")" = 1 ] || { bad=$((bad + 1)); info "no m block $ino"; continue; }
		[ "$(tail -c 2 "$c" | od -An -c | tr -d ' ')" = '\n\n' ] || { bad=$((bad + 1)); info "truncated $ino"; continue; }
		[ "$(grep -ac '^r' "$c")" = 4 ] || { bad=$((bad + 1)); info "recipients of $ino"; continue; }
	elif ls "$PO/deferred/$ino".* > /dev/null 2>&1 || ls "$PO/postman/$ino".* > /dev/null 2>&1; then
		info "$ino set aside: $(ls "$PO/deferred/$ino".* "$PO/postman/$ino".* 2>/dev/null)"
	else
		missing=$((missing + 1))
		info "missing: $ino"
	fi
done < "$ZT_W/all"
check_eq "submissions missing" 0 "$missing"
check_eq "incomplete control files" 0 "$bad"
check_eq "temp control files left" 0 "$(find "$PO/transport" -name '.[0-9]*' | wc -l)"
check_eq "bodies without control file" 0 \
	"$(for f in "$PO"/queue/[0-9]*; do [ -f "$PO/transport/$(basename "$f")" ] || echo "$f"; done | wc -l)"
check_eq "control files = submissions" "$N" "$(find "$PO/transport" -type f -name '[0-9]*' | wc -l)"
[ "$ZT_FAILS" = 0 ] || tail -50 "$ZT_W/router.log"
zt_done
