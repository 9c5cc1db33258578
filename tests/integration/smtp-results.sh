#!/bin/sh
# smtp-results.sh - per-recipient results against aiosmtpd with failure
# injection (a 4xx on one recipient never holds back the others), d lines
# for error2, PIPELINING used when offered and not with -P or when not
# offered, 452 "too many recipients" -> follow-up transaction, 101
# recipients -> two transactions.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
start_aiosmtpd
smtp_env
T=$'\t'
H='[127.0.0.1]'

# 1. RCPT-time results: ok, 451, 550, ok
j=$(mkjob -P "$PO" "ok1@$H" "rcpt-temp1@$H" "rcpt-perm1@$H" "ok2@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
o=$ZT_W/t1.out
check_eq "ok1 delivered" ok3 "$(report_word "$o" "$(rcpt_id "$j" 1)")"
check_match "rcpt-temp1 deferred" '^(deferred|retryat)$' "$(report_word "$o" "$(rcpt_id "$j" 2)")"
check_eq "rcpt-perm1 failed" error2 "$(report_word "$o" "$(rcpt_id "$j" 3)")"
check_eq "ok2 delivered" ok3 "$(report_word "$o" "$(rcpt_id "$j" 4)")"
check_eq "tags after mixed RCPT results" "+_-+" "$(ctl_tags "$(ctlpath "$j")")"
check_eq "one report per recipient" 4 "$(report_count "$o")"
wait_lines "$AIO_LOG" 2 5
check_eq "peer got the two good recipients" '["ok1@[127.0.0.1]","ok2@[127.0.0.1]"]' \
	"$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_tos' | jq -c . 2>/dev/null)"
off3=$(ctl_rcpt_offsets "$(ctlpath "$j")" | sed -n 3p)
d=$(ctl_dlines "$(ctlpath "$j")")
check_match "d line for rcpt-perm1 at its offset" "^d $off3:" "$d"
check_match "d line carries 5.1.1 and the 550 text" '5\.1\.1' "$d"
check_eq "exactly one d line (error2 only)" 1 "$(printf '%s\n' "$d" | grep -c '^d')"
check_match "error2 report text has the reply" '550' "$(report_line "$o" "$(rcpt_id "$j" 3)")"
# zmta-spool(5): d<tag><rcptoff>:<hdroff>:<dsnoff>::<time>TAB<notary>TAB<text>
check_match "d line format" "^d $off3:[0-9]+:-1::[0-9]+"$'\t'"[^"$'\t'"]+"$'\t'"[^"$'\t'"]+\$" "$d"
A=$(printf '\001')
check_match "d line notary: rcpt, failed, 5.1.1, smtp; 550, remote MTA" \
	"rcpt-perm1@\[127\.0\.0\.1\]${A}failed${A}5\.1\.1${A}smtp; 550[^$A]*${A}dns; " "$d"
check_match "report notary like the d line" \
	"^$(rcpt_id "$j" 3)"$'\t'"rcpt-perm1@\[127\.0\.0\.1\]${A}failed${A}5\.1\.1${A}" "$(report_line "$o" "$(rcpt_id "$j" 3)")"
check_match "pipelining used (MAIL sent with RCPTs)" true \
	"$(jq_get "$AIO_LOG" 'select(.ev=="cmd" and .verb=="MAIL") | .pipelined' | head -1)"

# 2. DATA-time 451: every accepted recipient of that transaction deferred
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "data-temp1@$H" "ok3@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_match "data 451: rcpt 1 deferred" '^(deferred|retryat|deferback)$' "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_match "data 451: rcpt 2 deferred" '^(deferred|retryat|deferback)$' "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 2)")"
check_eq "data 451: tags stay blank" "__" "$(ctl_tags "$(ctlpath "$j")")"

# 3. DATA-time 554: every accepted recipient fails
j=$(mkjob -P "$PO" "data-perm1@$H" "ok4@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "data 554: rcpt 1 error2" error2 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "data 554: rcpt 2 error2" error2 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 2)")"
check_eq "data 554: tags" "--" "$(ctl_tags "$(ctlpath "$j")")"
check_eq "data 554: two d lines" 2 "$(ctl_dlines "$(ctlpath "$j")" | grep -c '^d')"

# 4. a later message in the same run is not held back by the earlier failures
j1=$(mkjob -P "$PO" "rcpt-temp2@$H"); j2=$(mkjob -P "$PO" "later@$H")
run_ta "$ZT_W/t4" "$j1$T$H"$'\n'"$j2$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "next job after a 451 is delivered" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j2" 1)")"

# 5. -P: never pipeline
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "p1@$H" "p2@$H" "p3@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -P -p "$AIO_PORT"
check_eq "-P: delivered" "ok3 ok3 ok3" "$(words "$ZT_W/t5.out")"
check_eq "-P: no command was pipelined" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .pipelined')"
check_eq "-P: peer saw MAIL" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL"')"

# 6. peer without PIPELINING: no pipelining either
start_aiosmtpd --no-pipelining
j=$(mkjob -P "$PO" "np1@$H" "np2@$H")
run_ta "$ZT_W/t6" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "no PIPELINING offered: delivered" "ok3 ok3" "$(words "$ZT_W/t6.out")"
check_eq "no PIPELINING offered: nothing pipelined" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .pipelined')"

# 7. 101 recipients: 100 + 1 in two transactions, all delivered
start_aiosmtpd
rc=""; for i in $(seq 1 101); do rc="$rc u$i@$H"; done
j=$(mkjob -P "$PO" $rc)
run_ta "$ZT_W/t7" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "101 rcpts: 101 ok3" 101 "$(grep -c $'\tok3' "$ZT_W/t7.out")"
check_eq "101 rcpts: 2 transactions" 2 "$(aio_msgs)"
check_eq "101 rcpts: largest transaction has 100" 100 \
	"$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_tos | length' | sort -n | tail -1)"

# 8. 452 after 50 recipients: the rest go in a follow-up transaction
start_aiosmtpd --rcpt-limit 50
rc=""; for i in $(seq 1 80); do rc="$rc v$i@$H"; done
j=$(mkjob -P "$PO" $rc)
run_ta "$ZT_W/t8" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "452 after 50: all 80 delivered in this run" 80 "$(grep -c $'\tok3' "$ZT_W/t8.out")"
check_eq "452 after 50: peer got 80 recipients" 80 \
	"$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_tos | length' | awk '{s+=$1} END {print s+0}')"
check_eq "452 after 50: 2 transactions" 2 "$(aio_msgs)"
zt_done
