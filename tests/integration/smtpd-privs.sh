#!/bin/sh
# smtpd-privs.sh - smtpserver started as root binds its listener (a port
# below 1024 when one is free), then runs as ZMTA_USER: uid, gid and the
# supplementary groups (exactly the user's, none of root's) and no
# capabilities in /proc/PID/status while a client is connected; the
# message it queues belongs to that user; and (strace) the ids were
# switched before the first connection was accepted, so before any
# client byte was read.  ZMTA_USER is a system user that has
# supplementary groups when /etc/group names one (so the groups check
# means something), else nobody.  Needs root (77 otherwise).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
[ "$(id -u)" = 0 ] || skip "the privilege drop needs a start as root"

# a user with supplementary groups, not root, with a passwd entry
U=
for u in $(awk -F: '$4 != "" { n = split($4, m, ","); for (i = 1; i <= n; i++) print m[i] }' /etc/group | sort -u); do
	[ "$u" != root ] && [ "$(id -u "$u" 2>/dev/null)" != 0 ] && id "$u" >/dev/null 2>&1 || continue
	[ "$(id -G "$u" | wc -w)" -ge 2 ] && { U=$u; break; }
done
[ -n "$U" ] || U=nobody
id "$U" >/dev/null 2>&1 || skip "no user $U"
UID_=$(id -u "$U"); GID_=$(id -g "$U")
GROUPS_=$(id -G "$U" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
info "ZMTA_USER=$U: uid $UID_ gid $GID_ groups $GROUPS_"

PO=$ZT_W/po
mkdir -p "$PO"
"$ZT_ZMTA" postoffice-init -P "$PO" -H 0 -u "$U" > "$ZT_W/init.out" 2>&1 ||
	{ show "$ZT_W/init.out"; fail "postoffice-init -u $U"; zt_done; }
write_zconf "$ZT_W/zmta.conf" "POSTOFFICE=$PO" "ROUTERCONF=$ZT_W/router.conf" "ZMTA_USER=$U"
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
printf 'hostname mail.local.test\n' > "$ZT_W/smtpserver.conf"
mkdir -p "$ZT_W/log"
chown "$U" "$ZT_W/log"

# a privileged port when one is free (binding it needs root), else any
PORT=
for p in $(seq 900 1000); do
	case "$ZT_PORTS" in *" $p "*) continue ;; esac
	if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then PORT=$p; ZT_PORTS="$ZT_PORTS$p "; break; fi
done
[ -n "$PORT" ] || PORT=$(pick_port)
info "listening on 127.0.0.1:$PORT"

"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$PORT" -L "$ZT_W/log/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/smtpd.err" "$ZT_W/log/smtpd.log"; exit 1; }
# a connected client that has its greeting: the daemon serves it now
with_timeout 30 "$ZT_PY" - "$PORT" "$ZT_W/ids" "$SPID" > "$ZT_W/client.out" 2>&1 <<'PY'
import socket, sys
port, out, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
f = s.makefile("rb")
print("greeting " + f.readline().decode().strip(), flush=True)
st = open("/proc/%s/status" % pid).read()
open(out, "w").write(st)
s.sendall(b"QUIT\r\n")
print(f.readline().decode().strip())
PY
check_match "greeted" '^greeting 220 mail.local.test' "$(cat "$ZT_W/client.out")"
# the daemon's /proc/PID/status, saved while the client was connected
got=$(awk '/^Uid:/ { print "uid " $2 " " $3 " " $4 " " $5 } /^Gid:/ { print "gid " $2 " " $3 " " $4 " " $5 }
	/^CapEff:/ { print "cap " $2 }' "$ZT_W/ids")
check_eq "daemon uid (real, effective, saved, fs) is $U's" "$UID_ $UID_ $UID_ $UID_" \
	"$(printf '%s\n' "$got" | sed -n 's/^uid //p')"
check_eq "daemon gid (real, effective, saved, fs) is $U's" "$GID_ $GID_ $GID_ $GID_" \
	"$(printf '%s\n' "$got" | sed -n 's/^gid //p')"
check_eq "supplementary groups are exactly $U's" "$GROUPS_" \
	"$(awk '/^Groups:/ { for (i = 2; i <= NF; i++) print $i }' "$ZT_W/ids" | sort -n | tr '\n' ' ' | sed 's/ $//')"
check_eq "no capabilities left" 0000000000000000 "$(printf '%s\n' "$got" | sed -n 's/^cap //p')"
check_eq "pid file written by the dropped daemon" "$SPID" "$(cat "$PO/.pid.smtpserver" 2>/dev/null)"

# a message queued by the daemon belongs to the user
out=$(with_timeout 30 "$ZT_PY" - "$PORT" <<'PY' 2>&1
import smtplib, sys
c = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
print("refused %r" % (c.sendmail("a@client.test", ["postmaster@local.test"], b"Subject: p\r\n\r\nx\r\n"),))
c.quit()
PY
)
check_match "a message queued" 'refused \{\}' "$out"
f=$(find "$PO/router" -type f -name '[0-9]*' | head -1)
check_eq "the queued file belongs to $U" "$UID_" "$(stat -c %u "${f:-/nonexistent}" 2>/dev/null)"
stop_pid "$SPID"

# strace: the switch comes before the first accepted connection
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
	rm -f "$PO/.pid.smtpserver"
	P2=$(pick_port)
	strace -f -qq -o "$ZT_W/trace" -e trace=setgroups,setresgid,setresuid,accept,accept4,read,recvfrom \
		"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$P2" -L "$ZT_W/log/smtpd2.log" 2> "$ZT_W/smtpd2.err" &
	TPID=$!
	track "$TPID"
	# connect as early as possible: the connection may wait in the backlog
	with_timeout 30 "$ZT_PY" - "$P2" > "$ZT_W/early.out" 2>&1 <<'PY' &
import socket, sys, time
for i in range(400):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
        break
    except OSError:
        time.sleep(0.025)
s.sendall(b"EHLO early.test\r\n")
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(b"QUIT\r\n")
PY
	CPID=$!
	track "$CPID"
	# the daemon's own pid (stopping strace would only detach it)
	DPID=
	for i in $(seq 1 200); do
		DPID=$(cat "$PO/.pid.smtpserver" 2>/dev/null)
		[ -n "$DPID" ] && break
		sleep 0.05
	done
	[ -n "$DPID" ] && track "$DPID"
	wait "$CPID"
	check_match "strace run: greeted" '^220 ' "$(cat "$ZT_W/early.out")"
	[ -n "$DPID" ] && stop_pid "$DPID"
	stop_pid "$TPID"
	# line numbers of the setresuid to the user and of the first accepted fd
	su=$(grep -n "setresuid($UID_, $UID_, $UID_) *= 0" "$ZT_W/trace" | head -1 | cut -d: -f1)
	ac=$(grep -nE 'accept4?\(.*\) *= [0-9]+' "$ZT_W/trace" | head -1 | cut -d: -f1)
	sg=$(grep -n 'setgroups(' "$ZT_W/trace" | grep '= 0' | head -1 | cut -d: -f1)
	rd=$(grep -n 'EHLO early' "$ZT_W/trace" | head -1 | cut -d: -f1)
	if [ -n "$su" ] && [ -n "$ac" ] && [ -n "$sg" ] && [ -n "$rd" ] && [ "$sg" -lt "$su" ] && [ "$su" -lt "$ac" ] && [ "$ac" -lt "$rd" ]; then
		pass "setgroups, then setresuid($UID_), then the first accept, then the client's bytes"
	else
		fail "order in the trace: setgroups line ${sg:-none}, setresuid line ${su:-none}, accept line ${ac:-none}, client bytes line ${rd:-none}"
		show "$ZT_W/trace"
	fi
else
	info "strace cannot run here: the order check is left out"
fi
for e in "$ZT_W"/smtpd*.err; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$e"; then
		fail "sanitizer report in $e"; show "$e"
	fi
done
zt_done
