#!/bin/sh
# smtpsend.sh - smtpsend(1) (Plan 9 upas/smtp's interface) against aiosmtpd
# peers and NSD: dial strings, exit statuses and the refused list, -f, -d,
# -h, .domain, -p ping, -A silent server, -s/-o with a certificate that does
# not verify, -a/-i/-u with a secrets file (mode checked), MX order, -b, -g.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SS=$top_builddir/smtpclient/smtpsend
need_built "$SS"
need_cmd jq
MSG=$ZT_W/msg
printf 'From someone Mon Dec  7 00:00:00 2026\nFrom: alice\nTo: bob\nBcc: hidden@b.test\nSubject: s\n\nbody\n' > "$MSG"

start_aiosmtpd; P=$AIO_PORT; L=$AIO_LOG; S=$AIO_SAVE

# dial string, .domain, -h; the "From " line dropped
"$SS" -h client.test .q.test "tcp!127.0.0.1!$P" alice bob < "$MSG" 2> "$ZT_W/e1"; rc=$?
check_eq "dial string: exit 0" 0 "$rc"
check_eq "sender qualified" alice@q.test "$(jq_get "$L" 'select(.ev=="msg") | .mail_from')"
check_eq "recipient qualified" bob@q.test "$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")')"
check_eq "-h: EHLO name" client.test "$(jq_get "$L" 'select(.ev=="msg") | .helo')"
check_nomatch "postmark dropped" '^From someone' "$(cat "$S"/*)"
check_match "From header qualified" '^From: <alice@q.test>' "$(cat "$S"/* | tr -d '\r')"
check_nomatch "Bcc removed" '^Bcc' "$(cat "$S"/*)"

# -f: print only, no connection
n=$(jq_count "$L" '.ev=="conn"')
out=$("$SS" -f "tcp!127.0.0.1!$P" a@a.test b@b.test < "$MSG"); rc=$?
check_eq "-f: exit 0" 0 "$rc"
check_match "-f: Date added" '^Date: ' "$out"
check_nomatch "-f: no Bcc" '^Bcc' "$out"
check_eq "-f: no connection" "$n" "$(jq_count "$L" '.ev=="conn"')"

# refused recipients on stderr, exit statuses
"$SS" "127.0.0.1!$P" a@a.test rcpt-perm1@b.test < "$MSG" 2> "$ZT_W/e2"; rc=$?
check_eq "permanent refusal: EX_NOUSER" 67 "$rc"
check_match "refused on stderr" '^smtpsend: refused rcpt-perm1@b.test: 550 5\.1\.1 ' "$(cat "$ZT_W/e2")"
"$SS" "127.0.0.1!$P" a@a.test ok@b.test rcpt-temp1@b.test < "$MSG" 2> "$ZT_W/e3"; rc=$?
check_eq "temporary refusal: EX_TEMPFAIL" 75 "$rc"
check_match "temp refused on stderr" '^smtpsend: refused rcpt-temp1@b.test: 451' "$(cat "$ZT_W/e3")"
dead_tcp_port
"$SS" "tcp!127.0.0.1!$DEAD_TCP_PORT" a@a.test b@b.test < "$MSG" 2>/dev/null; rc=$?
check_eq "no server: EX_TEMPFAIL" 75 "$rc"
"$SS" "tcp!127.0.0.1" 2>/dev/null; rc=$?
check_eq "usage: EX_USAGE" 64 "$rc"

# -d transcript
"$SS" -d "tcp!127.0.0.1!$P" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e4"
check_match "-d: commands on stderr" '^-> MAIL From:<a@a.test>' "$(cat "$ZT_W/e4")"
check_match "-d: replies on stderr" '^<- 250' "$(cat "$ZT_W/e4")"

# -p ping
n=$(jq_count "$L" '.ev=="msg"')
"$SS" -p "tcp!127.0.0.1!$P" a@a.test ok@b.test rcpt-perm2@b.test < /dev/null 2>/dev/null; rc=$?
check_eq "-p: valid recipients, exit 0" 0 "$rc"
"$SS" -p "tcp!127.0.0.1!$P" a@a.test rcpt-temp2@b.test < /dev/null 2>/dev/null; rc=$?
check_eq "-p: 4xx, exit 75" 75 "$rc"
"$SS" -p "tcp!127.0.0.1!$P" a@a.test rcpt-perm3@b.test < /dev/null 2>/dev/null; rc=$?
check_eq "-p: all refused, exit 67" 67 "$rc"
check_eq "-p: nothing sent" "$n" "$(jq_count "$L" '.ev=="msg"')"

# -A: a server that never greets
PS=$(pick_port)
cat > "$ZT_W/silent.py" <<'PYEOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
log = open(sys.argv[2], "a", buffering=1)
while True:
    c, _ = s.accept(); f = c.makefile("rb")
    while True:
        l = f.readline()
        if not l:
            break
        v = l.split(b" ")[0].strip().upper().decode()
        log.write(v + "\n")
        if v == "DATA":
            c.sendall(b"354 go\r\n")
            while f.readline() not in (b".\r\n", b""):
                pass
            c.sendall(b"250 ok\r\n"); continue
        c.sendall(b"221 bye\r\n" if v == "QUIT" else b"250 ok\r\n")
        if v == "QUIT":
            break
    c.close()
PYEOF
"$ZT_PY" "$ZT_W/silent.py" "$PS" "$ZT_W/silent.log" 2> "$ZT_W/silent.err" &
track $!
wait_port "$PS" 10
"$SS" -A "tcp!127.0.0.1!$PS" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e5"; rc=$?
check_eq "-A: sent" 0 "$rc"
check_eq "-A: NOOP first" NOOP "$(head -1 "$ZT_W/silent.log")"
check_log "-A: DATA sent" '^DATA$' "$ZT_W/silent.log"

# -s / -o / -a / -i / -u
C=$ZT_W/certs
if make_certs "$C"; then
	start_aiosmtpd --tls "$C/selfsigned.pem" "$C/selfsigned.key" --auth u:pw; PT=$AIO_PORT; LT=$AIO_LOG
	"$SS" -s "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e6"; rc=$?
	check_eq "-s, unverifiable certificate: permanent" 69 "$rc"
	check_match "-s: the reason" 'not verified' "$(cat "$ZT_W/e6")"
	check_eq "-s: nothing sent" 0 "$(jq_count "$LT" '.ev=="msg"')"
	"$SS" -s -o "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-s -o: sent" 0 "$rc"
	check_eq "-s -o: over TLS" true "$(jq_get "$LT" 'select(.ev=="msg") | .tls')"
	SEC=$ZT_W/secrets
	printf 'smtpsend 127.0.0.1 %s %s\n' "$(printf u | base64)" "$(printf pw | base64)" > "$SEC"
	chmod 644 "$SEC"
	SMTPSEND_SECRETS=$SEC "$SS" -a -o "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e7"; rc=$?
	check_eq "-a: secrets file readable by others refused" 78 "$rc"
	chmod 600 "$SEC"
	SMTPSEND_SECRETS=$SEC "$SS" -a -o "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e8"; rc=$?
	check_eq "-a -o: sent" 0 "$rc"
	check_eq "-a: authenticated" true "$(jq_get "$LT" 'select(.ev=="auth") | .ok' | tail -1)"
	SMTPSEND_SECRETS=$SEC "$SS" -a -o -u other "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-u other user: no secret" 77 "$rc"
	SMTPSEND_SECRETS=$SEC "$SS" -a -o -u u "tcp!127.0.0.1!$PT" a@a.test b@b.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-u u: sent" 0 "$rc"
	start_aiosmtpd --auth u:pw --auth-mechs PLAIN,LOGIN --auth-clear; PA=$AIO_PORT; LA=$AIO_LOG
	SMTPSEND_SECRETS=$SEC "$SS" -a "tcp!127.0.0.1!$PA" a@a.test b@b.test < "$MSG" 2> "$ZT_W/e9"; rc=$?
	check_eq "-a without TLS and without -i: not sent" 75 "$rc"
	check_eq "-a without TLS: no secret sent" 0 "$(jq_count "$LA" '.ev=="auth"')"
	SMTPSEND_SECRETS=$SEC "$SS" -a -i "tcp!127.0.0.1!$PA" a@a.test b@b.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-a -i: sent" 0 "$rc"
	check_eq "-a -i: authenticated in clear" true "$(jq_get "$LA" 'select(.ev=="auth") | .ok' | tail -1)"
else
	fail "make_certs"
fi

# MX order, -b, -g (NSD)
if command -v nsd >/dev/null 2>&1; then
	start_nsd "$ZT_PEERS/mta.test.zone" mta.test
	start_aiosmtpd; P2=$AIO_PORT; L2=$AIO_LOG
	start_aiosmtpd; P3=$AIO_PORT; L3=$AIO_LOG
	export DNS_SERVERS=127.0.0.1:$DNS_PORT
	export SMTP_TEST_ADDRMAP="127.0.0.2=127.0.0.1:$DEAD_TCP_PORT 127.0.0.3=127.0.0.1:$P2 127.0.0.4=127.0.0.1:$P3"
	"$SS" prefs.mta.test a@a.test z@prefs.mta.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "MX: sent" 0 "$rc"
	check_eq "MX: the live second MX" 1 "$(jq_count "$L2" '.ev=="msg"')"
	check_eq "MX: not the third" 0 "$(jq_count "$L3" '.ev=="conn"')"
	"$SS" -b mxlive.mta.test prefs.mta.test a@a.test z@prefs.mta.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-b: sent" 0 "$rc"
	check_eq "-b: the third MX" 1 "$(jq_count "$L3" '.ev=="msg"')"
	"$SS" nosuchdomain.mta.test a@a.test z@nosuchdomain.mta.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "NXDOMAIN: permanent" 69 "$rc"
	n=$(jq_count "$L" '.ev=="msg"')
	"$SS" -g "tcp!127.0.0.1!$P" nosuchdomain.mta.test a@a.test z@nosuchdomain.mta.test < "$MSG" 2>/dev/null; rc=$?
	check_eq "-g: gateway used" 0 "$rc"
	check_eq "-g: the gateway got it" $((n + 1)) "$(jq_count "$L" '.ev=="msg"')"
else
	info "nsd missing: MX part skipped"
fi
zt_done
