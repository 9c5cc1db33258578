#!/bin/sh
# smtp-lmtp.sh - LMTP mode (-M): per-recipient replies after the final dot
# against aiosmtpd --lmtp and Dovecot's lmtp (TCP and -F UNIX:/path);
# -M refuses port 25 (EX_USAGE).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
scratch_po
T=$'\t'
H='[127.0.0.1]'

# 1. -M without -p (port 25) and with -p 25: EX_USAGE (64)
j=$(mkjob -P "$PO" "u25@$H")
run_ta "$ZT_W/t0" "$j$T$H"$'\n' -c smtp -M
check_eq "-M on port 25: exit EX_USAGE" 64 "$TA_RC"
run_ta "$ZT_W/t0b" "$j$T$H"$'\n' -c smtp -M -p 25
check_eq "-M -p 25: exit EX_USAGE" 64 "$TA_RC"
check_eq "-M on port 25: recipient untouched" _ "$(ctl_tags "$(ctlpath "$j")")"

# 2. aiosmtpd LMTP: one reply per accepted recipient after the dot
start_aiosmtpd --lmtp
j=$(mkjob -P "$PO" "ok1@$H" "data-temp1@$H" "data-perm1@$H" "rcpt-perm1@$H" "ok2@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -M -p "$AIO_PORT"
o=$ZT_W/t1.out
check_eq "lmtp: ok1" ok3 "$(report_word "$o" "$(rcpt_id "$j" 1)")"
check_match "lmtp: data-temp1 deferred" '^(deferred|retryat|deferback)$' "$(report_word "$o" "$(rcpt_id "$j" 2)")"
check_eq "lmtp: data-perm1 error2" error2 "$(report_word "$o" "$(rcpt_id "$j" 3)")"
check_eq "lmtp: rcpt-perm1 error2" error2 "$(report_word "$o" "$(rcpt_id "$j" 4)")"
check_eq "lmtp: ok2" ok3 "$(report_word "$o" "$(rcpt_id "$j" 5)")"
check_eq "lmtp: tags" "+_--+" "$(ctl_tags "$(ctlpath "$j")")"
check_eq "lmtp: LHLO used" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="LHLO"')"
check_eq "lmtp: no EHLO" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"
check_match "lmtp: data-perm1 text from its own reply" '554' "$(report_line "$o" "$(rcpt_id "$j" 3)")"

# 3. aiosmtpd LMTP on a UNIX socket via -F UNIX:/path
S=$ZT_W/lmtp.sock
"$ZT_PY" "$ZT_PEERS/aiosmtpd-peer.py" --lmtp --unix "$S" --log "$ZT_W/unix.jsonl" 2> "$ZT_W/unix.err" &
track $!
wait_file "$S" 10 || fail "unix LMTP peer did not start"
j=$(mkjob -P "$PO" "viaunix@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -M -F "UNIX:$S"
check_eq "-F UNIX: delivered" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "-F UNIX: peer got it" 1 "$(jq_count "$ZT_W/unix.jsonl" '.ev=="msg"')"

# 4. Dovecot LMTP (a real server): alice, bob saved; broken fails after the
#    dot (451 per recipient); nosuch refused at RCPT (550)
if have_dovecot_lmtp; then
	start_dovecot_lmtp
	# Dovecot wants a plain domain: route lmtp.test to it with -F
	D=lmtp.test
	j=$(mkjob -P "$PO" "alice@$D" "broken@$D" "nosuch@$D" "bob@$D")
	run_ta "$ZT_W/t3" "$j$T$D"$'\n' -c smtp -M -p "$LMTP_PORT" -F "[127.0.0.1]"
	o=$ZT_W/t3.out
	check_eq "dovecot: alice" ok3 "$(report_word "$o" "$(rcpt_id "$j" 1)")"
	check_match "dovecot: broken deferred" '^(deferred|retryat|deferback)$' "$(report_word "$o" "$(rcpt_id "$j" 2)")"
	check_eq "dovecot: nosuch" error2 "$(report_word "$o" "$(rcpt_id "$j" 3)")"
	check_eq "dovecot: bob" ok3 "$(report_word "$o" "$(rcpt_id "$j" 4)")"
	check_eq "dovecot: alice's maildir" 1 "$(maildir_count alice)"
	check_eq "dovecot: bob's maildir" 1 "$(maildir_count bob)"
	# the same over Dovecot's UNIX socket
	j=$(mkjob -P "$PO" "alice@$D")
	run_ta "$ZT_W/t4" "$j$T$D"$'\n' -c smtp -M -F "UNIX:$DOV_SOCK"
	check_eq "dovecot UNIX socket: alice" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
	check_eq "dovecot UNIX socket: alice has 2" 2 "$(maildir_count alice)"
else
	info "dovecot part skipped (needs dovecot and root)"
fi
zt_done
