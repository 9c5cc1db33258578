#!/bin/sh
# smtpd-proxy2.sh - the PROXY protocol version 2 (binary) through the
# smtpserver daemon, on a listener marked proxy-protocol (the v1 text form
# is in smtpd-wired.sh, the parser's table in check_pol_proxy): the
# proxied source address is the client's in the EHLO reply, in the
# relaying decision (an untrusted proxied address may not relay, a
# trusted one may), in the log and in rcvdfrom (the Received header);
# TCP over IPv4 and IPv6, TLVs after the addresses, a header that
# arrives in pieces, LOCAL (health check: the socket's address stays);
# a bad version or UDP closes the connection without a reply.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
printf 'hostname mail.local.test\ntrusted-networks 127.0.0.0/8 203.0.113.0/24\n' > "$ZT_W/smtpserver.conf"
PPORT=$(pick_port)
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PPORT/smtp,proxy-protocol" \
	-L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PPORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; exit 1; }

# v2 CASE - a v2 header, then EHLO, a relay attempt, a local message;
# prints "greeting ...", "CMD => reply" and "dot => reply"
v2() {
	with_timeout 30 "$ZT_PY" - "$PPORT" "$1" "$ME@local.test" <<'PY' 2>&1
import socket, struct, sys, time
port, case, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
def hdr(cmd, fam, addrs, tlvs=b""):
    body = addrs + tlvs
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + body
def a4(src, dst, sp, dp):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sp, dp)
def a6(src, dst, sp, dp):
    return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + struct.pack("!HH", sp, dp))
tlv = bytes([0x02]) + struct.pack("!H", 11) + b"mx.example." + bytes([0x05]) + struct.pack("!H", 4) + b"uid1"
h = {
    "tcp4": hdr(1, 0x11, a4("198.51.100.9", "192.0.2.1", 40000, 25)),
    "trusted": hdr(1, 0x11, a4("203.0.113.5", "192.0.2.1", 40001, 25)),
    "tcp6": hdr(1, 0x21, a6("2001:db8::7", "2001:db8::1", 40002, 25)),
    "tlv": hdr(1, 0x11, a4("198.51.100.10", "192.0.2.1", 40003, 25), tlv),
    "pieces": hdr(1, 0x11, a4("198.51.100.11", "192.0.2.1", 40004, 25)),
    "local": hdr(0, 0x00, b""),
    "badversion": b"".join([SIG, bytes([0x31, 0x11]), struct.pack("!H", 12), a4("198.51.100.12", "192.0.2.1", 1, 25)]),
    "udp": hdr(1, 0x12, a4("198.51.100.13", "192.0.2.1", 40005, 25)),
}[case]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
if case == "pieces":
    for part in (h[:5], h[5:14], h[14:]):
        s.sendall(part)
        time.sleep(0.2)
else:
    s.sendall(h)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if not l:
            return "EOF"
        if len(l) < 4 or l[3] != "-":
            return l.strip()
def first():
    # the first line of the EHLO reply names the client
    l = f.readline().decode().strip()
    if l.startswith("250-"):
        reply()
    return l
g = reply()
print("greeting", g)
if not g.startswith("220"):
    sys.exit(0)
s.sendall(b"EHLO proxied.test\r\n")
print("EHLO =>", first())
for c in ["MAIL FROM:<p@proxied.test>", "RCPT TO:<far@remote.test>", "RCPT TO:<%s>" % rcpt, "DATA"]:
    s.sendall(c.encode() + b"\r\n")
    print(c, "=>", reply())
s.sendall(b"Subject: v2 %s\r\n\r\nhi\r\n.\r\n" % case.encode())
print("dot =>", reply())
s.sendall(b"QUIT\r\n")
print("QUIT =>", reply())
PY
}
# rcvd SUBJECT - the rcvdfrom line of the queued message with that subject
rcvd() {
	local f
	f=$(grep -l "^Subject: v2 $1\$" "$PO"/router/* 2>/dev/null | head -1)
	sed -n 's/^rcvdfrom //p' "${f:-/dev/null}"
}

out=$(v2 tcp4)
check_match "v2 TCP4: greeting after the header" '^greeting 220 mail\.local\.test' "$out"
check_match "v2 TCP4: EHLO greets the proxied address" '^EHLO => 250-mail\.local\.test Hello proxied\.test \[198\.51\.100\.9\]' "$out"
check_match "v2 TCP4: an untrusted proxied address may not relay" 'RCPT TO:<far@remote.test> => 554 5\.7\.1' "$out"
check_match "v2 TCP4: a local recipient is fine" "RCPT TO:<$ME@local.test> => 250 " "$out"
check_match "v2 TCP4: queued" '^dot => 250 2\.0\.0 Ok: queued' "$out"
check_eq "v2 TCP4: rcvdfrom (Received) has the proxied address" 'proxied.test (proxied.test [198.51.100.9])' "$(rcvd tcp4)"
check_match "v2 TCP4: the log names client and balancer" \
	'PROXY protocol v2: client \[198\.51\.100\.9\] via \[127\.0\.0\.1\]' "$(cat "$ZT_W/smtpd.log")"
check_match "v2 TCP4: the log's accepted line has the proxied address" \
	'accepted from <p@proxied\.test> \[198\.51\.100\.9\]' "$(cat "$ZT_W/smtpd.log")"

out=$(v2 trusted)
check_match "v2 TCP4 from a trusted network: relaying allowed" 'RCPT TO:<far@remote.test> => 250 ' "$out"
check_eq "v2 TCP4 trusted: rcvdfrom" 'proxied.test (proxied.test [203.0.113.5])' "$(rcvd trusted)"

out=$(v2 tcp6)
check_match "v2 TCP6: EHLO greets the proxied address" '^EHLO => 250-mail\.local\.test Hello proxied\.test \[2001:db8::7\]' "$out"
check_match "v2 TCP6: may not relay" 'RCPT TO:<far@remote.test> => 554 5\.7\.1' "$out"
check_eq "v2 TCP6: rcvdfrom" 'proxied.test (proxied.test [2001:db8::7])' "$(rcvd tcp6)"

out=$(v2 tlv)
check_match "v2 with TLVs: queued" '^dot => 250 2\.0\.0 Ok: queued' "$out"
check_eq "v2 with TLVs: rcvdfrom" 'proxied.test (proxied.test [198.51.100.10])' "$(rcvd tlv)"

out=$(v2 pieces)
check_match "v2 in three pieces: queued" '^dot => 250 2\.0\.0 Ok: queued' "$out"
check_eq "v2 in three pieces: rcvdfrom" 'proxied.test (proxied.test [198.51.100.11])' "$(rcvd pieces)"

out=$(v2 local)
check_match "v2 LOCAL: the socket's address (trusted 127.0.0.1)" '^EHLO => 250-mail\.local\.test Hello proxied\.test \[127\.0\.0\.1\]' "$out"
check_match "v2 LOCAL: relaying from 127.0.0.1 allowed" 'RCPT TO:<far@remote.test> => 250 ' "$out"

out=$(v2 badversion)
check_eq "v2 with version 3: closed without a reply" 'greeting EOF' "$out"
out=$(v2 udp)
check_eq "v2 UDP: closed without a reply" 'greeting EOF' "$out"
check_log "v2 version 3: logged" 'PROXY header: v2 unsupported version; closing' "$ZT_W/smtpd.log"
check_log "v2 UDP: logged" 'PROXY header: v2 unsupported family/transport \(not TCP\); closing' "$ZT_W/smtpd.log"
check_eq "six messages queued, none from the refused headers" 6 "$(grep -l '^Subject: v2 ' "$PO"/router/* 2>/dev/null | wc -l)"
stop_pid "$SPID"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/smtpd.err"; then
	fail "sanitizer report"; show "$ZT_W/smtpd.err"
fi
zt_done
