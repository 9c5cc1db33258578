#!/bin/sh
# smtp-options.sh - the remaining command-line options: -V (version), -D
# (probe only: greet, EHLO, QUIT), -L (local bind address), -r (reserved
# source port, root only), -w (SO_SNDBUF, seen with ss), -d (debug output),
# unknown options and missing values (EX_USAGE).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
scratch_po
T=$'\t'
H='[127.0.0.1]'

# -V
v=$("$ZT_SMTP" -V 2>&1); rc=$?
check_eq "-V: exit 0" 0 "$rc"
check_match "-V: prints a version" '[0-9]+\.[0-9]+' "$v"

# usage errors
run_ta "$ZT_W/u1" "" -c smtp -Q
check_eq "unknown option: EX_USAGE" 64 "$TA_RC"
run_ta "$ZT_W/u2" "" -c
check_eq "-c without a value: EX_USAGE" 64 "$TA_RC"
run_ta "$ZT_W/u3" "" -c smtp -p notaport
check_eq "-p notaport: EX_USAGE" 64 "$TA_RC"

# -D: connect, greet, EHLO, QUIT; no MAIL; exit 0; dead port: not 0
start_aiosmtpd
( cd "$PO/transport" && timeout 30 "$ZT_SMTP" -D -p "$AIO_PORT" "$H" ) > "$ZT_W/d.out" 2>&1
check_eq "-D: exit 0 on a live server" 0 "$?"
sleep 0.3
check_eq "-D: EHLO sent" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"
check_eq "-D: no MAIL" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL"')"
dead_tcp_port
( cd "$PO/transport" && timeout 30 "$ZT_SMTP" -D -p "$DEAD_TCP_PORT" "$H" ) > "$ZT_W/d2.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "-D: dead server exit $rc"; else fail "-D: dead server exit $rc"; fi

# -L [127.0.0.5]: the peer sees that source address (127/8 is loopback)
start_aiosmtpd
j=$(mkjob -P "$PO" "bind@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -L '[127.0.0.5]' -p "$AIO_PORT"
check_eq "-L: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_match "-L: source address 127.0.0.5" "127\.0\.0\.5" "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .peer')"

# -r: source port below 1024 (root only)
if [ "$(id -u)" = 0 ]; then
	: > "$AIO_LOG"
	j=$(mkjob -P "$PO" "resv@$H")
	run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -r -p "$AIO_PORT"
	check_eq "-r: delivered" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
	sp=$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .peer' | grep -o '[0-9]*)' | tr -d ')')
	if [ -n "$sp" ] && [ "$sp" -lt 1024 ]; then pass "-r: source port $sp < 1024"; else fail "-r: source port '$sp'"; fi
fi

# -w 8192: the socket's send buffer (ss 'tb') is the kernel's double of it
start_aiosmtpd --slow 4
j=$(mkjob -P "$PO" "slow-w@$H")
( cd "$PO/transport" && printf '%s\t%s\n' "$j" "$H" | timeout 30 "$ZT_SMTP" -c smtp -w 8192 -p "$AIO_PORT" ) > "$ZT_W/t3.out" 2>&1 &
bg=$!
track $bg
tb=""
for i in $(seq 1 60); do
	tb=$(ss -tmnH state established "( dport = :$AIO_PORT )" 2>/dev/null | grep -o 'tb[0-9]*' | head -1 | tr -d tb)
	[ -n "$tb" ] && break
	sleep 0.05
done
wait $bg
check_eq "-w 8192: SO_SNDBUF set (tb = 2 x 8192)" 16384 "$tb"
check_eq "-w: delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"

# -d: more diagnostics on stderr than without
start_aiosmtpd
j=$(mkjob -P "$PO" "quiet@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
j=$(mkjob -P "$PO" "debug@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -d -p "$AIO_PORT"
a=$(wc -l < "$ZT_W/t4.err"); b=$(wc -l < "$ZT_W/t5.err")
if [ "$b" -gt "$a" ]; then pass "-d: more stderr lines ($b > $a)"; else fail "-d: no extra debug output ($b vs $a)"; fi
zt_done
