#!/bin/bash
# smtp-hosts.sh - hosts from the scheduler and from DNS are untrusted:
# 1. option injection: a host argument is never an option (POSIX getopt,
#    "--", mhost_valid), -l opens no symbolic link and makes no world-
#    readable file, a job host "-l/path" is a per-recipient error;
# 2. job hosts are not -F destinations: "[127.0.0.1]:PORT" and
#    "UNIX:/path" are refused (5.1.2) without a connection;
# 3. an MX on loopback is us: "MX points back to us" (5.4.6), no connection,
#    unless SMTP_TEST_ALLOW_LOOPBACK=yes;
# 4. SMTP_MX_ADDRESS_LIMIT (default 5) and SMTP_MX_SESSION_LIMIT (default 2)
#    bound one delivery attempt;
# 5. "#keepalive" while the agent waits long for the peer (SMTP_KEEPALIVE).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd nsd
start_nsd "$ZT_PEERS/mta.test.zone" mta.test
start_aiosmtpd; P1=$AIO_PORT; L1=$AIO_LOG
dead_tcp_port; PDEAD=$DEAD_TCP_PORT
scratch_po "DNS_SERVERS=127.0.0.1:$DNS_PORT"
T=$'\t'
H='[127.0.0.1]'

# --- 1. option injection ----------------------------------------------------
# a job line host "-l/path": an error for the recipient, no file
j=$(mkjob -P "$PO" "a@-l$ZT_W/inj1.log")
run_ta "$ZT_W/t1" "$j$T-l$ZT_W/inj1.log"$'\n' -c smtp -p "$P1"
check_eq "job host -l/path: error2" error2 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_match "job host -l/path: diagnostic" '5\.1\.2.*invalid destination host' "$(report_line "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "job host -l/path: no file" no "$([ -e "$ZT_W/inj1.log" ] && echo yes || echo no)"
# options end at the host operand: "-l/path" after it is not an option
run_ta "$ZT_W/t2" "" -c smtp -p "$P1" "$H" "-l$ZT_W/inj2.log"
check_eq "option after the host: usage error" 64 "$TA_RC"
check_eq "option after the host: no file" no "$([ -e "$ZT_W/inj2.log" ] && echo yes || echo no)"
# after "--" a host that is not a host is refused
run_ta "$ZT_W/t3" "" -c smtp -p "$P1" -- "-l$ZT_W/inj3.log"
check_eq "-- -l/path: usage error" 64 "$TA_RC"
check_match "-- -l/path: says why" 'invalid host argument' "$(cat "$ZT_W/t3.err")"
check_eq "-- -l/path: no file" no "$([ -e "$ZT_W/inj3.log" ] && echo yes || echo no)"
run_ta "$ZT_W/t3b" "" -c smtp "[127.0.0.1]:$P1"
check_eq "host argument with a port: usage error" 64 "$TA_RC"
# -D is the operator's probe: its host may carry a port like -F
( cd "$PO/transport" && timeout 30 "$ZT_SMTP" -D "[127.0.0.1]:$P1" ) > "$ZT_W/d.out" 2>&1
check_eq "-D [ip]:port: probe works" 0 "$?"
# -l: never through a symbolic link; a new file is not world-readable
echo precious > "$ZT_W/target"
ln -s "$ZT_W/target" "$ZT_W/link.log"
run_ta "$ZT_W/t4" "" -c smtp -l "$ZT_W/link.log"
check_match "-l symlink: refused" '^7[0-9]$' "$TA_RC"
check_eq "-l symlink: target untouched" precious "$(cat "$ZT_W/target")"
j=$(mkjob -P "$PO" "b@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -p "$P1" -l "$ZT_W/new.log"
check_eq "-l: delivered" ok3 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_eq "-l: file not readable by others" 0 "$(( 0$(stat -c %a "$ZT_W/new.log") & 7 ))"

# --- 2. job hosts are not -F destinations ---------------------------------
n1=$(aio_conns)
j=$(mkjob -P "$PO" "c@[127.0.0.1]:$P1")
run_ta "$ZT_W/t6" "$j$T[127.0.0.1]:$P1"$'\n' -c smtp
check_eq "job host [ip]:port: error2" error2 "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_match "job host [ip]:port: 5.1.2 invalid destination host" '5\.1\.2.*invalid destination host' "$(report_line "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_eq "job host [ip]:port: no connection" "$n1" "$(aio_conns)"
j=$(mkjob -P "$PO" "c2@localhost:$P1")
run_ta "$ZT_W/t6b" "$j${T}localhost:$P1"$'\n' -c smtp
check_eq "job host name:port: error2" error2 "$(report_word "$ZT_W/t6b.out" "$(rcpt_id "$j" 1)")"
check_eq "job host name:port: no connection" "$n1" "$(aio_conns)"
S=$ZT_W/smtp.sock
"$ZT_PY" "$ZT_PEERS/aiosmtpd-peer.py" --unix "$S" --log "$ZT_W/unix.jsonl" 2> "$ZT_W/unix.err" &
track $!
if wait_file "$S" 15; then
	j=$(mkjob -P "$PO" "d@UNIX:$S")
	run_ta "$ZT_W/t7" "$j${T}UNIX:$S"$'\n' -c smtp
	check_eq "job host UNIX:/path: error2" error2 "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
	check_match "job host UNIX:/path: diagnostic" 'invalid destination host' "$(report_line "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
	check_eq "job host UNIX:/path: no connection" 0 "$(jq_count "$ZT_W/unix.jsonl" '.ev=="conn"')"
	# -F stays the operator's: the same socket is fine there
	j=$(mkjob -P "$PO" "d2@$H")
	run_ta "$ZT_W/t7b" "$j$T$H"$'\n' -c smtp -F "UNIX:$S"
	check_eq "-F UNIX:/path: delivered" ok3 "$(report_word "$ZT_W/t7b.out" "$(rcpt_id "$j" 1)")"
else
	fail "UNIX socket peer did not start"; show "$ZT_W/unix.err"
fi

# --- 3. loops to ourselves -------------------------------------------------
# one.mta.test: MX live1 = 127.0.0.1; with -p the peer listens there
n1=$(aio_conns)
j=$(mkjob -P "$PO" e@one.mta.test)
run_ta "$ZT_W/t8" "$j${T}one.mta.test"$'\n' -c smtp -p "$P1"
check_eq "MX on 127.0.0.1: error2" error2 "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
check_match "MX on 127.0.0.1: points back to us, 5.4.6" '5\.4\.6.*MX points back to us' "$(report_line "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
check_eq "MX on 127.0.0.1: no connection" "$n1" "$(aio_conns)"
j=$(mkjob -P "$PO" e6@loop6.mta.test)
run_ta "$ZT_W/t8b" "$j${T}loop6.mta.test"$'\n' -c smtp -p "$P1"
check_match "MX on ::1: points back to us" 'MX points back to us' "$(report_line "$ZT_W/t8b.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" e7@implicit.mta.test)
run_ta "$ZT_W/t8c" "$j${T}implicit.mta.test"$'\n' -c smtp -p "$P1" -x
check_eq "-x host on 127.0.0.1: error2" error2 "$(report_word "$ZT_W/t8c.out" "$(rcpt_id "$j" 1)")"
check_eq "loopback MX/-x: still no connection" "$n1" "$(aio_conns)"
write_zconf "$ZT_W/zmta-lo.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ALLOW_LOOPBACK=yes"
j=$(mkjob -P "$PO" f@one.mta.test)
run_ta "$ZT_W/t9" "$j${T}one.mta.test"$'\n' -c smtp -p "$P1"
check_eq "SMTP_TEST_ALLOW_LOOPBACK=yes: delivered" ok3 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"

# --- 4. address and session limits ----------------------------------------
M=""
for i in 11 12 13 14 15 16 17; do M="$M 127.0.0.$i=127.0.0.1:$PDEAD"; done
write_zconf "$ZT_W/zmta-cap.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=${M# }"
j=$(mkjob -P "$PO" g@capped.mta.test)
run_ta "$ZT_W/t10" "$j${T}capped.mta.test"$'\n' -c smtp -l "$ZT_W/t10.log"
check_match "7 dead addresses: deferred" '^(deferred|retryat)$' "$(report_word "$ZT_W/t10.out" "$(rcpt_id "$j" 1)")"
check_eq "7 dead addresses: 5 tried (default limit)" 5 "$(grep -c 'smtpopen: connecting to' "$ZT_W/t10.log")"
write_zconf "$ZT_W/zmta-cap3.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=${M# }" "SMTP_MX_ADDRESS_LIMIT=3"
j=$(mkjob -P "$PO" g3@capped.mta.test)
run_ta "$ZT_W/t11" "$j${T}capped.mta.test"$'\n' -c smtp -l "$ZT_W/t11.log"
check_eq "SMTP_MX_ADDRESS_LIMIT=3: 3 tried" 3 "$(grep -c 'smtpopen: connecting to' "$ZT_W/t11.log")"
# sessions: every address answers, but greets with 554
start_aiosmtpd --raw --reply 'GREETING=554 5.3.2 not now'; PR=$AIO_PORT; LR=$AIO_LOG
M=""
for i in 11 12 13 14 15 16 17; do M="$M 127.0.0.$i=127.0.0.1:$PR"; done
write_zconf "$ZT_W/zmta-sess.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=${M# }"
j=$(mkjob -P "$PO" h@capped.mta.test)
run_ta "$ZT_W/t12" "$j${T}capped.mta.test"$'\n' -c smtp
check_match "554 greetings: not delivered" '^(deferred|retryat|error2)$' "$(report_word "$ZT_W/t12.out" "$(rcpt_id "$j" 1)")"
check_eq "554 greetings: 2 sessions (default limit)" 2 "$(jq_count "$LR" '.ev=="conn"')"
check_match "554 greetings: the limit is named" 'SMTP_MX_SESSION_LIMIT' "$(report_line "$ZT_W/t12.out" "$(rcpt_id "$j" 1)")"

# --- 5. keepalive -----------------------------------------------------------
start_aiosmtpd --slow 3; PS=$AIO_PORT
write_zconf "$ZT_W/zmta-ka.conf" "POSTOFFICE=$PO" "SMTP_KEEPALIVE=1s"
j=$(mkjob -P "$PO" "slow1@$H")
run_ta "$ZT_W/t13" "$j$T$H"$'\n' -c smtp -p "$PS"
check_eq "slow dot reply: delivered" ok3 "$(report_word "$ZT_W/t13.out" "$(rcpt_id "$j" 1)")"
check_match "slow dot reply: #keepalive written" '^#keepalive$' "$(grep -x '#keepalive' "$ZT_W/t13.out" | head -n 1)"
# without a long wait: no keepalive at all
write_zconf "$ZT_W/zmta-ka0.conf" "POSTOFFICE=$PO"
j=$(mkjob -P "$PO" "quick@$H")
run_ta "$ZT_W/t14" "$j$T$H"$'\n' -c smtp -p "$PS"
check_eq "quick delivery: ok3" ok3 "$(report_word "$ZT_W/t14.out" "$(rcpt_id "$j" 1)")"
check_eq "quick delivery (default 60s interval): no #keepalive" 0 "$(grep -cx '#keepalive' "$ZT_W/t14.out")"
zt_done
