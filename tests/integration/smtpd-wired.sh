#!/bin/bash
# smtpd-wired.sh - the smtpserver daemon with its policy blocks wired in,
# against the running daemon (swaks, python):
#   - greylisting (LMDB under $POSTOFFICE/greylist, delay 2 s): the first
#     attempt of an untrusted client gets 450 4.7.1, a retry after the
#     delay (polled, not timed) is accepted; an authenticated client is
#     not greylisted;
#   - AUTH PLAIN against a yescrypt entry of the password file (pol_passwd;
#     the file must be mode 0600), CRAM-MD5 offered and working for a
#     {plain} entry with auth-plain-secrets yes, refused (535, logged why)
#     for a user whose entry is hashed;
#   - the PROXY protocol: a v1 header on a listener marked proxy-protocol
#     makes the proxied address the client (trusted network, relaying,
#     rcvdfrom/Received); a listener not marked answers it 500;
#   - policy delegation to Debian's postgrey: DEFER first (450 4.7.1),
#     after its delay a pass with the PREPENDed X-Greylist header in the
#     queued message;
#   - the tarpit (turned on by SIGHUP): greeting and rejected commands
#     still answered (after delays, not timed), the client dropped with
#     421 after tarpit-max-rejects rejections.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks perl postgrey

ME=$(id -un)
scratch_po "ROUTERCONF=$ZT_W/router.conf"
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
HASH=$(perl -e 'print crypt("s3cret pw", q($y$j9T$F5Jx5fExrKuPp53xLKQ..1$))')
case "$HASH" in '$y$'*) ;; *) skip "crypt(3) without yescrypt" ;; esac
printf 'alice:%s\nbob:{plain}cram pw\n' "$HASH" > "$ZT_W/passwd"
chmod 600 "$ZT_W/passwd"
PORT=$(pick_port)
PPORT=$(pick_port)
{
	echo "hostname mail.local.test"
	echo "trusted-networks 198.51.100.0/24"
	echo "auth-file $ZT_W/passwd"
	echo "auth-plain-secrets yes"
	echo "auth-plaintext yes"
	echo "greylist on"
	echo "greylist-delay 2s"
	echo "listen 127.0.0.1:$PORT smtp"
	echo "listen 127.0.0.1:$PPORT smtp proxy-protocol"
} > "$ZT_W/smtpserver.conf"
"$SMTPD" -n -C "$ZT_W/smtpserver.conf" || fail "smtpserver -n accepts the policy settings"
{ cat "$ZT_W/smtpserver.conf"; printf 'greylist-ipv6-prefix 56\ngreylist-ipv4-prefix 20\n'; } > "$ZT_W/c1.conf"
"$SMTPD" -n -C "$ZT_W/c1.conf" && pass "smtpserver -n: greylist-ipv6-prefix 56" ||
	fail "smtpserver -n refuses greylist-ipv6-prefix 56"
printf 'greylist-delay soon\n' > "$ZT_W/c2.conf"
out=$("$SMTPD" -n -C "$ZT_W/c2.conf" 2>&1)
check_match "smtpserver -n: a bad greylist-delay is file:line" 'c2.conf:1: greylist-delay: bad interval' "$out"
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; exit 1; }
wait_port "$PPORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; exit 1; }
SW=(timeout 30 swaks --server "127.0.0.1:$PORT" --from a@client.test --helo client.test)
CLI="$ZT_PY $ZT_PEERS/smtp-client.py"

# --- greylisting ----------------------------------------------------------------
out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "greylisting: first attempt 450 4.7.1" '<\*\* +450 4\.7\.1 .*Greylisted' "$out"
check_nomatch "greylisting: nothing queued" 'queued as' "$out"
[ -d "$PO/greylist" ] && pass "LMDB store under \$POSTOFFICE/greylist" || fail "no $PO/greylist"
# retry until the 2 s delay is over (polled)
for i in $(seq 1 20); do
	sleep 1
	out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
	case "$out" in *Greylisted*) continue ;; esac
	break
done
check_match "greylisting: retry after the delay accepted" '250 2.0.0 Ok: queued' "$out"
out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "greylisting: allowed triplet passes at once" '250 2.0.0 Ok: queued' "$out"
# SIGHUP closes and reopens the LMDB store: the state is kept
kill -HUP "$SPID"
for i in $(seq 1 100); do grep -q reloaded "$ZT_W/smtpd.log" && break; sleep 0.2; done
out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "greylisting after SIGHUP: allowed triplet still passes" '250 2.0.0 Ok: queued' "$out"
out=$("${SW[@]}" --from other@client.test --to "$ME@local.test" 2>&1)
check_match "greylisting after SIGHUP: a new triplet 450" '<\*\* +450 4\.7\.1 .*Greylisted' "$out"

# --- AUTH -----------------------------------------------------------------------
out=$("${SW[@]}" --to "$ME@local.test" --quit-after EHLO 2>&1)
check_match "CRAM-MD5 offered with {plain} entries" '250[- ]AUTH .*CRAM-MD5' "$out"
out=$("${SW[@]}" --from new@client.test --to far@remote.test --auth PLAIN --auth-user alice \
	--auth-password 's3cret pw' 2>&1)
check_match "AUTH PLAIN with a yescrypt entry: 235" '235 2\.7\.0' "$out"
check_match "authenticated: relayed, not greylisted" '250 2.0.0 Ok: queued' "$out"
out=$("${SW[@]}" --to far@remote.test --auth PLAIN --auth-user alice --auth-password wrong 2>&1)
check_match "wrong password: 535" '535 5\.7\.8' "$out"
out=$("${SW[@]}" --from cram@client.test --to far@remote.test --auth CRAM-MD5 --auth-user bob \
	--auth-password 'cram pw' 2>&1)
check_match "CRAM-MD5 against the {plain} entry: 235" '235 2\.7\.0' "$out"
# CRAM-MD5 needs the secret itself: a user with a hashed entry cannot use it
out=$("${SW[@]}" --to far@remote.test --auth CRAM-MD5 --auth-user alice --auth-password 's3cret pw' 2>&1)
check_match "CRAM-MD5 for a hashed entry: 535" '535 5\.7\.8' "$out"
check_nomatch "CRAM-MD5 for a hashed entry: not authenticated" '235 2\.7\.0' "$out"
check_match "CRAM-MD5 for a hashed entry: the log says why" \
	'CRAM-MD5 for alice refused: the password file has a hashed entry' "$(cat "$ZT_W/smtpd.log")"

# --- PROXY protocol -------------------------------------------------------------------
rm -f "$PO"/router/*
proxy() {
	if [ -n "$2" ]; then
		timeout 30 $CLI dialog "$1" --header "$2" --stop --body 'Subject: proxied\r\n\r\nhi\r\n' \
			"EHLO proxied.test" "MAIL FROM:<p@proxied.test>" "RCPT TO:<far@remote.test>" DATA
	else
		timeout 30 $CLI dialog "$1" --stop --body 'Subject: proxied\r\n\r\nhi\r\n' \
			"PROXY TCP4 198.51.100.7 127.0.0.1 4444 25" \
			"EHLO proxied.test" "MAIL FROM:<p@proxied.test>" "RCPT TO:<far@remote.test>" DATA
	fi
}
out=$(proxy "$PPORT" "PROXY TCP4 198.51.100.7 127.0.0.1 4444 25" 2>&1)
check_match "PROXY v1: greeting after the header" '^greeting 220 ' "$out"
check_match "PROXY v1: proxied address is trusted (relaying allowed)" 'RCPT TO:<far@remote.test> => 250' "$out"
check_match "PROXY v1: queued" 'dot => 250 2.0.0 Ok: queued' "$out"
f=$(find "$PO/router" -type f | head -1)
check_match "PROXY v1: rcvdfrom (Received) shows the proxied address" \
	'^rcvdfrom proxied.test \(proxied.test \[198\.51\.100\.7\]\)' "$(cat "$f" 2>/dev/null)"
out=$(proxy "$PORT" "" 2>&1)
check_match "PROXY header on a plain listener: 500" 'PROXY TCP4 .* => 500 ' "$out"
check_match "plain listener: 127.0.0.1 may not relay" 'RCPT TO:<far@remote.test> => 554 5.7.1' "$out"
out=$(timeout 30 "$ZT_PY" -c '
import socket
s = socket.create_connection(("127.0.0.1", '"$PPORT"'), timeout=20)
s.sendall(b"EHLO x\r\n")
print(repr(s.recv(512)))' 2>&1)
check_eq "proxy listener without a header: closed without a greeting" "b''" "$out"

# --- policy delegation: postgrey --------------------------------------------------------
PO2=$ZT_W/po2
mk_postoffice "$PO2"
write_zconf "$ZT_W/zmta2.conf" "POSTOFFICE=$PO2" "ROUTERCONF=$ZT_W/router.conf"
pgport=$(pick_port)
mkdir -p "$ZT_W/pg"
: > "$ZT_W/wl_clients"
: > "$ZT_W/wl_rcpts"
postgrey --inet=127.0.0.1:"$pgport" --dbdir="$ZT_W/pg" --delay=2 --user="$ME" --group="$(id -gn)" \
	--hostname=pg.test --auto-whitelist-clients=0 --whitelist-clients="$ZT_W/wl_clients" \
	--whitelist-recipients="$ZT_W/wl_rcpts" >"$ZT_W/pg.log" 2>&1 &
track $!
wait_port "$pgport" 20 || { show "$ZT_W/pg.log"; fail "postgrey did not start"; zt_done; }
PORT2=$(pick_port)
{
	echo "hostname mail.local.test"
	echo "policy-service inet:127.0.0.1:$pgport"
	echo "policy-timeout 10s"
	echo "listen 127.0.0.1:$PORT2 smtp"
} > "$ZT_W/smtpserver2.conf"
ZCONFIG=$ZT_W/zmta2.conf "$SMTPD" -F -C "$ZT_W/smtpserver2.conf" -L "$ZT_W/smtpd2.log" \
	2> "$ZT_W/smtpd2.err" &
SPID2=$!
track "$SPID2"
wait_port "$PORT2" || { show "$ZT_W/smtpd2.err" "$ZT_W/smtpd2.log"; exit 1; }
SW2=(timeout 30 swaks --server "127.0.0.1:$PORT2" --from a@client.test --helo client.test)
out=$("${SW2[@]}" --to "$ME@local.test" 2>&1)
check_match "postgrey: first attempt deferred 450 4.7.1" '<\*\* +450 4\.7\.1 .*Greylisted' "$out"
for i in $(seq 1 20); do
	sleep 1
	out=$("${SW2[@]}" --to "$ME@local.test" 2>&1)
	case "$out" in *Greylisted*) continue ;; esac
	break
done
check_match "postgrey: retry after its delay accepted" '250 2.0.0 Ok: queued' "$out"
f=$(find "$PO2/router" -type f | head -1)
check_match "postgrey PREPEND: X-Greylist header in the message" '^X-Greylist: ' "$(cat "$f" 2>/dev/null)"

# --- tarpit (SIGHUP turns it on) ------------------------------------------------------------
printf 'tarpit yes\ntarpit-greeting-delay 1s\ntarpit-initial 1s\ntarpit-max 2s\ntarpit-max-rejects 3\n' \
	>> "$ZT_W/smtpserver2.conf"
kill -HUP "$SPID2"
for i in $(seq 1 100); do grep -q reloaded "$ZT_W/smtpd2.log" && break; sleep 0.2; done
out=$(timeout 60 $CLI dialog "$PORT2" --timeout 30 "FOO 1" "FOO 2" "FOO 3" NOOP 2>&1)
check_match "tarpit: greeting (after its delay)" '^greeting 220 ' "$out"
check_match "tarpit: rejected commands still answered" 'FOO 3 => 500 ' "$out"
check_match "tarpit: dropped after tarpit-max-rejects" 'NOOP => 421 4.7.0 .*Too many rejected' "$out"
check_match "tarpit: logged" 'tarpit: 3 rejections, dropped' "$(cat "$ZT_W/smtpd2.log")"

# both daemons stop on SIGTERM; a sanitizer build reports on stderr at exit
for p in "$SPID" "$SPID2"; do
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
done
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/smtpd.err" "$ZT_W/smtpd2.err"; then
	show "$ZT_W/smtpd.err" "$ZT_W/smtpd2.err"
	fail "sanitizer report from smtpserver"
else
	pass "no sanitizer report from smtpserver"
fi
zt_done
