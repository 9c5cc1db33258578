#!/bin/sh
# smtpd-knobs.sh - the Plan 9 knobs of smtpserver as command-line flags
# (each one is also an smtpserver.conf key; the flag's line is read last):
#   -c certfile  STARTTLS only with a certificate; SIGHUP loads a renewed one
#   -f           a sender claiming our domain from outside gets X-Zmta-Warning
#   -k ip        dropped at once: no reply, no log line
#   -d dir       per-connection transcripts (AUTH data masked)
#   -p           AUTH PLAIN/LOGIN without TLS
#   -h name, -D tarpit, -g greylisting, -a AUTH required
#   -m program   accepted mail to a program (exit 0 -> 250, 75 -> 451, else 554)
#   -s dir       a copy of a refused message in the quarantine folder (by
#                the program, too big, bare LF)
#   -r           the sender's domain must resolve (dns-faulty.py on 127.0.0.1:
#                NXDOMAIN 550 5.1.8, null MX 550 5.7.27, SERVFAIL 451 4.1.8)
# and the old "-f FILE" spelling refused with a hint to -C.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks openssl

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
make_certs "$ZT_W/certs" || fail "make_certs"
cp "$ZT_W/certs/server.pem" "$ZT_W/cur.pem"
cp "$ZT_W/certs/server.key" "$ZT_W/cur.key"
HASH=$(openssl passwd -6 -salt abcdefgh 's3cret pw')
printf 'alice:%s\n' "$HASH" > "$ZT_W/passwd"
chmod 600 "$ZT_W/passwd"
{
	# 127.0.0.1 is outside: relaying, -f and -r apply to the tests' clients
	echo "trusted-networks 10.0.0.0/8"
	echo "tls-key $ZT_W/cur.key"
	echo "auth-file $ZT_W/passwd"
	echo "tarpit-greeting-delay 0"
	echo "tarpit-initial 0"
	echo "tarpit-max-rejects 2"
	echo "greylist-lmdb-dir $ZT_W/grey"
	echo "max-size 100000"
} > "$ZT_W/smtpserver.conf"
mkdir -p "$ZT_W/grey" "$ZT_W/tr" "$ZT_W/q" "$ZT_W/mprog"
nmsg() { find "$PO/router" -type f | wc -l; }

# smtpd NAME FLAGS... - start one smtpserver on a fresh port (PORT, SPID)
smtpd() {
	local name=$1
	shift
	PORT=$(pick_port)
	"$SMTPD" -F -C "${CONF:-$ZT_W/smtpserver.conf}" -l "127.0.0.1:$PORT" -L "$ZT_W/$name.log" "$@" \
		2> "$ZT_W/$name.err" &
	SPID=$!
	track "$SPID"
	wait_port "$PORT" || { show "$ZT_W/$name.err" "$ZT_W/$name.log"; exit 1; }
	SW=(swaks --server "127.0.0.1:$PORT" --helo client.test)
}
stop_smtpd() { stop_pid "$SPID"; }
subject() {
	echo QUIT | with_timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp \
		-CAfile "$ZT_W/certs/ca.pem" 2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}

# old spelling
out=$("$SMTPD" -n -f "$ZT_W/smtpserver.conf" 2>&1)
check_match "-f FILE is refused with a hint to -C" 'name the configuration file with -C' "$out"
out=$("$SMTPD" -n -C "$ZT_W/smtpserver.conf" -k 999.1.1.1 2>&1)
check_match "-k with a bad address: command line:1" 'command line:1: bad network "999.1.1.1"' "$out"
"$SMTPD" -n -C "$ZT_W/smtpserver.conf" -f -r -k 127.0.0.2 -k ::1/128 -d "$ZT_W/tr" -s "$ZT_W/q" \
	-m /bin/true -c "$ZT_W/cur.pem" -h x.test -D -g -a -p || fail "smtpserver -n takes every knob flag"

# ---- A: -c -f -k -d -p ----
PPORT=$(pick_port)
smtpd A -c "$ZT_W/cur.pem" -f -k 127.0.0.2 -k 192.0.2.9 -d "$ZT_W/tr" -p \
	-l "127.0.0.1:$PPORT/smtp,proxy-protocol"
out=$("${SW[@]}" --from a@client.test --to "$ME@local.test" --quit-after EHLO 2>&1)
check_match "-c: STARTTLS offered" '250[- ]STARTTLS' "$out"
check_match "-p: AUTH PLAIN without TLS" '250[- ]AUTH PLAIN' "$out"
check_match "-c: the certificate is server.pem" 'CN ?= ?peer.test' "$(subject)"
cp "$ZT_W/certs/wrongname.pem" "$ZT_W/cur.pem"
cp "$ZT_W/certs/wrongname.key" "$ZT_W/cur.key"
kill -HUP "$SPID"
for i in $(seq 1 100); do grep -q reloaded "$ZT_W/A.log" && break; sleep 0.05; done
check_match "SIGHUP: new sessions get the renewed certificate" 'CN ?= ?other.test' "$(subject)"

out=$("${SW[@]}" --from forger@local.test --to "$ME@local.test" 2>&1)
check_match "-f: claimed local sender from outside accepted" '250 2.0.0 Ok: queued' "$out"
f=$(find "$PO/router" -type f | head -1)
check_match "-f: X-Zmta-Warning in the message" \
	'^X-Zmta-Warning: sender <forger@local.test> claims a local domain but came from outside \[127.0.0.1\]' \
	"$(cat "$f" 2>/dev/null)"
rm -f "$PO"/router/*
out=$("${SW[@]}" --from a@client.test --to "$ME@local.test" 2>&1)
check_eq "-f: a foreign sender is not tagged" 0 "$(grep -c X-Zmta-Warning "$PO"/router/* 2>/dev/null || true)"
rm -f "$PO"/router/*
out=$("${SW[@]}" --from forger@local.test --to "$ME@local.test" --auth PLAIN --auth-user alice \
	--auth-password 's3cret pw' 2>&1)
check_match "-p: AUTH PLAIN in clear text" '235 ' "$out"
check_eq "-f: an authenticated client is not tagged" 0 "$(grep -c X-Zmta-Warning "$PO"/router/* 2>/dev/null || true)"
out=$("${SW[@]}" --from a@client.test --to "x@elsewhere.test" 2>&1)
check_match "-f: no relaying from outside" '554 5.7.1' "$out"
rm -f "$PO"/router/*

out=$(with_timeout 20 swaks --server "127.0.0.1:$PORT" --local-interface 127.0.0.2 --from a@client.test \
	--to "$ME@local.test" --timeout 5 2>&1)
check_nomatch "-k: no greeting for 127.0.0.2" '<-  220' "$out"
check_match "-k: the connection is closed" 'Connection closed|EOF|not connected|connection' "$out"
out=$(with_timeout 20 swaks --server "127.0.0.1:$PORT" --local-interface 127.0.0.3 --from a@client.test \
	--to "$ME@local.test" 2>&1)
check_match "-k: 127.0.0.3 is served" '250 2.0.0 Ok: queued' "$out"
check_eq "-k: no log line names 127.0.0.2" 0 "$(grep -c '127\.0\.0\.2' "$ZT_W/A.log")"
check_match "-k: 127.0.0.3 is logged" '127\.0\.0\.3' "$(cat "$ZT_W/A.log")"

proxy() {
	with_timeout 20 "$ZT_PY" - "$PPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(("PROXY TCP4 %s 127.0.0.1 40000 25\r\n" % sys.argv[2]).encode())
print(repr(s.recv(512)))
PY
}
check_eq "-k behind a balancer: the header's client dropped, no reply" "b''" "$(proxy 192.0.2.9)"
check_match "-k behind a balancer: another client greeted" '220 ' "$(proxy 192.0.2.10)"
check_eq "-k behind a balancer: no log line names 192.0.2.9" 0 "$(grep -c '192\.0\.2\.9' "$ZT_W/A.log")"
tr=$(cat "$ZT_W"/tr/* 2>/dev/null)
check_match "-d: transcripts hold the greeting" '^S: 220 ' "$tr"
check_match "-d: and the client's MAIL" '^C: MAIL FROM:<forger@local.test>' "$tr"
check_match "-d: and the message" '^C: .*Subject: test' "$tr"
check_match "-d: AUTH's initial response masked" '^C: AUTH PLAIN \[masked\]' "$tr"
B64=$(printf '\0alice\0s3cret pw' | base64)
check_nomatch "-d: the password is not in the transcript" "$B64" "$tr"
check_eq "-d: one file per connection, none for 127.0.0.2" 10 "$(ls "$ZT_W/tr" | wc -l)"
check_eq "-d: files are 0600" 600 "$(stat -c %a "$(ls -d "$ZT_W"/tr/* | head -1)")"
stop_smtpd

# ---- B: no -c, -h -D -g ----
cp "$ZT_W/certs/server.key" "$ZT_W/cur.key"
smtpd B -h knobs.example -D -g
out=$("${SW[@]}" --from a@client.test --to "$ME@local.test" 2>&1)
check_match "-h: greeting names knobs.example" '<-  220 knobs.example' "$out"
check_nomatch "no -c: no STARTTLS" '250[- ]STARTTLS' "$out"
check_match "-g: first attempt greylisted" '450 4.7.1' "$out"
out=$("${SW[@]}" --from a@client.test --to "u1@local.test,u2@local.test,u3@local.test" 2>&1)
check_match "-D: 421 after tarpit-max-rejects rejections" '421 ' "$out"
stop_smtpd
smtpd B2
out=$("${SW[@]}" --from a@client.test --to "u1@local.test,u2@local.test,u3@local.test" 2>&1)
check_nomatch "no -D: no 421" '421 ' "$out"
check_match "no -g: accepted" '250 2.0.0 Ok: queued' "$("${SW[@]}" --from a@client.test --to "$ME@local.test" 2>&1)"
stop_smtpd
rm -f "$PO"/router/*

# ---- C: -a ----
smtpd C -a
out=$("${SW[@]}" --from a@client.test --to "$ME@local.test" 2>&1)
check_match "-a: MAIL without AUTH refused" '530 5.7.0' "$out"
stop_smtpd

# ---- D: -m -s ----
cat > "$ZT_W/prog.sh" <<EOF
#!/bin/sh
d=$ZT_W/mprog
n=\$(ls "\$d" | wc -l)
printf '%s\n' "\$@" > "\$d/args.\$n"
cat > "\$d/msg.\$n"
case "\$1" in temp@*) exit 75 ;; perm@*) exit 67 ;; esac
exit 0
EOF
chmod 755 "$ZT_W/prog.sh"
smtpd D -m "$ZT_W/prog.sh" -s "$ZT_W/q"
out=$("${SW[@]}" --from ok@client.test --to "$ME@local.test,postmaster@local.test" 2>&1)
check_match "-m: exit 0 is 250" '250 2.0.0 Ok: delivered' "$out"
check_eq "-m: arguments are the sender and the recipients" \
	"ok@client.test|$ME@local.test|postmaster@local.test" "$(tr '\n' '|' < "$ZT_W/mprog/args.0" | sed 's/|$//')"
check_match "-m: the message on stdin, Received on top" '^Received: from client.test' "$(head -1 "$ZT_W/mprog/msg.0")"
check_match "-m: the body" 'This is a test mailing' "$(cat "$ZT_W/mprog/msg.0")"
check_eq "-m: nothing for the router" 0 "$(nmsg)"
out=$("${SW[@]}" --from temp@client.test --to "$ME@local.test" 2>&1)
check_match "-m: exit 75 is 451" '451 4.3.0' "$out"
check_eq "-m: a temporary failure is not quarantined" 0 "$(ls "$ZT_W/q" | wc -l)"
out=$("${SW[@]}" --from perm@client.test --to "$ME@local.test" 2>&1)
check_match "-m: exit 67 is 554" '554 5.3.0' "$out"
qf=$(ls -d "$ZT_W"/q/* 2>/dev/null | head -1)
check_eq "-s: one quarantined message" 1 "$(ls "$ZT_W/q" | wc -l)"
check_match "-s: with the refusal and the envelope" \
	'X-Zmta-Quarantine: 554 5.3.0 .*X-Zmta-Envelope-From: <perm@client.test> \[127.0.0.1\] X-Zmta-Envelope-To: <'"$ME"'@local.test>' \
	"$(head -3 "$qf" 2>/dev/null | tr '\n' ' ')"
check_match "-s: and the message" 'This is a test mailing' "$(cat "$qf" 2>/dev/null)"
rm -f "$ZT_W"/q/*
out=$("${SW[@]}" --from big@client.test --to "$ME@local.test" --body "$(head -c 120000 /dev/zero | tr '\0' x)" 2>&1)
check_match "too big: 552" '552 5.3.4' "$out"
qf=$(ls -d "$ZT_W"/q/* 2>/dev/null | head -1)
check_match "-s: the too-big message is quarantined" 'X-Zmta-Quarantine: 552 5.3.4 .*<big@client.test>' \
	"$(head -3 "$qf" 2>/dev/null | tr '\n' ' ')"
rm -f "$ZT_W"/q/*
out=$(with_timeout 20 "$ZT_PY" - "$PORT" "$ME@local.test" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
f = s.makefile("rb")
def rd():
    out = b""
    while True:
        l = f.readline()
        out += l
        if len(l) < 4 or l[3:4] != b"-":
            return out.decode()
rd()
for c in ["EHLO client.test", "MAIL FROM:<smuggler@client.test>", "RCPT TO:<%s>" % sys.argv[2], "DATA"]:
    s.sendall(c.encode() + b"\r\n"); rd()
s.sendall(b"Subject: smuggled\r\n\r\nline\n.\nMAIL FROM:<x@y>\r\n.\r\n")
print(rd())
s.sendall(b"QUIT\r\n"); rd()
PY
)
check_match "bare LF: 550 5.6.11" '550 5.6.11' "$out"
qf=$(ls -d "$ZT_W"/q/* 2>/dev/null | head -1)
check_match "-s: the smuggling attempt is quarantined" \
	'X-Zmta-Quarantine: 550 5.6.11 .*<smuggler@client.test>.*Subject: smuggled' "$(tr '\n' ' ' < "$qf" 2>/dev/null)"
stop_smtpd

# ---- D2: -s with a refusal of the END-OF-MESSAGE policy service ----
POLPORT=$(pick_port)
"$ZT_PY" "$ZT_PEERS/policy-peer.py" "$POLPORT" > "$ZT_W/policy.err" 2>&1 &
track $!
wait_port "$POLPORT" 20 || { show "$ZT_W/policy.err"; fail "policy server did not start"; }
{ cat "$ZT_W/smtpserver.conf"; echo "policy-service-eom 127.0.0.1:$POLPORT"; } > "$ZT_W/eom.conf"
rm -f "$ZT_W"/q/*
CONF=$ZT_W/eom.conf smtpd D2 -s "$ZT_W/q"
out=$("${SW[@]}" --from spam@client.test --to "$ME@local.test" 2>&1)
check_match "END-OF-MESSAGE refusal: 554" '554 5.7.1 Policy says no' "$out"
qf=$(ls -d "$ZT_W"/q/* 2>/dev/null | head -1)
check_match "-s: the policy's refusal is quarantined" 'X-Zmta-Quarantine: 554 5.7.1 Policy says no .*<spam@client.test>' \
	"$(head -3 "$qf" 2>/dev/null | tr '\n' ' ')"
out=$("${SW[@]}" --from ham@client.test --to "$ME@local.test" 2>&1)
check_match "END-OF-MESSAGE DUNNO: queued" '250 2.0.0 Ok: queued' "$out"
check_eq "-s: an accepted message is not quarantined" 1 "$(ls "$ZT_W/q" | wc -l)"
stop_smtpd
rm -f "$PO"/router/*

# ---- E: -r against a DNS server of our own ----
start_dns_faulty || fail "dns-faulty.py did not start"
write_zconf "$ZT_W/zmta.conf" "POSTOFFICE=$PO" "ROUTERCONF=$ZT_W/router.conf" "DNS_SERVERS=127.0.0.1:$DNS_PORT"
smtpd E -r
for c in "one.mta.test 250 2.1.0" "implicit.mta.test 250 2.1.0" "nosuch.mta.test 550 5.1.8" \
	 "txtonly.mta.test 550 5.1.8" "nullmx.mta.test 550 5.7.27" "servfail.mta.test 451 4.1.8"; do
	set -- $c
	out=$(with_timeout 30 "${SW[@]}" --from "a@$1" --to "$ME@local.test" --quit-after MAIL 2>&1)
	check_match "-r: sender a@$1 gets $2 $3" "<[~*-]* +$2 $3" "$out"
done
out=$(with_timeout 30 "${SW[@]}" --from "<>" --to "$ME@local.test" --quit-after MAIL 2>&1)
check_match "-r: the null sender is not looked up" '<-  250 2.1.0' "$out"
stop_smtpd

zt_done
