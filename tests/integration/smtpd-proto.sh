#!/bin/sh
# smtpd-proto.sh - the smtpserver's protocol with real clients: swaks for
# the EHLO keywords and failures, python (tests/peers/smtp-client.py)
# for the four SMTP smuggling variants, 100 RCPTs and the next transaction
# pipelined in one write, STARTTLS injection, BDAT exact counts and
# DATA/BDAT mixing, parameters (555), 502/500/252, the error limit (421);
# relay denial for an untrusted network (never an open relay, also after
# SIGHUP); AUTH PLAIN/LOGIN offered only over TLS, relaying after AUTH.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
CLI="$ZT_PY $ZT_PEERS/smtp-client.py"
need_built "$SMTPD"
need_cmd swaks openssl

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
make_certs "$ZT_W/certs" || fail "make_certs"
HASH=$(openssl passwd -6 -salt abcdefgh 's3cret pw')
printf '# test users\nalice:%s\n' "$HASH" > "$ZT_W/passwd"
chmod 600 "$ZT_W/passwd"
PORT=$(pick_port)
SUBPORT=$(pick_port)
TLSPORT=$(pick_port)
{
	echo "hostname mail.local.test"
	echo "tls-cert $ZT_W/certs/server.pem"
	echo "tls-key $ZT_W/certs/server.key"
	echo "auth-file $ZT_W/passwd"
	echo "max-size 100000"
} > "$ZT_W/smtpserver.conf"
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -l "127.0.0.1:$SUBPORT/submission" \
	-l "127.0.0.1:$TLSPORT/smtps" -L "$ZT_W/smtpd.log" \
	2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; exit 1; }
nmsg() { find "$PO/router" -type f | wc -l; }
SW=(swaks --server "127.0.0.1:$PORT" --from a@client.test --helo client.test)
TLS=(--tls --tls-ca-path "$ZT_W/certs/ca.pem")

# EHLO keywords
out=$("${SW[@]}" --to "$ME@local.test" --quit-after EHLO 2>&1)
for kw in PIPELINING 'SIZE 100000' 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES STARTTLS SMTPUTF8; do
	check_match "EHLO announces $kw" "250[- ]$kw" "$out"
done
check_nomatch "no AUTH before TLS" '250[- ]AUTH' "$out"
out=$("${SW[@]}" --to "$ME@local.test" --quit-after EHLO "${TLS[@]}" 2>&1)
check_match "AUTH PLAIN LOGIN after STARTTLS" '250[- ]AUTH PLAIN LOGIN' "$out"
check_nomatch "no STARTTLS after TLS" '<~  250[- ]STARTTLS' "$out"

# a message with swaks, pipelined
out=$("${SW[@]}" --to "$ME@local.test" --pipeline 2>&1)
check_match "swaks --pipeline: queued" '250 2.0.0 Ok: queued as [0-9]+' "$out"
check_eq "one submission file" 1 "$(nmsg)"
f=$(find "$PO/router" -type f | head -1)
check_eq "envelope" "external|rcvdfrom client.test (client.test [127.0.0.1])|via smtp|with ESMTP|from <a@client.test>|todsn ORCPT=rfc822;$ME@local.test|to <$ME@local.test>|env-end" \
	"$(sed -n '1,/^env-end$/p' "$f" | tr '\n' '|' | sed 's/|$//')"
rm -f "$PO"/router/*

# failures
out=$("${SW[@]}" --to "nosuchuser@local.test" 2>&1)
check_match "unknown local user: 550 5.1.1" '<\*\* +550 5.1.1' "$out"
out=$("${SW[@]}" --to "$ME@local.test" --body "$(head -c 120000 /dev/zero | tr '\0' x)" 2>&1)
check_match "too big: 552 5.3.4" '552 5.3.4' "$out"
out=$($CLI misc "$PORT" 2>&1)
check_match "MAIL before EHLO: 503" 'MAIL FROM:<a@b.test> => 503' "$out"
check_match "unknown command: 500" 'FOO bar => 500 5.5.2' "$out"
check_match "EXPN: 502" 'EXPN staff => 502' "$out"
check_match "VRFY: 252 without revealing" 'VRFY root => 252 2.5.2' "$out"
check_nomatch "VRFY: no address in the reply" 'VRFY root => .*<' "$out"
check_match "HELP: 214 and the commands (STARTTLS, AUTH: configured)" '^HELP => 214 2\.0\.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH( ETRN)?$' "$out"
check_match "NOOP: 250 2.0.0" '^NOOP => 250 2\.0\.0 ' "$out"
check_match "RSET with an argument: 501" '^RSET x => 501 5\.5\.4 ' "$out"
check_match "QUIT: 221" '^QUIT => 221 2\.0\.0 ' "$out"
check_match "unknown parameter: 555" 'FOO=bar => 555' "$out"
check_match "SIZE over the limit: 552" 'SIZE=999999999999 => 552' "$out"
check_match "BODY RET ENVID accepted" 'ENVID=x1 => 250' "$out"
check_match "bad NOTIFY: 501" 'NOTIFY=BOGUS => 501' "$out"
check_match "postmaster with NOTIFY and ORCPT" 'ORCPT=rfc822;x\+40y => 250' "$out"
check_match "second EHLO resets the transaction" 'RCPT TO:<postmaster> => 503' "$out"
check_match "DATA with argument: 501" 'DATA x => 501' "$out"
out=$($CLI errors "$PORT" 2>&1)
check_match "error limit: 421" '^421 4.7.0' "$out"

# SMTP smuggling: no variant ends the data, no smuggled transaction
for v in lf-dot-lf lf-dot-crlf cr-dot-crlf crlf-dot-lf; do
	out=$($CLI smuggle "$PORT" "$v" "$ME@local.test" 2>&1)
	check_eq "smuggling $v: one refusal, nothing smuggled" "220 250 250 250 354 550 221" \
		"$(printf '%s\n' "$out" | cut -c1-3 | tr '\n' ' ' | sed 's/ $//')"
done
check_eq "smuggling: nothing queued" 0 "$(nmsg)"

# 100 RCPTs (one unknown) and the next transaction in one write
out=$($CLI pipeline100 "$PORT" "$ME@local.test" "nobody.x@local.test" 2>&1 | tail -1)
exp="250"
for i in $(seq 1 99); do exp="$exp 250"; done
exp="$exp 550 354 250 250 250 354 250 221"
check_eq "pipelined: every reply in order" "$exp" "$out"
check_eq "pipelined: two messages" 2 "$(nmsg)"
rm -f "$PO"/router/*

# BDAT
out=$($CLI bdat "$PORT" "$ME@local.test" 2>&1)
check_eq "BDAT replies" "220|250 2.1.0|250 2.1.5|250 2.0.0 22 octets received|250 2.0.0 Ok: queued|250 2.1.0|250 2.1.5|250 2.0.0 4 octets received|503 5.5.1 DATA not allowed after BDAT|250 2.0.0 Reset state|503 5.5.1 Need MAIL before BDAT|250 2.0.0 OK|221 2.0.0" \
	"$(printf '%s\n' "$out" | sed -E 's/^(220|221 2.0.0|250 2.1.[05]|250 2.0.0 Ok: queued).*/\1/' | tr '\n' '|' | sed 's/|$//')"
f=$(find "$PO/router" -type f | head -1)
check_eq "BDAT body exact" "Subject: b||QUIT|RSET|.|x" "$(sed -n '/^env-end$/,$p' "$f" | sed 1d | tr '\n' '|' | sed 's/|$//')"
rm -f "$PO"/router/*

# STARTTLS injection (CVE-2011-0411): the pipelined commands are dropped
out=$($CLI starttls-inject "$PORT" "$ZT_W/certs/ca.pem" 2>&1)
check_eq "STARTTLS injection discarded, state reset" "220 250 220 503 250 221" \
	"$(printf '%s\n' "$out" | cut -c1-3 | tr '\n' ' ' | sed 's/ $//')"
check_log "log: discarded bytes" 'discarding [0-9]+ bytes pipelined after STARTTLS' "$ZT_W/smtpd.log"

# AUTH: only over TLS; PLAIN and LOGIN; wrong password 535
out=$("${SW[@]}" --to "$ME@local.test" -a PLAIN -au alice -ap 's3cret pw' 2>&1)
check_nomatch "AUTH PLAIN without TLS not done" '235 2.7.0' "$out"
out=$($CLI auth "$PORT" "far@remote.test" alice 's3cret pw' 2>&1)
check_match "smtplib without TLS: AUTH absent" 'AUTH absent' "$out"
for m in PLAIN LOGIN; do
	out=$("${SW[@]}" --to "far@remote.test" "${TLS[@]}" -a $m -au alice -ap 's3cret pw' 2>&1)
	check_match "AUTH $m over TLS: 235" '235 2.7.0' "$out"
	check_match "AUTH $m: relaying allowed" '250 2.0.0 Ok: queued' "$out"
done
out=$("${SW[@]}" --to "$ME@local.test" "${TLS[@]}" -a PLAIN -au alice -ap 'wrong' 2>&1)
check_match "wrong password: 535 5.7.8" '535 5.7.8' "$out"
f=$(grep -l '^with ESMTPSA$' "$PO"/router/* 2>/dev/null | head -1)
check_match "with ESMTPSA, TLS version and cipher, user in rcvdfrom" 'rcvdfrom client.test \(client.test \[127.0.0.1\] TLSv1\.[23] [A-Z0-9_-]+ auth=alice\)' "$(cat "$f" 2>/dev/null)"
# the router turns the envelope into the Received field
if [ -x "$top_builddir/router/router" ] && [ -n "$f" ]; then
	with_timeout 30 "$top_builddir/router/router" -1 > "$ZT_W/router.out" 2>&1
	r=$(cat "$PO"/transport/* 2>/dev/null | tr '\n' ' ')
	check_match "Received: with ESMTPSA, TLS version and cipher" \
		'Received: from client.test \(client.test \[127.0.0.1\] TLSv1\.[23] [A-Z0-9_-]+ auth=alice\)[[:space:]]+by mail.local.test \(zmta\) via smtp with ESMTPSA id' "$r"
fi
out=$($CLI auth "$PORT" "$ME@local.test" alice 's3cret pw' "$ZT_W/certs/ca.pem" 2>&1)
check_match "smtplib STARTTLS + login" 'login ok' "$out"
rm -f "$PO"/router/*

# submission (587 kind): AUTH before MAIL; smtps (465 kind): implicit TLS
SUB=(swaks --server "127.0.0.1:$SUBPORT" --from a@client.test --helo client.test)
out=$("${SUB[@]}" --to "$ME@local.test" 2>&1)
check_match "submission without AUTH: 530 5.7.0" '530 5.7.0' "$out"
out=$("${SUB[@]}" --to "far@remote.test" "${TLS[@]}" -a LOGIN -au alice -ap 's3cret pw' 2>&1)
check_match "submission with AUTH: queued" '250 2.0.0 Ok: queued' "$out"
out=$(swaks --server "127.0.0.1:$TLSPORT" --tlsc --tls-ca-path "$ZT_W/certs/ca.pem" \
	--from a@client.test --helo client.test --to "$ME@local.test" 2>&1)
check_match "smtps: implicit TLS, queued" '250 2.0.0 Ok: queued' "$out"
check_match "smtps: TLS started before the greeting" 'TLS started' "$out"
f=$(grep -l '^with ESMTPS$' "$PO"/router/* 2>/dev/null | head -1)
[ -n "$f" ] && pass "smtps: with ESMTPS" || fail "smtps: no ESMTPS message"
# SMTPUTF8: a UTF-8 address needs the parameter
out=$($CLI dialog "$PORT" "EHLO client.test" "MAIL FROM:<j$(printf '\303\266')rg@client.test>" \
	"MAIL FROM:<j$(printf '\303\266')rg@client.test> SMTPUTF8" "RCPT TO:<$ME@local.test>" QUIT)
check_match "UTF-8 sender without SMTPUTF8: 501" 'rg@client\.test> => 501' "$out"
check_match "UTF-8 sender with SMTPUTF8: 250" 'rg@client\.test> SMTPUTF8 => 250' "$out"
rm -f "$PO"/router/*

# a client that stalls in the TLS handshake (STARTTLS, and implicit TLS)
# does not hold up the others: the handshake is a step of the event loop
"$ZT_PY" - "$PORT" "$TLSPORT" "$ZT_W/stalled" <<'PY' > /dev/null 2>&1 &
import socket, sys, time
a = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
a.recv(512)
a.sendall(b"EHLO staller.test\r\n")
time.sleep(0.3)
a.recv(4096)
a.sendall(b"STARTTLS\r\n")
time.sleep(0.3)
a.recv(512)
b = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20)
open(sys.argv[3], "w").write("stalling\n")
time.sleep(60)
PY
track $!
wait_file "$ZT_W/stalled" 10
out=$(with_timeout 20 "${SW[@]}" --to "$ME@local.test" --timeout 15 2>&1)
check_match "others served while two clients stall in TLS handshakes" '250 2.0.0 Ok: queued' "$out"
rm -f "$PO"/router/*

# relay denial: 127.0.0.1 trusted by default; after SIGHUP with another
# trusted network, 127.0.0.1 is the Internet
out=$("${SW[@]}" --to "far@remote.test" 2>&1)
check_match "trusted network may relay" '250 2.0.0 Ok: queued' "$out"
printf 'trusted-networks 192.0.2.0/24\n' >> "$ZT_W/smtpserver.conf"
kill -HUP "$SPID"
for i in $(seq 1 50); do grep -q reloaded "$ZT_W/smtpd.log" && break; sleep 0.1; done
rm -f "$PO"/router/*
for to in far@remote.test "far@remote.test@local.test" far%remote.test@local.test \
	"far!remote.test@local.test" "@local.test:far@remote.test"; do
	out=$("${SW[@]}" --to "$to" 2>&1)
	check_nomatch "untrusted: no relay to $to" '250 2.0.0 Ok: queued' "$out"
done
out=$("${SW[@]}" --to "far@remote.test" 2>&1)
check_match "untrusted: 554 5.7.1 relay access denied" '554 5.7.1 <far@remote.test>: Relay access denied' "$out"
out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "untrusted: local user still accepted" '250 2.0.0 Ok: queued' "$out"
out=$("${SW[@]}" --to "postmaster" 2>&1)
check_match "postmaster always accepted" '250 2.0.0 Ok: queued' "$out"
check_nomatch "no relayed message queued" 'remote' "$(cat "$PO"/router/* 2>/dev/null | grep '^to ')"
stop_pid "$SPID"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/smtpd.err"; then
	fail "sanitizer report"; show "$ZT_W/smtpd.err"
fi
zt_done
