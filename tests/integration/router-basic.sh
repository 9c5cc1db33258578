#!/bin/sh
# router-basic.sh - the router daemon on a scratch postoffice: submissions
# written with libspool (tests/tools/mksub) become control files in the
# ZMailer format with the body in queue/ and a "NEW" datagram to the
# scheduler socket; aliases with owner-, routes, an unknown user (written
# failed with a 5.1.1 'd' line), a hop-count loop (5.4.6), an untrusted
# submitter (forced sender, X-Authentication-Warning), a bad envelope
# (postman/ with a reason), a header that is repaired, SIGHUP with a broken
# table (old tables kept), router -n, newaliases; then the real scheduler
# turns the unknown user into an RFC 3464 report that the router routes
# back to the sender.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ROUTER=$top_builddir/router/router
NEWALIASES=$top_builddir/router/newaliases
MKSUB=$top_builddir/tests/tools/mksub
ZT_SCHED=$top_builddir/scheduler/scheduler
need_built "$ROUTER" "$NEWALIASES" "$MKSUB" "$ZT_SCHED"

scratch_po "ROUTER_RESCAN=1" "ROUTER_DEFER_RETRY=2" \
	"ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
cat > "$ZT_W/router.conf" <<EOF
# test configuration
myhostname mail.local.test
localdomains local.test
aliases aliases
route example.org smtp![127.0.0.1]
route .lan smtp!gw.lan
hop_limit 20
EOF
cat > "$ZT_W/aliases" <<EOF
staff: $ME, far@remote.test,
	x@example.org
list: $ME, "|/bin/cat", /tmp/never-written
owner-list: $ME
EOF

# router -n
out=$("$ROUTER" -n 2>&1)
check_match "router -n: ok" 'router.conf: ok' "$out"
check_match "router -n: aliases counted" 'aliases 3' "$out"
check_match "router -n: routes counted" 'routes 2' "$out"
printf 'route bad\n' > "$ZT_W/bad.conf"
out=$("$ROUTER" -n -f "$ZT_W/bad.conf" 2>&1)
check_eq "router -n on a bad file: EX_CONFIG" 78 "$?"
check_match "router -n names file and line" 'bad.conf:1: "route" needs|bad.conf:1: route' "$out"

# a listener on the scheduler's notify socket
"$ZT_PY" - "$PO/.scheduler.notify" "$ZT_W/notes" <<'PY' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(512).decode() + "\n")
PY
LPID=$!
track "$LPID"
wait_file "$PO/.scheduler.notify" 10 || fail "notify listener did not start"

"$ROUTER" -L "$ZT_W/router.log" &
RPID=$!
track "$RPID"
wait_file "$PO/.router.notify" 10 || fail "router did not bind its socket"

# 1: aliases, routes, unknown user, DSN data
INO=$("$MKSUB" -P "$PO" -f bob@remote.test -N FAILURE,DELAY -R HDRS -V ENV1 \
	-h "Message-ID: <m1@remote.test>" staff "nosuch@local.test" list "y@a.lan")
wait_file "$PO/transport/$INO" 20 || { show "$ZT_W/router.log"; fail "no control file"; zt_done; }
C=$PO/transport/$INO
check_eq "router/ file is gone" no "$([ -e "$PO/router/$INO" ] && echo yes || echo no)"
check_eq "body moved to queue/" yes "$([ -f "$PO/queue/$INO" ] && echo yes || echo no)"
check_eq "first line" "@ 0x00000007" "$(head -1 "$C")"
check_eq "i line" "i $INO" "$(sed -n 2p "$C")"
off=$(sed -n 's/^o //p' "$C")
check_eq "o points at the body" "Test body line one." "$(tail -c +$((off + 1)) "$PO/queue/$INO" | head -1)"
check_eq "l line" "l <m1@remote.test>" "$(grep '^l ' "$C")"
check_match "sender quad" '^s smtp remote.test bob@remote.test [0-9]+$' "$(grep -m1 '^s ' "$C")"
check_match "local user" "^r {11}local $ME $ME $(id -u)\$" "$(grep -a "^r.*local $ME $ME" "$C")"
check_match "alias to remote" '^r {11}smtp remote.test far@remote.test 0$' "$(grep -a 'far@remote' "$C" | grep '^r')"
check_match "route with a literal" '^r {11}smtp \[127.0.0.1\] x@example.org 0$' "$(grep -a '^r.*x@example.org' "$C")"
check_match "route by parent domain" '^r {11}smtp gw.lan y@a.lan 0$' "$(grep -a '^r.*y@a.lan' "$C")"
check_match "pipe as nobody" '^r {11}local nobody "?\|/bin/cat"? [0-9]+$' "$(grep -a '^r.*/bin/cat' "$C")"
check_match "owner-list is the sender" "^s smtp mail.local.test owner-list@mail.local.test" "$(grep -a '^s .*owner-list' "$C")"
check_eq "duplicate suppressed ($ME once)" 1 "$(grep -ac "^r.*local $ME $ME" "$C")"
check_match "unknown user written failed" '^r- {10}error nouser nosuch@local.test 0$' "$(grep -a '^r.*nosuch' "$C")"
check_match "N line kept" '^N NOTIFY=FAILURE,DELAY ORCPT=rfc822;staff$' "$(grep -a -m1 '^N ' "$C")"
check_eq "R lines" "$(grep -ac '^r' "$C")" "$(grep -ac '^R HDRS$' "$C")"
check_eq "n lines" "$(grep -ac '^r' "$C")" "$(grep -ac '^n ENV1$' "$C")"
check_match "d line 5.1.1" $'^d [0-9]+:[0-9]+:[0-9]+::[0-9]+\tnosuch@local.test\001failed\0015.1.1' "$(grep -a '^d ' "$C")"
check_eq "one m block" 1 "$(grep -ac '^m$' "$C")"
check_match "Received with the spool id" "by mail.local.test \\(zmta\\) with local id S$INO" "$(cat "$C")"
check_match "Date added" '^Date: ' "$(grep -a '^Date: ' "$C")"
check_eq "Message-ID not added twice" 1 "$(grep -aci '^Message-ID:' "$C")"
wait_lines "$ZT_W/notes" 1 10
check_match "scheduler notified" "^NEW $INO\$" "$(cat "$ZT_W/notes")"

# 2: hop count over the limit: every recipient fails with 5.4.6
INO=$("$MKSUB" -P "$PO" -f bob@remote.test -r 25 "$ME")
wait_file "$PO/transport/$INO" 20 || fail "no control file for the loop"
check_match "loop: recipient failed" '^r- {10}error loopexceeded ' "$(grep -a '^r' "$PO/transport/$INO")"
check_match "loop: 5.4.6" $'\001failed\0015.4.6 ' "$(grep -a '^d ' "$PO/transport/$INO")"
check_match "loop: address qualified" $'\t'"$ME@mail.local.test"$'\001' "$(grep -a '^d ' "$PO/transport/$INO")"

# 3: no Message-ID: one is made from the spool id
INO=$("$MKSUB" -P "$PO" -f bob@remote.test "$ME")
wait_file "$PO/transport/$INO" 20 || fail "no control file (3)"
check_match "Message-ID added" "^Message-ID: <S$INO[A-Za-z0-9-]*@mail.local.test>" "$(grep -a '^Message-ID' "$PO/transport/$INO")"
check_match "l line = generated id" "^l <S$INO" "$(grep -a '^l ' "$PO/transport/$INO")"

# 4: bad envelope -> postman/ with a reason, nothing lost
printf 'frobnicate yes\nto <%s>\nenv-end\nSubject: x\n\nbody\n' "$ME" > "$PO/public/scratch"
INO=$(stat -c %i "$PO/public/scratch")
mv "$PO/public/scratch" "$PO/router/$INO"
wait_file "$PO/postman/$INO.badsubmit" 20 || fail "bad envelope not in postman/"
check_match "postman reason" 'unknown envelope keyword "frobnicate"' "$(cat "$PO/postman/$INO.badsubmit.reason" 2>/dev/null)"

# 5: a header with a line that is not a field, NUL and 8-bit bytes: repaired
printf 'from <bob@remote.test>\nto <%s>\nenv-end\nSubject: caf\303\251 \000x\nthis is not a header\nX-Tail: y\n\nbody\n' "$ME" > "$PO/public/scratch"
INO=$(stat -c %i "$PO/public/scratch")
mv "$PO/public/scratch" "$PO/router/$INO"
wait_file "$PO/transport/$INO" 20 || fail "no control file (5)"
check_match "8-bit kept, NUL replaced" $'^Subject: caf\303\251  x$' "$(grep -a '^Subject' "$PO/transport/$INO")"
off=$(sed -n 's/^o //p' "$PO/transport/$INO")
check_eq "body starts at the non-field line" "this is not a header" "$(tail -c +$((off + 1)) "$PO/queue/$INO" | head -1)"

# 6: an untrusted submitter (file owned by an unknown uid; needs root)
if [ "$(id -u)" = 0 ]; then
	printf 'from <ceo@bank.test>\nto <%s>\nenv-end\nSubject: x\n\nbody\n' "$ME" > "$PO/public/scratch"
	chown 54321 "$PO/public/scratch"
	INO=$(stat -c %i "$PO/public/scratch")
	mv "$PO/public/scratch" "$PO/public/$INO"
	"$ZT_PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.sendto(("NEW public "+sys.argv[2]).encode(), sys.argv[1])' "$PO/.router.notify" "$INO"
	wait_file "$PO/transport/$INO" 20 || fail "no control file (6)"
	check_match "forced sender" '^s smtp mail.local.test uid54321@mail.local.test 54321$' "$(grep -a '^s ' "$PO/transport/$INO")"
	check_match "X-Authentication-Warning" '^X-Authentication-Warning: mail.local.test: uid54321 set sender to <ceo@bank.test> using -f$' "$(grep -a '^X-Auth' "$PO/transport/$INO")"
else
	info "not root: untrusted-submitter case skipped"
fi

# 6b: a control file that cannot be written: the message goes to
# deferred/ and comes back when the obstacle is gone
printf 'from <bob@remote.test>\nto <%s>\nenv-end\nSubject: deferred\n\nbody\n' "$ME" > "$PO/public/scratch"
INO=$(stat -c %i "$PO/public/scratch")
mkdir "$PO/transport/.$INO" && touch "$PO/transport/.$INO/block"
mv "$PO/public/scratch" "$PO/router/$INO"
wait_file "$PO/deferred/$INO.deferred" 20 || fail "not deferred"
check_log "deferral logged" "S$INO.*deferred: cannot create transport/.$INO" "$ZT_W/router.log"
rm -rf "$PO/transport/.$INO"
wait_file "$PO/transport/$INO" 20 || fail "deferred message not routed after the retry"
check_eq "deferred/ empty again" 0 "$(find "$PO/deferred" -type f | wc -l)"

# 7: a broken alias table keeps the old one; newaliases reports it
cp "$ZT_W/aliases" "$ZT_W/aliases.good"
printf 'broken line without colon\n' >> "$ZT_W/aliases"
out=$("$NEWALIASES" 2>&1)
check_eq "newaliases on a broken table: EX_CONFIG" 78 "$?"
check_match "newaliases names file and line" 'aliases:5: missing' "$out"
kill -HUP "$RPID"
for i in $(seq 1 100); do grep -q 'reload failed' "$ZT_W/router.log" && break; sleep 0.1; done
check_log "reload failure logged" 'reload failed, old tables kept: .*aliases:5' "$ZT_W/router.log"
INO=$("$MKSUB" -P "$PO" -f bob@remote.test staff)
wait_file "$PO/transport/$INO" 20 || fail "no control file (7)"
check_match "old aliases still used" 'far@remote.test' "$(grep -a '^r' "$PO/transport/$INO")"
cp "$ZT_W/aliases.good" "$ZT_W/aliases"
printf 'newalias: far2@remote.test\n' >> "$ZT_W/aliases"
out=$("$NEWALIASES" 2>&1)
check_eq "newaliases on a good table" 0 "$?"
check_match "newaliases reached the router" 'router asked to reload' "$out"
for i in $(seq 1 100); do grep -q 'RELOAD request: tables reloaded' "$ZT_W/router.log" && break; sleep 0.1; done
INO=$("$MKSUB" -P "$PO" -f bob@remote.test newalias)
wait_file "$PO/transport/$INO" 20 || fail "no control file (7b)"
check_match "new alias used" 'far2@remote.test' "$(grep -a '^r' "$PO/transport/$INO")"

# 8: the real scheduler: an unknown user becomes an RFC 3464 report,
# which the router routes back to the sender (null envelope sender)
stop_pid "$LPID"   # the notify listener
rm -f "$PO/.scheduler.notify"
cat > "$ZT_W/scheduler.conf" <<CF
*/*	interval=1h expiry=1d
smtp/*	command="/bin/false"
local/*	command="/bin/false"
CF
INO=$("$MKSUB" -P "$PO" -f bob@remote.test -N FAILURE nobody-here@local.test)
wait_file "$PO/transport/$INO" 20 || fail "no control file (8)"
"$ZT_SCHED" -i -f "$ZT_W/scheduler.conf" -P "$PO" -L "$ZT_W/sched.log" &
track $!
bounce=""
for i in $(seq 1 200); do
	for f in $(grep -la '^s error - - 0' "$PO"/transport/[0-9]* 2>/dev/null); do
		grep -qa 'nobody-here' "$PO/queue/$(basename "$f")" && bounce=$f
	done
	[ -n "$bounce" ] && break
	sleep 0.1
done
if [ -n "$bounce" ]; then
	pass "report routed by the router"
	check_match "report to the sender" '^r {11}smtp remote.test bob@remote.test 0$' "$(grep -a '^r' "$bounce")"
	bq=$PO/queue/$(basename "$bounce")
	check_match "multipart/report" 'report-type=delivery-status' "$(cat "$bq")"
	check_match "Status 5.1.1" 'Status: 5\.1\.1' "$(cat "$bq")"
	check_match "Final-Recipient" 'Final-Recipient: rfc822; ?nobody-here@local.test' "$(cat "$bq")"
else
	fail "no report control file"
	show "$ZT_W/sched.log" "$ZT_W/router.log"
fi
check_eq "original message finished" no "$([ -e "$PO/transport/$INO" ] && echo yes || echo no)"

kill -0 "$RPID" 2>/dev/null && pass "router still running" || fail "router died"
kill -TERM "$RPID"
wait "$RPID" 2>/dev/null
check_eq "router exit on TERM" 0 "$?"
check_eq "nothing left in router/" 0 "$(find "$PO/router" -type f | wc -l)"
check_eq "no errors logged (but the reload)" 0 "$(grep ': error: ' "$ZT_W/router.log" | grep -vc 'reload failed')"

# group commit: 40 files waiting, one worker (-w 1), one pass (-1): two
# batches (ROUTER_BATCH 32 by default), each committed as a whole
"$MKSUB" -P "$PO" -f bob@remote.test -m 40 "$ME" > "$ZT_W/batch.inos"
check_eq "40 files waiting" 40 "$(find "$PO/router" -type f | wc -l)"
"$ROUTER" -1 -w 1 -L "$ZT_W/router-batch.log"
check_eq "router -1 exit" 0 "$?"
check_eq "batches of 32 and 8" "32 8" "$(sed -n 's/.*batch: \([0-9]*\) of \([0-9]*\) files committed.*/\1/p' "$ZT_W/router-batch.log" | tr '\n' ' ' | sed 's/ $//')"
check_eq "every file routed" 40 "$(grep -c 'from=<' "$ZT_W/router-batch.log")"
check_eq "nothing left in router/ after the batches" 0 "$(find "$PO/router" -type f | wc -l)"
check_eq "no temp control file" 0 "$(find "$PO/transport" -name '.*' -type f | wc -l)"
check_eq "no errors in the batch run" 0 "$(grep -c ': error: ' "$ZT_W/router-batch.log")"
[ "$ZT_FAILS" = 0 ] || show "$ZT_W/router.log" "$ZT_W/router-batch.log"
zt_done
