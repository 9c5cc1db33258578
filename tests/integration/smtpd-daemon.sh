#!/bin/sh
# smtpd-daemon.sh - the smtpserver daemon: -n on good and bad files, the
# pid lock (a second instance refuses), -i on stdin/stdout and through
# sendmail -bs, zmta's own smtp agent as a sender, a 200 KB message (past
# the 64 KB kept in memory), SIGKILL right after a
# 250 (the message is in router/, whole), a full disk (LD_PRELOAD
# tests/tools/enospc.c) gives 452 4.3.1 and nothing queued, SIGTERM closes
# the listener and lets the session in flight finish; 1,000 idle sessions
# are greeted, one more transaction works, and each idle session costs
# less than 64 KiB of RSS (77 when the descriptor limit is too low).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
SENDMAIL=$top_builddir/sendmail/sendmail
CLI="$ZT_PY $ZT_PEERS/smtp-client.py"
need_built "$SMTPD"
need_cmd swaks cc

mkdir -p "$ZT_W/bin"
ln -s "$SMTPD" "$ZT_W/bin/smtpserver"
scratch_po "ROUTERCONF=$ZT_W/router.conf" "MAILBIN=$ZT_W/bin"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
printf 'hostname mail.local.test\n' > "$ZT_W/smtpserver.conf"
nmsg() { find "$PO/router" "$PO/public" -type f -name '[0-9]*' | wc -l; }

# -n
"$SMTPD" -n -C "$ZT_W/smtpserver.conf" > "$ZT_W/n.out" 2>&1
check_eq "-n on a good file: 0" 0 "$?"
"$SMTPD" -n -C "$top_srcdir/etc/smtpserver.conf" > "$ZT_W/n2.out" 2>&1
check_eq "-n on the sample etc/smtpserver.conf: 0" 0 "$?"
printf 'hostname ok\nmax-rcpts lots\n' > "$ZT_W/bad.conf"
out=$("$SMTPD" -n -C "$ZT_W/bad.conf" 2>&1)
check_eq "-n on a bad file: 78" 78 "$?"
check_match "-n names file and line" 'bad.conf:2: max-rcpts' "$out"
printf 'listen nowhere\n' > "$ZT_W/bad2.conf"
out=$("$SMTPD" -n -C "$ZT_W/bad2.conf" 2>&1)
check_match "-n: bad listen line" 'bad2.conf:1: listen' "$out"

# -i: one session on stdin/stdout
out=$(printf 'EHLO local\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s@local.test>\r\nDATA\r\nSubject: i\r\n\r\nvia -i\r\n.\r\nQUIT\r\n' "$ME" |
	with_timeout 20 "$SMTPD" -i -C "$ZT_W/smtpserver.conf" 2>"$ZT_W/i.err")
check_match "-i: greeting" '^220 mail.local.test' "$out"
check_match "-i: queued" '250 2.0.0 Ok: queued as' "$out"
check_match "-i: 221" '221 2.0.0' "$out"
check_eq "-i: one message" 1 "$(nmsg)"
f=$(find "$PO/router" -type f | head -1)
check_nomatch "-i: no 'external' for a local session" '^external' "$(cat "$f")"
rm -f "$PO"/router/*
if [ -x "$SENDMAIL" ]; then
	out=$(printf 'HELO local\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s@local.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' "$ME" |
		with_timeout 20 "$SENDMAIL" -bs 2>&1)
	check_match "sendmail -bs: queued through smtpserver -i" '250 2.0.0 Ok: queued as' "$out"
	check_eq "sendmail -bs: one message" 1 "$(nmsg)"
	rm -f "$PO"/router/*
fi

# the daemon
PORT=$(pick_port)
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; exit 1; }
check_eq "pid file" "$SPID" "$(cat "$PO/.pid.smtpserver" 2>/dev/null)"
P2=$(pick_port)
with_timeout 10 "$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$P2" > "$ZT_W/second.out" 2>&1
check_eq "a second instance refuses (lock held): 75" 75 "$?"

# zmta's own smtp agent as the sender
if [ -x "$ZT_SMTP" ] && [ -x "$ZT_MKJOB" ]; then
	j=$(mkjob -P "$PO" "agent@[127.0.0.1]")
	run_ta "$ZT_W/ta" "$j"$'\t[127.0.0.1]\n' -c smtp -p "$PORT"
	check_eq "smtp agent: delivered (ok)" ok "$(report_word "$ZT_W/ta.out" "$(rcpt_id "$j" 1)" | cut -c1-2)"
	f=$(grep -l '^to <agent@\[127.0.0.1\]>' "$PO"/router/* 2>/dev/null | head -1)
	if [ -n "$f" ]; then pass "smtp agent: message in router/"; else fail "smtp agent: nothing in router/"; show "$ZT_W/ta.out" "$ZT_W/ta.err"; fi
	rm -f "$PO"/router/*
fi

# a message bigger than the 64 KB kept in memory: the commit worker
# copies it from the engine's scratch file, whole and in order
out=$("$ZT_PY" - "$PORT" "$ME@local.test" <<'PY' 2>&1
import smtplib, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
body = "".join("big line %06d\r\n" % i for i in range(12000))
c = smtplib.SMTP("127.0.0.1", port, timeout=20)
print("big: %r" % (c.sendmail("a@client.test", [rcpt], "Subject: big\r\n\r\n" + body),))
c.quit()
PY
)
check_match "a 200 KB message: 250" 'big: \{\}' "$out"
f=$(grep -l '^Subject: big' "$PO"/router/* 2>/dev/null | head -1)
check_eq "a 200 KB message: every line in router/" 12000 "$(grep -c '^big line [0-9]*$' "${f:-/dev/null}")"
check_eq "a 200 KB message: its last line last" "big line 011999" "$(tail -n 1 "${f:-/dev/null}")"
check_eq "a 200 KB message: no scratch file left in public/" 0 "$(find "$PO/public" -type f | wc -l)"
rm -f "$PO"/router/*

# SIGKILL right after the 250: the message is in router/, whole
out=$($CLI send "$PORT" "$ME@local.test" 2>&1)
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
check_match "250 before the kill" 'sent \{\}' "$out"
f=$(find "$PO/router" -type f | head -1)
check_match "after SIGKILL: message in router/ with its body" 'env-end.*Subject: lib.*hello' "$(tr '\n' ' ' < "${f:-/dev/null}")"
rm -f "$PO"/router/*

# full disk: 452 4.3.1 and nothing queued
SHIM=$ZT_W/enospc.so
# a sanitizer build links libasan, which wants to be first: let the shim be
if ldd "$SMTPD" 2>/dev/null | grep -q 'libasan'; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	export ASAN_OPTIONS
fi
if cc -shared -fPIC -o "$SHIM" "$top_srcdir/tests/tools/enospc.c" -ldl > "$ZT_W/cc.out" 2>&1; then
	PORT=$(pick_port)
	ENOSPC_MATCH=/public/ ENOSPC_LOG=$ZT_W/enospc.log LD_PRELOAD=$SHIM \
		"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd2.log" 2> "$ZT_W/smtpd2.err" &
	SPID=$!
	track "$SPID"
	wait_port "$PORT" || { show "$ZT_W/smtpd2.err"; exit 1; }
	out=$(swaks --server "127.0.0.1:$PORT" --from a@client.test --to "$ME@local.test" 2>&1)
	check_match "full disk: 452 4.3.1" '452 4.3.1' "$out"
	check_nomatch "full disk: never a 250 for the message" 'queued as' "$out"
	check_eq "full disk: nothing queued" 0 "$(nmsg)"
	[ -s "$ZT_W/enospc.log" ] && pass "the fault fired" || fail "the ENOSPC shim did not fire"
	stop_pid "$SPID"
else
	info "cannot build the ENOSPC shim; skipped that part"
fi

# 1,000 idle sessions in one process; one more still gets its mail through
# 1,000 sessions need about 1,100 descriptors on both ends: raise the soft
# limit (up to the hard one; root may raise both); if that is not enough
# the part is skipped and the test ends with 77, never a silent pass
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
IDLE_SKIPPED=
PORT=$(pick_port)
printf 'hostname mail.local.test\nmax-per-ip 0\n' > "$ZT_W/idle.conf"
"$SMTPD" -F -C "$ZT_W/idle.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd4.log" 2> "$ZT_W/smtpd4.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || exit 1
if [ "$(ulimit -n)" -ge 1100 ]; then
	"$ZT_PY" - "$PORT" "$SPID" "$ME@local.test" > "$ZT_W/idle.out" 2>&1 <<'PY'
import smtplib, socket, sys
port, pid, rcpt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) * 1024
before = rss()
socks, greeted = [], 0
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    socks.append(s)
for s in socks:
    if s.recv(512).startswith(b"220 "):
        greeted += 1
after = rss()
print("greeted %d" % greeted)
print("rss per idle session %d bytes" % ((after - before) // 1000))
c = smtplib.SMTP("127.0.0.1", port, timeout=20)
print("one more: %r" % (c.sendmail("a@client.test", [rcpt], b"Subject: busy\r\n\r\nx\r\n"),))
c.quit()
for s in socks:
    s.close()
PY
	out=$(cat "$ZT_W/idle.out")
	check_match "1000 idle sessions greeted" 'greeted 1000' "$out"
	check_match "a transaction beside 1000 idle sessions" 'one more: \{\}' "$out"
	info "$(grep 'rss per idle' "$ZT_W/idle.out")"
	# a resource bound, not timing: an idle session must stay small
	b=$(sed -n 's/^rss per idle session \(-\{0,1\}[0-9]*\) bytes$/\1/p' "$ZT_W/idle.out")
	if [ -n "$b" ] && [ "$b" -lt 65536 ]; then
		pass "RSS per idle session below 64 KiB ($b B at 1,000 sessions)"
	else
		fail "RSS per idle session: '${b:-not measured}' bytes, bound 65536"
	fi
else
	IDLE_SKIPPED="ulimit -n is $(ulimit -n) (below 1100) and cannot be raised"
	info "SKIP: 1000-session part: $IDLE_SKIPPED"
fi
stop_pid "$SPID"
rm -f "$PO"/router/*

# connections per client address
PORT=$(pick_port)
printf 'hostname mail.local.test\nmax-per-ip 2\n' > "$ZT_W/perip.conf"
"$SMTPD" -F -C "$ZT_W/perip.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd5.log" 2> "$ZT_W/smtpd5.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || exit 1
out=$("$ZT_PY" - "$PORT" <<'PY' 2>&1
import socket, sys
p = int(sys.argv[1])
c = [socket.create_connection(("127.0.0.1", p), timeout=20) for i in range(3)]
for s in c:
    print(s.recv(512).decode().strip())
c[0].close()
import time
time.sleep(0.5)
d = socket.create_connection(("127.0.0.1", p), timeout=20)
print("after one left: " + d.recv(512).decode().strip())
PY
)
check_eq "max-per-ip 2: two greeted" 2 "$(printf '%s\n' "$out" | grep -c '^220 ')"
check_match "max-per-ip 2: the third gets 421" '^421 4.7.0 mail.local.test Too many connections from your address' "$out"
check_match "max-per-ip: a place freed is taken again" 'after one left: 220 ' "$out"
stop_pid "$SPID"

# SIGTERM: no new connections, the session in flight finishes
PORT=$(pick_port)
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/smtpd3.log" 2> "$ZT_W/smtpd3.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || exit 1
$CLI sigterm "$PORT" "$ME@local.test" "$SPID" > "$ZT_W/term.out" 2>&1
out=$(cat "$ZT_W/term.out")
check_match "SIGTERM: listener closed" 'listener closed' "$out"
check_match "SIGTERM: message in flight accepted" '250 2.0.0 Ok: queued' "$out"
for i in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SPID" 2>/dev/null; then fail "SIGTERM: still running"; else pass "SIGTERM: exited"; fi
for e in "$ZT_W"/smtpd*.err "$ZT_W/i.err"; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$e"; then
		fail "sanitizer report in $e"; show "$e"
	fi
done
# the rest passed but the 1,000-session part could not run: skipped, not passed
[ "$ZT_FAILS" -eq 0 ] && [ -n "$IDLE_SKIPPED" ] && skip "1000 idle sessions not tested: $IDLE_SKIPPED"
zt_done
