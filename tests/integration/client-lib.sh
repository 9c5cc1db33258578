#!/bin/sh
# client-lib.sh - libzmsmtp (libzmsmtp(3)) against aiosmtpd peers and NSD:
# servers list and ports, originator/recipients from options, extra
# headers and the message's own headers, Bcc removed from the copy and
# sent to the Bcc recipients as a digest in a second transaction,
# Date/Message-ID/From added, atleastone both ways and the refused list,
# tlspolicy when STARTTLS is missing and when the certificate fails,
# AUTH (CRAM-MD5 first, PLAIN only over TLS unless told), silent server,
# ping, qualification, the overall time limit, MX order and skip_mx, one
# session for many messages, the libzmsmtp(3) example program, the EHLO
# name of the client option, From added when missing (and not with
# no_addheaders), EHLO and HELO refused -> the next server.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
DRV=$top_builddir/tests/integration/zmsmtp-drive
EX=$top_builddir/smtpclient/zmsmtp-example
need_built "$DRV" "$EX"
need_cmd jq

MSG=$ZT_W/msg
printf 'From: Alice <alice@a.test>\nTo: bob@b.test\nCc: carol@b.test\nBcc: dave@b.test\nSubject: hi\n\nline one\n.dot line\n' > "$MSG"
saved() { cat "$1"/* 2>/dev/null; }

# 1. one server, envelope and recipients from the headers; Bcc not in the copy
start_aiosmtpd; P=$AIO_PORT; L=$AIO_LOG; S=$AIO_SAVE
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --client me.test < "$MSG")
check_match "sent" '^status 0 exit 0 accepted 3' "$out"
check_eq "sender from From (both transactions)" "alice@a.test alice@a.test" \
	"$(jq_get "$L" 'select(.ev=="msg") | .mail_from' | tr '\n' ' ' | sed 's/ $//')"
check_eq "two transactions: the copy, the Bcc digest" 2 "$(jq_count "$L" '.ev=="msg"')"
check_eq "To and Cc get the copy" 'bob@b.test carol@b.test' \
	"$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")' | sed -n 1p)"
check_eq "Bcc gets its own transaction" 'dave@b.test' \
	"$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")' | sed -n 2p)"
check_eq "one connection for both" 1 "$(jq_count "$L" '.ev=="cmd" and .verb=="EHLO"')"
check_nomatch "Bcc removed from the copy" '^Bcc:' "$(saved "$S")"
COPY=$S/$(ls "$S" | sort | sed -n 1p); DIG=$S/$(ls "$S" | sort | sed -n 2p)
check_nomatch "the copy is no digest" '^Subject: \[Bcc\]' "$(tr -d '\r' < "$COPY")"
check_eq "the Bcc digest: what dave receives" \
	'multipart/digest|[Bcc] hi|message/rfc822|hi|bob@b.test|carol@b.test|None|line one' \
	"$("$ZT_PY" -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
p = m.get_payload()
inner = p[0].get_payload()[0]
print("|".join([m.get_content_type(), m["Subject"], p[0].get_content_type(), inner["Subject"],
      inner["To"], inner["Cc"], str(inner["Bcc"]), inner.get_payload().splitlines()[0]]))' "$DIG")"
check_match "Date added" '^Date: ' "$(saved "$S")"
check_match "Message-ID added" '^Message-ID: <.*@me.test>' "$(saved "$S")"
check_match "body dot-stuffed and unstuffed again" '^\.dot line' "$(saved "$S" | tr -d '\r')"
check_match "pipelined envelope" '^[1-9]' "$(jq_count "$L" '.ev=="cmd" and .verb=="MAIL" and .pipelined')"

# 2. originator/recipients options win; extra headers replace the message's
: > "$L"; rm -rf "$S"
printf 'Subject: x\n\nbody\n' > "$ZT_W/m2"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --header From=eve@e.test \
	--header To=frank@f.test --header Subject=replaced < "$ZT_W/m2")
check_match "extra headers: sent" '^status 0' "$out"
check_eq "sender from the extra From" eve@e.test "$(jq_get "$L" 'select(.ev=="msg") | .mail_from')"
check_eq "recipient from the extra To" frank@f.test "$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")')"
check_match "extra Subject replaces" '^Subject: replaced' "$(saved "$S" | tr -d '\r')"
check_nomatch "old Subject gone" '^Subject: x' "$(saved "$S" | tr -d '\r')"
: > "$L"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --from '' --rcpt x@y.test --qualify q.test \
	--rcpt bare < "$MSG")
check_eq "null originator" '<>' "$(jq_get "$L" 'select(.ev=="msg") | .mail_from')"
check_eq "qualified recipient" 'x@y.test bare@q.test' "$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")')"

# 3. atleastone both ways, the refused list
: > "$L"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --from a@a.test --rcpt ok@b.test \
	--rcpt rcpt-perm1@b.test < "$MSG")
check_match "atleastone off: refused listed" '^refused rcpt-perm1@b.test 550 5\.1\.1 ' "$out"
check_match "atleastone off: permanent, not sent" '^status 2 exit 67 accepted 1' "$out"
check_eq "atleastone off: no DATA" 0 "$(jq_count "$L" '.ev=="msg"')"
check_eq "atleastone off: RSET" 1 "$(jq_count "$L" '.ev=="cmd" and .verb=="RSET"')"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --atleastone --from a@a.test --rcpt ok@b.test \
	--rcpt rcpt-temp1@b.test < "$MSG")
check_match "atleastone on: refused listed" '^refused rcpt-temp1@b.test 451 ' "$out"
check_match "atleastone on: sent" '^status 0 exit 0 accepted 1' "$out"
check_eq "atleastone on: DATA for the good one" ok@b.test "$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | join(" ")')"

# 4. servers list: a dead port, a bad greeting, then a good one
dead_tcp_port; PD=$DEAD_TCP_PORT
start_aiosmtpd --raw --reply 'GREETING=554 go away'; PB=$AIO_PORT
: > "$L"
out=$("$DRV" --server 127.0.0.1 --port "$PD" --server 127.0.0.1 --port "$PB" --server 127.0.0.1 \
	--port "$P" --notls --from a@a.test --rcpt z@b.test < "$MSG")
check_match "third server took it" "^status 0 .* server 127.0.0.1 \\[127.0.0.1\\]:$P:" "$out"
out=$("$DRV" --server 127.0.0.1 --port "$PD" --notls --from a@a.test --rcpt z@b.test < "$MSG")
check_match "all servers down: temporary" '^status 1 exit 75 ' "$out"

# 5. silent server: NOOP first, its reply is the greeting (a peer that
# never greets: a few lines of Python, logging the verbs it sees)
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
out=$("$DRV" --server 127.0.0.1 --port "$PS" --notls --silent --from a@a.test --rcpt z@b.test < "$MSG")
check_match "silent server: sent" '^status 0' "$out"
check_eq "silent server: NOOP first" NOOP "$(head -1 "$ZT_W/silent.log")"
SILENT_PORT=$PS

# 6. ping: MAIL/RCPT, no DATA; a 4xx recipient makes it temporary
: > "$L"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --ping --from a@a.test --rcpt z@b.test \
	--rcpt rcpt-perm2@b.test < "$MSG")
check_match "ping: valid (one accepted, 5xx only)" '^status 0 ' "$out"
check_eq "ping: no message" 0 "$(jq_count "$L" '.ev=="msg"')"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --ping --from a@a.test --rcpt z@b.test \
	--rcpt rcpt-temp2@b.test < "$MSG")
check_match "ping: 4xx -> temporary" '^status 1 exit 75 ' "$out"

# 7. tlspolicy: STARTTLS not offered
out=$("$DRV" --server 127.0.0.1 --port "$P" --policy secure --from a@a.test --rcpt z@b.test < "$MSG")
check_match "no STARTTLS: policy called" '^tlspolicy 0 STARTTLS not offered' "$out"
check_match "no STARTTLS, secure: not sent" '^status 1 ' "$out"
out=$("$DRV" --server 127.0.0.1 --port "$P" --policy insecure --from a@a.test --rcpt z@b.test < "$MSG")
check_match "no STARTTLS, insecure: sent" '^status 0 ' "$out"

# 7b. tlspolicy: STARTTLS offered but refused (the only case Tcllib handles)
start_aiosmtpd --raw --reply 'EHLO=250-peer.test\r\n250-STARTTLS\r\n250 PIPELINING' \
	--reply 'STARTTLS=454 4.7.0 TLS not available now'; PR=$AIO_PORT; LR=$AIO_LOG
out=$("$DRV" --server 127.0.0.1 --port "$PR" --policy secure --from a@a.test --rcpt z@b.test < "$MSG")
check_match "STARTTLS refused: policy called with the code" '^tlspolicy 454 STARTTLS refused' "$out"
check_match "STARTTLS refused, secure: not sent" '^status 1 ' "$out"
out=$("$DRV" --server 127.0.0.1 --port "$PR" --policy insecure --from a@a.test --rcpt z@b.test < "$MSG")
check_match "STARTTLS refused, insecure: sent in clear" '^status 0 ' "$out"
check_eq "STARTTLS refused, insecure: one message" 1 "$(jq_count "$LR" '.ev=="msg"')"

# 7c. bytes after the 220 to STARTTLS (injection): the server is given up
start_aiosmtpd --raw --reply 'EHLO=250-peer.test\r\n250-STARTTLS\r\n250 PIPELINING' \
	--reply 'STARTTLS=220 go ahead\r\n250 injected'; PJ=$AIO_PORT; LJ=$AIO_LOG
out=$("$DRV" --server 127.0.0.1 --port "$PJ" --policy insecure --from a@a.test --rcpt z@b.test < "$MSG")
check_match "STARTTLS injection: not sent" '^status 1 .*injection' "$out"
check_eq "STARTTLS injection: no MAIL" 0 "$(jq_count "$LJ" '.ev=="cmd" and .verb=="MAIL"')"

# 8. tlspolicy: certificate fails (self-signed), and a verified one
C=$ZT_W/certs
if make_certs "$C"; then
	start_aiosmtpd --tls "$C/selfsigned.pem" "$C/selfsigned.key" --auth u:pw; PT=$AIO_PORT; LT=$AIO_LOG
	out=$("$DRV" --server 127.0.0.1 --port "$PT" --policy secure --from a@a.test --rcpt z@b.test < "$MSG")
	check_match "bad cert: policy called with -1" '^tlspolicy -1 certificate of 127.0.0.1 not verified' "$out"
	check_match "bad cert, secure: not sent" '^status 1 ' "$out"
	check_eq "bad cert, secure: nothing sent" 0 "$(jq_count "$LT" '.ev=="msg"')"
	out=$("$DRV" --server 127.0.0.1 --port "$PT" --policy insecure --from a@a.test --rcpt z@b.test < "$MSG")
	check_match "bad cert, insecure: sent" '^status 0 ' "$out"
	check_eq "bad cert, insecure: over TLS" true "$(jq_get "$LT" 'select(.ev=="msg") | .tls' | tail -1)"
	out=$("$DRV" --server 127.0.0.1 --port "$PT" --noverify --from a@a.test --rcpt z@b.test \
		--user u --pass pw < "$MSG")
	check_match "AUTH over TLS: sent" '^status 0 ' "$out"
	check_eq "AUTH: CRAM-MD5 first" CRAM-MD5 "$(jq_get "$LT" 'select(.ev=="auth") | .mech' | tail -1)"
	out=$("$DRV" --server 127.0.0.1 --port "$PT" --noverify --from a@a.test --rcpt z@b.test \
		--user u --pass wrong < "$MSG")
	check_match "AUTH wrong secret: not sent" '^status [12] .*AUTH CRAM-MD5 failed' "$out"
	start_aiosmtpd --tls "$C/server.pem" "$C/server.key"; PV=$AIO_PORT
	out=$("$DRV" --server 127.0.0.1 --port "$PV" --policy secure --cafile "$C/ca.pem" --from a@a.test \
		--rcpt z@b.test < "$MSG")
	check_match "good cert + CA: sent" '^status 0 ' "$out"
	check_nomatch "good cert + CA: policy not called" '^tlspolicy' "$out"
else
	fail "make_certs"
fi

# 9. AUTH mechanisms in clear text: PLAIN only when told
start_aiosmtpd --auth u:pw --auth-mechs PLAIN,LOGIN --auth-clear; PA=$AIO_PORT; LA=$AIO_LOG
out=$("$DRV" --server 127.0.0.1 --port "$PA" --notls --from a@a.test --rcpt z@b.test --user u --pass pw < "$MSG")
check_match "PLAIN without TLS refused" 'no usable AUTH mechanism' "$out"
check_eq "no secret sent" 0 "$(jq_count "$LA" '.ev=="auth"')"
out=$("$DRV" --server 127.0.0.1 --port "$PA" --notls --clear --mechs LOGIN --from a@a.test --rcpt z@b.test \
	--user u --pass pw < "$MSG")
check_match "LOGIN in clear when told: sent" '^status 0 ' "$out"
check_eq "LOGIN used" LOGIN "$(jq_get "$LA" 'select(.ev=="auth") | .mech')"

# 10. the overall limit
start_aiosmtpd --stall MAIL; PM=$AIO_PORT
out=$("$DRV" --server 127.0.0.1 --port "$PM" --notls --total 2 --from a@a.test --rcpt z@b.test < "$MSG")
check_match "overall limit: temporary timeout" '^status 1 exit 75 .*timeout' "$out"

# 11. MX order and skip_mx (NSD; addresses mapped to our peers)
if command -v nsd >/dev/null 2>&1; then
	start_nsd "$ZT_PEERS/mta.test.zone" mta.test
	start_aiosmtpd; P2=$AIO_PORT; L2=$AIO_LOG
	start_aiosmtpd; P3=$AIO_PORT; L3=$AIO_LOG
	MAP="127.0.0.2=127.0.0.1:$PD 127.0.0.3=127.0.0.1:$P2 127.0.0.4=127.0.0.1:$P3"
	out=$("$DRV" --domain prefs.mta.test --dns "127.0.0.1:$DNS_PORT" --addrmap "$MAP" --notls \
		--from a@a.test --rcpt z@prefs.mta.test < "$MSG")
	check_match "MX: dead best, next one" '^status 0 .*server mxlive.mta.test' "$out"
	check_eq "MX: pref 30 unused" 0 "$(jq_count "$L3" '.ev=="conn"')"
	out=$("$DRV" --domain prefs.mta.test --dns "127.0.0.1:$DNS_PORT" --addrmap "$MAP" --notls \
		--skip-mx mxlive.mta.test --from a@a.test --rcpt z@prefs.mta.test < "$MSG")
	check_match "skip_mx: the last MX" '^status 0 .*server mxlast.mta.test' "$out"
	out=$("$DRV" --domain nullmx.mta.test --dns "127.0.0.1:$DNS_PORT" --notls \
		--from a@a.test --rcpt z@nullmx.mta.test < "$MSG")
	check_match "null MX: permanent" '^status 2 ' "$out"
	out=$("$DRV" --domain nullmx.mta.test --gateway 127.0.0.1 --port "$P" --dns "127.0.0.1:$DNS_PORT" \
		--notls --from a@a.test --rcpt z@nullmx.mta.test < "$MSG")
	check_match "gateway when no MX works" '^status 0 ' "$out"
else
	info "nsd missing: MX part skipped"
fi

# 12. one session, many messages
start_aiosmtpd; PC=$AIO_PORT; LC=$AIO_LOG
out=$("$DRV" --server 127.0.0.1 --port "$PC" --notls --count 5 --from a@a.test --rcpt z@b.test < "$MSG")
check_match "session: last of 5 sent" '^status 0 ' "$out"
check_eq "session: 5 messages" 5 "$(jq_count "$LC" '.ev=="msg"')"
check_eq "session: one connection" 1 "$(jq_count "$LC" '.ev=="conn"')"

# 13. the libzmsmtp(3) example (linked with libzmsmtp.la) and the builder
start_aiosmtpd; PE=$AIO_PORT; LE=$AIO_LOG; SE=$AIO_SAVE
out=$("$EX" 127.0.0.1 "$PE" a@a.test good@b.test rcpt-perm3@b.test)
check_match "example: refused one" '^refused rcpt-perm3@b.test 550 ' "$out"
check_match "example: sent" '^status 0 accepted 1' "$out"
check_match "builder: attachment base64" '^AAEC' "$(saved "$SE" | tr -d '\r')"
check_match "builder: multipart" 'multipart/mixed' "$(saved "$SE")"

# 14. Bcc from an extra header; a message with Bcc recipients only
start_aiosmtpd; PB2=$AIO_PORT; LB2=$AIO_LOG; SB2=$AIO_SAVE
printf 'Subject: only\n\nbody\n' > "$ZT_W/m3"
out=$("$DRV" --server 127.0.0.1 --port "$PB2" --notls --header From=eve@e.test \
	--header To=frank@f.test --header Bcc=gina@g.test < "$ZT_W/m3")
check_match "extra Bcc: sent" '^status 0 exit 0 accepted 2' "$out"
check_eq "extra Bcc: copy to To, digest to Bcc" 'frank@f.test|gina@g.test' \
	"$(jq_get "$LB2" 'select(.ev=="msg") | .rcpt_tos | join(" ")' | paste -sd '|')"
: > "$LB2"; rm -rf "$SB2"
printf 'From: a@a.test\nBcc: h@h.test, i@i.test\nSubject: quiet\n\nbody\n' > "$ZT_W/m4"
out=$("$DRV" --server 127.0.0.1 --port "$PB2" --notls < "$ZT_W/m4")
check_match "Bcc only: sent" '^status 0 exit 0 accepted 2' "$out"
check_eq "Bcc only: one transaction, the digest" 'h@h.test i@i.test' \
	"$(jq_get "$LB2" 'select(.ev=="msg") | .rcpt_tos | join(" ")')"
check_match "Bcc only: digest subject" '^Subject: \[Bcc\] quiet' "$(saved "$SB2" | tr -d '\r')"
check_nomatch "Bcc only: no Bcc field anywhere" '^Bcc:' "$(saved "$SB2" | tr -d '\r')"

# 15. CHUNKING: the library sends BDAT chunks (the engine the smtp agent uses),
# not dot-stuffed, byte for byte the prepared copy
start_aiosmtpd --raw --chunking; PK=$AIO_PORT; LK=$AIO_LOG; SK=$AIO_SAVE
{ printf 'From: a@a.test\nTo: z@b.test\nSubject: big\nDate: x\nMessage-ID: <m@x>\n\n'
  i=0; while [ $i -lt 3000 ]; do printf '.%05d line of some length to pass two BDAT chunks xxxxx\n' $i; i=$((i + 1)); done
} > "$ZT_W/big"
out=$("$DRV" --server 127.0.0.1 --port "$PK" --notls < "$ZT_W/big")
check_match "BDAT: sent" '^status 0 exit 0 accepted 1' "$out"
check_eq "BDAT: no DATA" 0 "$(jq_count "$LK" '.ev=="cmd" and .verb=="DATA"')"
check_eq "BDAT: three chunks (64 KiB, 64 KiB, LAST)" 3 "$(jq_count "$LK" '.ev=="cmd" and .verb=="BDAT"')"
check_eq "BDAT: one message" 1 "$(jq_count "$LK" '.ev=="msg" and .bdat')"
"$DRV" --prepare --notls < "$ZT_W/big" > "$ZT_W/big.prep" 2>/dev/null
check_eq "BDAT: the prepared copy, not dot-stuffed" "$(tr -d '\r' < "$ZT_W/big.prep" | sha256sum | cut -c1-64)" \
	"$(cat "$SK"/* | tr -d '\r' | sha256sum | cut -c1-64)"

# 16. unusable input: no recipients, an originator that cannot go into MAIL
out=$(printf 'Subject: x\n\nb\n' | "$DRV" --server 127.0.0.1 --port "$P" --notls --from a@a.test)
check_match "no recipients: data error" '^status 2 exit 65 .*no recipients' "$out"
out=$("$DRV" --server 127.0.0.1 --port "$P" --notls --from 'a<b>@x' --rcpt z@b.test < "$MSG")
check_match "bad originator refused locally" '^status 2 ' "$out"

# 17. the EHLO name is the client option; without it the host name
for name in me.test other-name.test; do
	: > "$L"
	"$DRV" --server 127.0.0.1 --port "$P" --notls --client "$name" --from a@a.test \
		--rcpt z@b.test < "$MSG" > /dev/null
	check_eq "client $name: the EHLO name" "$name" \
		"$(jq_get "$L" 'select(.ev=="cmd" and .verb=="EHLO") | .arg')"
done
: > "$L"
"$DRV" --server 127.0.0.1 --port "$P" --notls --from a@a.test --rcpt z@b.test < "$MSG" > /dev/null
check_eq "no client: EHLO with the host name" "$(uname -n)" \
	"$(jq_get "$L" 'select(.ev=="cmd" and .verb=="EHLO") | .arg')"

# 18. From, Date and Message-ID added when missing (the envelope sender);
# not with no_addheaders
start_aiosmtpd; PF=$AIO_PORT; SF=$AIO_SAVE
printf 'To: z@b.test\nSubject: no from\n\nbody\n' > "$ZT_W/m5"
out=$("$DRV" --server 127.0.0.1 --port "$PF" --notls --client me.test --from env@a.test < "$ZT_W/m5")
check_match "no From: sent" '^status 0 exit 0 accepted 1' "$out"
check_eq "no From: From added from the originator" 'From: <env@a.test>' \
	"$(saved "$SF" | tr -d '\r' | sed -n '1,/^$/p' | grep '^From:')"
check_eq "no From: one From only" 1 "$(saved "$SF" | tr -d '\r' | sed -n '1,/^$/p' | grep -c '^From:')"
check_match "no From: Date added too" '^Date: ' "$(saved "$SF" | tr -d '\r' | sed -n '1,/^$/p')"
rm -rf "$SF"
out=$("$DRV" --server 127.0.0.1 --port "$PF" --notls --noadd --from env@a.test < "$ZT_W/m5")
check_match "no_addheaders: sent" '^status 0 exit 0 accepted 1' "$out"
check_nomatch "no_addheaders: no From, Date or Message-ID added" '^(From|Date|Message-ID):' \
	"$(saved "$SF" | tr -d '\r' | sed -n '1,/^$/p')"
rm -rf "$SF"
out=$("$DRV" --server 127.0.0.1 --port "$PF" --notls --rcpt z@b.test < "$MSG")
check_eq "a From of its own is kept, none added" 'From: Alice <alice@a.test>' \
	"$(saved "$SF" | tr -d '\r' | sed -n '1,/^$/p' | grep '^From:')"

# 19. EHLO and HELO both refused: the next server takes the message
start_aiosmtpd --raw --reply 'EHLO=550 5.7.1 not you' --reply 'HELO=550 5.7.1 not you either'
PH=$AIO_PORT; LH=$AIO_LOG
start_aiosmtpd; PG=$AIO_PORT; LG=$AIO_LOG
out=$("$DRV" --server 127.0.0.1 --port "$PH" --server 127.0.0.1 --port "$PG" --notls \
	--client me.test --from a@a.test --rcpt z@b.test < "$MSG")
check_match "failed EHLO: the next server took it" "^status 0 exit 0 accepted 1 server 127.0.0.1 \\[127.0.0.1\\]:$PG:" "$out"
check_eq "failed EHLO: EHLO, then HELO with the client name, no MAIL" 'EHLO me.test|HELO me.test' \
	"$(jq_get "$LH" 'select(.ev=="cmd") | .verb + " " + .arg' | grep -v '^QUIT' | paste -sd '|')"
check_eq "failed EHLO: the message at the second server" 1 "$(jq_count "$LG" '.ev=="msg"')"
out=$("$DRV" --server 127.0.0.1 --port "$PH" --notls --from a@a.test --rcpt z@b.test < "$MSG")
check_match "failed EHLO, no other server: not sent" '^status [12] ' "$out"
check_match "failed EHLO, no other server: the reason" '550' "$out"
zt_done
