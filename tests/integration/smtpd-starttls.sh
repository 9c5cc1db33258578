#!/bin/sh
# smtpd-starttls.sh - STARTTLS is offered only with a certificate (Plan 9
# -c, the tls-cert key): without tls-cert the EHLO reply has no STARTTLS,
# the command gets 502 5.5.1 and swaks --tls cannot have TLS (mail in
# clear still works); with tls-cert/tls-key the same daemon setup
# announces it, the handshake works and the message is received "with
# ESMTPS" and the TLS version.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks openssl

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
make_certs "$ZT_W/certs" || { fail "make_certs"; zt_done; }
nmsg() { find "$PO/router" -type f -name '[0-9]*' | wc -l; }

# start_smtpd NAME CONF-LINES - sets PORT SPID
start_smtpd() {
	printf 'hostname mail.local.test\n%s\n' "$2" > "$ZT_W/$1.conf"
	PORT=$(pick_port)
	"$SMTPD" -F -C "$ZT_W/$1.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/$1.log" 2> "$ZT_W/$1.err" &
	SPID=$!
	track "$SPID"
	wait_port "$PORT" || { show "$ZT_W/$1.err" "$ZT_W/$1.log"; exit 1; }
}
SW() { swaks --server "127.0.0.1:$PORT" --from a@client.test --helo client.test --to "$ME@local.test" "$@" 2>&1; }

# without a certificate
start_smtpd nocert "# no tls-cert"
out=$(SW --quit-after EHLO)
check_match "no certificate: EHLO answered" '<-  250[- ]ENHANCEDSTATUSCODES' "$out"
check_nomatch "no certificate: STARTTLS not offered" '<-  250[- ]STARTTLS' "$out"
out=$(with_timeout 30 "$ZT_PY" - "$PORT" <<'PY' 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def rd():
    while True:
        l = f.readline().decode()
        if len(l) < 4 or l[3] != "-":
            return l.strip()
rd()
s.sendall(b"EHLO client.test\r\n"); rd()
s.sendall(b"STARTTLS\r\n"); print("STARTTLS => " + rd())
s.sendall(b"NOOP\r\n"); print("NOOP => " + rd())
PY
)
check_match "no certificate: STARTTLS gets 502 5.5.1" '^STARTTLS => 502 5\.5\.1 ' "$out"
check_match "no certificate: the session goes on in clear" '^NOOP => 250 ' "$out"
out=$(SW --tls)
check_nomatch "no certificate: swaks --tls gets no TLS" 'TLS started' "$out"
check_eq "no certificate: nothing queued by swaks --tls" 0 "$(nmsg)"
out=$(SW)
check_match "no certificate: mail in clear is queued" '250 2\.0\.0 Ok: queued' "$out"
f=$(find "$PO/router" -type f -name '[0-9]*' | head -1)
check_match "no certificate: with ESMTP" '^with ESMTP$' "$(cat "${f:-/dev/null}")"
rm -f "$PO"/router/*
stop_pid "$SPID"

# with a certificate
start_smtpd cert "tls-cert $ZT_W/certs/server.pem
tls-key $ZT_W/certs/server.key"
out=$(SW --quit-after EHLO)
check_match "certificate: STARTTLS offered" '<-  250[- ]STARTTLS' "$out"
out=$(SW --tls --tls-ca-path "$ZT_W/certs/ca.pem")
check_match "certificate: TLS started" 'TLS started' "$out"
check_match "certificate: queued over TLS" '250 2\.0\.0 Ok: queued' "$out"
f=$(find "$PO/router" -type f -name '[0-9]*' | head -1)
check_match "certificate: with ESMTPS" '^with ESMTPS$' "$(cat "${f:-/dev/null}")"
check_match "certificate: the TLS version in rcvdfrom" '^rcvdfrom .*\[127\.0\.0\.1\] TLSv1\.[23]' "$(cat "${f:-/dev/null}")"
stop_pid "$SPID"
for e in "$ZT_W"/*.err; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$e"; then
		fail "sanitizer report in $e"; show "$e"
	fi
done
zt_done
