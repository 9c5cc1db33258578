#!/bin/sh
# smtpd-workers.sh - smtpserver with workers 2 (smtpserver.conf(5)
# workers, -w): one parent, two worker processes on the same listener.
# Many sessions in parallel are all accepted and both workers serve some
# (log lines carry the pid); max-per-ip and max-connections are exact
# across the workers (a worker's own count alone would let more in);
# SIGHUP reaches every worker (new greeting everywhere, a "reloaded" line
# from each); kill -9 of a worker while a client sends messages: it is
# restarted (logged), the client goes on, every message answered 250 is
# in router/; SIGTERM: a transaction in flight is accepted, then the
# parent and all workers exit.  Bounds only, no timing assertions.
ZT_TIMEOUT=${ZT_TIMEOUT:-240}
export ZT_TIMEOUT
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
nmsg() { find "$PO/router" "$PO/public" -type f -name '[0-9]*' | wc -l; }
LOG=$ZT_W/w.log
CONF=$ZT_W/w.conf
printf 'hostname mail.local.test\nmax-per-ip 3\nmax-connections 5\ngreeting ESMTP first\n' > "$CONF"
PORT=$(pick_port)
"$SMTPD" -F -w 2 -C "$CONF" -l "127.0.0.1:$PORT" -L "$LOG" 2> "$ZT_W/w.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/w.err" "$LOG"; exit 1; }
for i in $(seq 1 100); do [ "$(grep -c ': info: worker [01] started' "$LOG")" -ge 2 ] && break; sleep 0.1; done
check_match "workers 2: logged by the parent" "smtpserver\[$SPID\]: info: started, 2 workers" "$(cat "$LOG")"
wpids() { sed -n "s/.*smtpserver\[$SPID\]: info: worker [0-9]* pid \([0-9]*\) started/\1/p" "$LOG"; }
check_eq "workers 2: two workers started" 2 "$(wpids | sort -u | wc -l)"
for p in $(wpids); do
	check_eq "worker $p: a child of the parent" "$SPID" "$(ps -o ppid= -p "$p" | tr -d ' ')"
done

# the client: python3 - PORT MODE ARGS; MODE
#   par N RCPT       N sessions in parallel, each one message; prints the replies to the dot
#   hold IP N        N connections from IP at once (kept open), prints their greetings
#   loop RCPT SECS   one message per session for SECS seconds; prints ok/fail counts
cat > "$ZT_W/cli.py" <<'PY'
import socket, sys, threading, time
port, mode = int(sys.argv[1]), sys.argv[2]
def rd(f):
    while True:
        l = f.readline().decode()
        if not l:
            return "EOF"
        if len(l) < 4 or l[3] != "-":
            return l.strip()
def one(rcpt, tag):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")
    r = [rd(f)]
    s.sendall(b"EHLO t\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
    r += [rd(f), rd(f), rd(f), rd(f)]
    s.sendall(b"Subject: %s\r\n\r\nbody\r\n.\r\nQUIT\r\n" % tag.encode())
    r.append(rd(f))
    s.close()
    return r[-1]
if mode == "par":
    n, rcpt = int(sys.argv[3]), sys.argv[4]
    out = [None] * n
    def run(i):
        try:
            out[i] = one(rcpt, "par %d" % i)
        except Exception as e:
            out[i] = "error %r" % e
    th = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in th: t.start()
    for t in th: t.join()
    for l in out: print(l)
elif mode == "hold":
    ip, n = sys.argv[3], int(sys.argv[4])
    c = []
    for i in range(n):
        s = socket.socket()
        s.bind((ip, 0))
        s.settimeout(20)
        s.connect(("127.0.0.1", port))
        c.append(s)
    for s in c:
        print(s.recv(512).decode().strip())
    sys.stdout.flush()
    # keep them open until told to go (stdin closes)
    sys.stdin.read()
elif mode == "loop":
    rcpt, secs = sys.argv[3], float(sys.argv[4])
    ok = bad = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        try:
            r = one(rcpt, "loop %d" % (ok + bad))
        except Exception:
            r = "error"
        if r.startswith("250 "):
            ok += 1
        else:
            bad += 1
    print("ok %d bad %d" % (ok, bad))
PY
CLI="$ZT_PY $ZT_W/cli.py $PORT"

# --- many sessions in parallel --------------------------------------------------------
printf 'hostname mail.local.test\nmax-per-ip 0\nmax-connections 2000\ngreeting ESMTP first\n' > "$CONF"
kill -HUP "$SPID"
for i in $(seq 1 100); do [ "$(grep -c 'info: reloaded' "$LOG")" -ge 2 ] && break; sleep 0.1; done
out=$(with_timeout 120 $CLI par 60 "$ME@local.test" 2>&1)
check_eq "60 parallel sessions: all accepted" 60 "$(printf '%s\n' "$out" | grep -c '^250 2\.0\.0 Ok: queued')"
check_eq "60 parallel sessions: 60 messages in router/" 60 "$(nmsg)"
served=$(sed -n 's/.*smtpserver\[\([0-9]*\)\]: info: \[127\.0\.0\.1\] connect from .*/\1/p' "$LOG" | sort -u)
check_eq "both workers served sessions" "$(wpids | sort | tr '\n' ' ')" "$(printf '%s\n' "$served" | sort | tr '\n' ' ')"

# --- limits across workers ------------------------------------------------------------
printf 'hostname mail.local.test\nmax-per-ip 3\nmax-connections 5\ngreeting ESMTP first\n' > "$CONF"
kill -HUP "$SPID"
for i in $(seq 1 100); do [ "$(grep -c 'info: reloaded' "$LOG")" -ge 4 ] && break; sleep 0.1; done
# hold: 4 from 127.0.0.1 (3 get in), then 4 from 127.0.0.2 (2 more: 5 in all)
mkfifo "$ZT_W/h1" "$ZT_W/h2"
with_timeout 60 $CLI hold 127.0.0.1 4 < "$ZT_W/h1" > "$ZT_W/hold1.out" 2>&1 &
H1=$!
exec 7> "$ZT_W/h1"
for i in $(seq 1 100); do [ "$(wc -l < "$ZT_W/hold1.out")" -ge 4 ] && break; sleep 0.1; done
with_timeout 60 $CLI hold 127.0.0.2 4 < "$ZT_W/h2" > "$ZT_W/hold2.out" 2>&1 &
H2=$!
exec 8> "$ZT_W/h2"
for i in $(seq 1 100); do [ "$(wc -l < "$ZT_W/hold2.out")" -ge 4 ] && break; sleep 0.1; done
exec 7>&- 8>&-
wait "$H1" "$H2"
o1=$(cat "$ZT_W/hold1.out"); o2=$(cat "$ZT_W/hold2.out")
check_eq "max-per-ip 3 across workers: 3 of 4 greeted" 3 "$(printf '%s\n' "$o1" | grep -c '^220 ')"
check_eq "max-per-ip 3: the 4th gets 421 from your address" 1 \
	"$(printf '%s\n' "$o1" | grep -c '^421 4\.7\.0 mail\.local\.test Too many connections from your address')"
check_eq "max-connections 5 across workers: 2 more of 4 greeted" 2 "$(printf '%s\n' "$o2" | grep -c '^220 ')"
check_eq "max-connections 5: the others get 421 too many connections" 2 \
	"$(printf '%s\n' "$o2" | grep -c '^421 4\.7\.0 mail\.local\.test Too many connections, try again later')"
refusers=$(sed -n 's/.*smtpserver\[\([0-9]*\)\]: info: \[127\.0\.0\.[12]\] refused .*/\1/p' "$LOG" | sort -u | wc -l)
info "limits: refusals logged by $refusers worker(s)"

# --- SIGHUP ---------------------------------------------------------------------------
printf 'hostname mail.local.test\nmax-per-ip 0\ngreeting ESMTP second\n' > "$CONF"
n0=$(grep -c 'info: reloaded' "$LOG")
kill -HUP "$SPID"
for i in $(seq 1 100); do [ "$(grep -c 'info: reloaded' "$LOG")" -ge $((n0 + 2)) ] && break; sleep 0.1; done
check_eq "SIGHUP: every worker reloaded" 2 \
	"$(grep 'info: reloaded' "$LOG" | tail -n 2 | sed 's/.*smtpserver\[\([0-9]*\)\].*/\1/' | sort -u | wc -l)"
out=$(with_timeout 60 $CLI hold 127.0.0.1 12 < /dev/null 2>&1)
check_eq "SIGHUP: 12 new sessions all get the new greeting" 12 "$(printf '%s\n' "$out" | grep -c '^220 mail\.local\.test ESMTP second$')"

# --- kill -9 of a worker --------------------------------------------------------------
victim=$(wpids | head -n 1)
base=$(nmsg)
with_timeout 90 $CLI loop "$ME@local.test" 6 > "$ZT_W/loop.out" 2>&1 &
L=$!
sleep 2
kill -9 "$victim"
wait "$L"
out=$(cat "$ZT_W/loop.out")
ok=$(printf '%s\n' "$out" | sed -n 's/^ok \([0-9]*\) bad.*/\1/p')
check_match "kill -9: restart logged" "worker 0 pid $victim killed by signal 9; restarting" "$(cat "$LOG")"
for i in $(seq 1 50); do [ "$(wpids | wc -l)" -ge 3 ] && break; sleep 0.1; done
newpid=$(wpids | tail -n 1)
if [ -n "$newpid" ] && [ "$newpid" != "$victim" ] && kill -0 "$newpid" 2>/dev/null; then
	pass "kill -9: a new worker $newpid runs"
else
	fail "kill -9: no new worker"
fi
check_match "kill -9: the client went on" '^ok [1-9]' "$out"
got=$(( $(nmsg) - base ))
if [ -n "$ok" ] && [ "$got" -ge "$ok" ]; then
	pass "kill -9: no message lost ($ok answered 250, $got in router/)"
else
	fail "kill -9: $ok answered 250 but $got in router/"
fi
out=$(with_timeout 60 $CLI par 20 "$ME@local.test" 2>&1)
check_eq "after the restart: 20 parallel sessions accepted" 20 "$(printf '%s\n' "$out" | grep -c '^250 ')"

# --- SIGTERM --------------------------------------------------------------------------
pids_now=$(wpids | tail -n 2)
with_timeout 120 "$ZT_PY" - "$PORT" "$ME@local.test" "$SPID" > "$ZT_W/term.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
port, rcpt, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
def rd():
    while True:
        l = f.readline().decode()
        if not l:
            return "EOF"
        if len(l) < 4 or l[3] != "-":
            return l.strip()
print(rd())
s.sendall(b"EHLO t\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
for i in range(4):
    print(rd())
s.sendall(b"Subject: t\r\n\r\nfirst half\r\n")
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
for i in range(100):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        c.close()
        time.sleep(0.05)
    except OSError:
        print("listener closed", flush=True)
        break
s.sendall(b"second half\r\n.\r\nQUIT\r\n")
print("inflight: " + rd())
print("inflight: " + rd())
PY
out=$(cat "$ZT_W/term.out")
check_match "SIGTERM: the listeners close" '^listener closed' "$out"
check_match "SIGTERM: the transaction in flight is accepted" '^inflight: 250 2\.0\.0 Ok: queued' "$out"
check_match "SIGTERM: its QUIT answered" '^inflight: 221 ' "$out"
for i in $(seq 1 900); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SPID" 2>/dev/null; then fail "SIGTERM: the parent still runs"; else pass "SIGTERM: the parent exited"; fi
for p in $pids_now; do
	if kill -0 "$p" 2>/dev/null; then fail "SIGTERM: worker $p still runs"; else pass "SIGTERM: worker $p exited"; fi
done
check_match "SIGTERM: logged" 'all workers stopped' "$(cat "$LOG")"
for e in "$ZT_W"/*.err; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$e"; then
		fail "sanitizer report in $e"; show "$e"
	fi
done
[ "$ZT_FAILS" -gt 0 ] && show "$LOG"
zt_done
