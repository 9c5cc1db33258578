#!/bin/sh
# smtpd-etrn.sh - ETRN in smtpserver (RFC 1985): offered in EHLO (swaks); "ETRN domain", "@domain" and "#queue" asked of the scheduler over
# its mailq socket ($POSTOFFICE/.mailq.sock, the ETRN command of mailq(1)):
# 250 when a queue run started, 251 when nothing waits, 458 when the
# scheduler cannot be asked; bad syntax 501; not inside a transaction.
# The scheduler's side is a scripted stand-in here (its own ETRN is
# tested in sched-config.sh): it records the command it got.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks

scratch_po "ROUTERCONF=$ZT_W/router.conf"
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
printf 'hostname mail.local.test\n' > "$ZT_W/smtpserver.conf"

PORT=$(pick_port)
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" 15 || { fail "smtpserver did not start"; cat "$ZT_W/smtpd.err"; zt_done; }

# etrn CMD... - one session: the last reply line to each CMD, one a line
# (swaks has no ETRN of its own, so a small socket client sends them)
etrn() {
	with_timeout 20 "$ZT_PY" - "$PORT" "$@" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.rstrip("\r\n"))
        if len(l) < 4 or l[3] != "-":
            return lines
reply()
for cmd in sys.argv[2:]:
    s.sendall((cmd + "\r\n").encode())
    print(reply()[-1])
s.sendall(b"QUIT\r\n")
reply()
PY
}

out=$(with_timeout 20 swaks --server "127.0.0.1:$PORT" --quit-after EHLO --ehlo client.test 2>&1)
check_match "EHLO offers ETRN" '250[- ]ETRN' "$out"

# no scheduler: 458
out=$(etrn "ETRN remote.test")
check_match "no scheduler: 458" '^458 Unable to queue messages for node remote.test' "$out"

# a stand-in scheduler: answers as mqsrv does and records the command
start_mq() {
	rm -f "$PO/.mailq.sock" "$ZT_W/mq.got"
	"$ZT_PY" - "$PO/.mailq.sock" "$ZT_W/mq.got" "$1" <<'PY' &
import os, socket, sys
path, got, answer = sys.argv[1], sys.argv[2], sys.argv[3]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
srv.settimeout(60)
while True:
    c, _ = srv.accept()
    f = c.makefile("rb")
    c.sendall(b"version zmta 2.0\n")
    line = f.readline().decode().rstrip("\n")
    with open(got, "a") as o:
        o.write(line + "\n")
    try:
        c.sendall((answer + "\n").encode())
        f.readline()
        c.sendall(b"+Bye bye\n")
    except OSError:
        pass   # the client may close after the answer
    c.close()
PY
	MQPID=$!
	track "$MQPID"
	wait_file "$PO/.mailq.sock" 10
}

start_mq "+OK; an ETRN started something."
out=$(etrn "ETRN remote.test" "ETRN @sub.remote.test" "ETRN #[192.0.2.1]")
check_match "ETRN domain: 250" '^250 Queuing for node remote.test started' "$out"
check_match "ETRN @domain: 250" '^250 Queuing for node @sub.remote.test started' "$out"
check_match "ETRN #queue: 250" '^250 Queuing for node #\[192.0.2.1\] started' "$out"
check_eq "the scheduler was asked for each node" "ETRN remote.test
ETRN sub.remote.test
ETRN [192.0.2.1]" "$(cat "$ZT_W/mq.got" 2>/dev/null)"
stop_pid "$MQPID"

start_mq "+OK; an ETRN didn't start anything."
out=$(etrn "ETRN idle.test")
check_match "nothing waiting: 251" '^251 OK, no messages waiting for node idle.test' "$out"
stop_pid "$MQPID"

start_mq "-ERR permission denied"
out=$(etrn "ETRN remote.test")
check_match "scheduler refuses: 458" '^458 ' "$out"
stop_pid "$MQPID"

out=$(etrn "ETRN" "ETRN bad/name" "ETRN a b" "EHLO client.test" "MAIL FROM:<a@client.test>" "ETRN remote.test")
check_match "ETRN without a node: 501" '^501 5.5.4' "$(echo "$out" | sed -n 1p)"
check_match "ETRN bad/name: 501" '^501 5.5.4' "$(echo "$out" | sed -n 2p)"
check_match "ETRN two words: 501" '^501 5.5.4' "$(echo "$out" | sed -n 3p)"
check_match "ETRN inside a transaction: 503" '^503 5.5.1' "$(echo "$out" | sed -n 6p)"
check_log "log: ETRN lines" 'ETRN remote.test: (queue run started|refused)' "$ZT_W/smtpd.log"
zt_done
