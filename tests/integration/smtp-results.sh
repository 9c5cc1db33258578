#!/bin/sh
# smtp-results.sh - per-recipient results against aiosmtpd with failure
# injection (a 4xx on one recipient never holds back the others), d lines
# for error2, PIPELINING used when offered and not with -P or when not
# offered, 452 "too many recipients" -> follow-up transaction, 101
# recipients -> two transactions, DATA pipelined with MAIL/RCPT (and
# refused when every RCPT failed), the window: the next job's MAIL group
# written right behind the previous dot, every result still right.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
start_aiosmtpd
scratch_po
T=$'\t'
H='[127.0.0.1]'
DEFER='^(deferred|retryat|deferall|deferback)$'

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
# 9. DATA ends the MAIL/RCPT group (RFC 2920): one round trip to the 354
start_aiosmtpd
L9=$ZT_W/t9.log
j=$(mkjob -P "$PO" "dp1@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -l "$L9" -p "$AIO_PORT"
check_eq "DATA pipelined: delivered" ok3 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
check_eq "DATA pipelined: DATA was already buffered behind the RCPT" true \
	"$(jq_get "$AIO_LOG" 'select(.ev=="cmd" and .verb=="RCPT") | .pipelined' | tail -1)"
# transcript: DATA written before the reply to MAIL was read
dgrp=$(awk -F'\t' '{ k = substr($1, length($1), 1) }
	k == "w" && $2 ~ /^MAIL / { g = 1; next }
	k == "r" { g = 0 }
	k == "w" && $2 == "DATA" && g { n++ }
	END { print n + 0 }' "$L9")
check_eq "DATA pipelined: written in the MAIL group (transcript)" 1 "$dgrp"
# every RCPT refused: DATA is answered 503/554, no body, right results
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "rcpt-perm7@$H" "rcpt-temp7@$H")
run_ta "$ZT_W/t9b" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "all RCPTs refused: 550 one is error2" error2 "$(report_word "$ZT_W/t9b.out" "$(rcpt_id "$j" 1)")"
check_match "all RCPTs refused: 451 one deferred" "^(deferred|retryat)\$" \
	"$(report_word "$ZT_W/t9b.out" "$(rcpt_id "$j" 2)")"
check_eq "all RCPTs refused: one report each" 2 "$(report_count "$ZT_W/t9b.out")"
check_eq "all RCPTs refused: DATA was sent (pipelined)" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="DATA"')"
check_eq "all RCPTs refused: no message at the peer" 0 "$(aio_msgs)"
check_eq "all RCPTs refused: tags" "-_" "$(ctl_tags "$(ctlpath "$j")")"

# 10. the window: six jobs on one stdin; the next job's MAIL group goes out
# behind the previous dot, before that dot's reply is read; every recipient
# still gets exactly its own result
start_aiosmtpd
L10=$ZT_W/t10.log
w1=$(mkjob -P "$PO" "win1@$H")
w2=$(mkjob -P "$PO" "win2a@$H" "win2b@$H")
w3=$(mkjob -P "$PO" "rcpt-perm8@$H" "win3@$H")
w4=$(mkjob -P "$PO" "data-perm8@$H")
w5=$(mkjob -P "$PO" "data-temp8@$H")
w6=$(mkjob -P "$PO" "win6@$H")
run_ta "$ZT_W/t10" "$w1$T$H"$'\n'"$w2$T$H"$'\n'"$w3$T$H"$'\n'"$w4$T$H"$'\n'"$w5$T$H"$'\n'"$w6$T$H"$'\n' \
	-c smtp -l "$L10" -p "$AIO_PORT"
check_eq "window: exit 0" 0 "$TA_RC"
o=$ZT_W/t10.out
check_eq "window: job 1 ok3" ok3 "$(report_word "$o" "$(rcpt_id "$w1" 1)")"
check_eq "window: job 2 ok3 ok3" "ok3 ok3" \
	"$(report_word "$o" "$(rcpt_id "$w2" 1)") $(report_word "$o" "$(rcpt_id "$w2" 2)")"
check_eq "window: job 3 error2 ok3" "error2 ok3" \
	"$(report_word "$o" "$(rcpt_id "$w3" 1)") $(report_word "$o" "$(rcpt_id "$w3" 2)")"
check_eq "window: job 4 (554 at the dot) error2" error2 "$(report_word "$o" "$(rcpt_id "$w4" 1)")"
check_match "window: job 5 (451 at the dot) deferred" "$DEFER" "$(report_word "$o" "$(rcpt_id "$w5" 1)")"
check_eq "window: job 6 ok3" ok3 "$(report_word "$o" "$(rcpt_id "$w6" 1)")"
check_eq "window: one report per recipient" 8 "$(report_count "$o")"
check_eq "window: #hungry before every job line and at the end" 7 "$(grep -c '^#hungry$' "$o")"
check_eq "window: nothing left locked" "+ ++ -+ - _ +" \
	"$(for x in "$w1" "$w2" "$w3" "$w4" "$w5" "$w6"; do ctl_tags "$(ctlpath "$x")"; echo; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "window: one connection" 1 "$(jq_count "$AIO_LOG" '.ev=="conn"')"
check_eq "window: the peer got 6 bodies" 6 "$(aio_msgs)"
wnext=$(awk -F'\t' '{ k = substr($1, length($1), 1) }
	k == "w" && $2 == "." { d = 1; next }
	k == "r" { d = 0 }
	k == "w" && $2 ~ /^MAIL / && d { n++; d = 0 }
	END { print n + 0 }' "$L10")
check_eq "window: next MAIL written before the previous dot reply was read (5 times)" 5 "$wnext"
# the peer drops the connection after a body, with the next job's commands
# already sent: that message is deferred (delivery unknown), the next one is
# sent again on a new connection
: > "$AIO_LOG"
d1=$(mkjob -P "$PO" "drop9@$H")
d2=$(mkjob -P "$PO" "afterdrop@$H")
run_ta "$ZT_W/t10b" "$d1$T$H"$'\n'"$d2$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_match "window, dropped after the dot: deferred" "$DEFER" "$(report_word "$ZT_W/t10b.out" "$(rcpt_id "$d1" 1)")"
check_match "window, dropped after the dot: says delivery unknown" "unknown" \
	"$(report_line "$ZT_W/t10b.out" "$(rcpt_id "$d1" 1)")"
check_eq "window, dropped: the next job delivered on a new connection" ok3 \
	"$(report_word "$ZT_W/t10b.out" "$(rcpt_id "$d2" 1)")"
check_eq "window, dropped: one report each" 2 "$(report_count "$ZT_W/t10b.out")"
check_eq "window, dropped: tags" "_ +" "$(ctl_tags "$(ctlpath "$d1")") $(ctl_tags "$(ctlpath "$d2")")"
zt_done
