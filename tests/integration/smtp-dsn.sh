#!/bin/sh
# smtp-dsn.sh - SIZE over the peer's limit -> error2 5.3.4 before MAIL;
# NOTIFY=SUCCESS to a peer without DSN -> ok2 + 'relayed' d line; ENVID,
# RET, NOTIFY, ORCPT on the wire to a DSN peer and never to a non-DSN peer;
# SIZE= on MAIL; the null sender.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
scratch_po
T=$'\t'
H='[127.0.0.1]'

# 1. SIZE limit 2000, message of 10000 bytes: permanent, MAIL never sent
start_aiosmtpd --size-limit 2000
j=$(mkjob -P "$PO" -z 10000 "big@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "over SIZE: error2" error2 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_match "over SIZE: 5.3.4" '5\.3\.4' "$(report_line "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")$(ctl_dlines "$(ctlpath "$j")")"
check_eq "over SIZE: MAIL not sent" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL"')"
# a small one on the same peer goes through, with SIZE= on MAIL
j=$(mkjob -P "$PO" -z 500 "small@$H")
run_ta "$ZT_W/t1b" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "under SIZE: ok3" ok3 "$(report_word "$ZT_W/t1b.out" "$(rcpt_id "$j" 1)")"
check_match "under SIZE: MAIL carries SIZE=" 'SIZE=[0-9]+' \
	"$(jq_get "$AIO_LOG" 'select(.ev=="cmd" and .verb=="MAIL") | .arg' | tail -1)"

# 2. NOTIFY=SUCCESS, peer without DSN: relayed -> ok2 and a d line
start_aiosmtpd
j=$(mkjob -P "$PO" -N SUCCESS,FAILURE -R FULL -n ENVXYZ "succ@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "NOTIFY=SUCCESS to non-DSN peer: ok2" ok2 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "ok2: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
off=$(ctl_rcpt_offsets "$(ctlpath "$j")" | head -1)
d=$(ctl_dlines "$(ctlpath "$j")")
check_match "ok2: d line for the recipient" "^d $off:" "$d"
check_match "ok2: d line says relayed" "$(printf '\001')relayed$(printf '\001')" "$d"
check_eq "non-DSN peer: no DSN parameters on the wire (accepted)" 1 "$(aio_msgs)"
check_eq "non-DSN peer: MAIL without ENVID/RET" 0 \
	"$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL" and (.arg|test("ENVID|RET="))')"

# 3. DSN peer: ENVID, RET, NOTIFY, ORCPT on the wire
start_aiosmtpd --dsn
j=$(mkjob -P "$PO" -N SUCCESS,DELAY -O 'rfc822;orig+2Buser@src.test' -R HDRS -n ENV12345 "dsn1@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
# the DSN peer took over NOTIFY=SUCCESS: no success report from us (ok3, no d line)
check_eq "DSN peer: NOTIFY passed on, ok3" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "DSN peer: no d line" "" "$(ctl_dlines "$(ctlpath "$j")")"
wait_lines "$AIO_LOG" 3 5
check_eq "ENVID on MAIL" ENV12345 "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .mail_dsn.ENVID')"
check_eq "RET on MAIL" HDRS "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .mail_dsn.RET')"
check_eq "NOTIFY on RCPT" SUCCESS,DELAY "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_dsn[0].NOTIFY')"
check_eq "ORCPT on RCPT" 'rfc822;orig+2Buser@src.test' "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_dsn[0].ORCPT')"
# default ORCPT/NOTIFY when the control file has none: NOTIFY absent or
# FAILURE,DELAY; ORCPT rfc822;<rcpt> (xtext)
j=$(mkjob -P "$PO" "dsn2@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "no N line: ok3" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"

# 4. null sender: MAIL FROM:<>
j=$(mkjob -P "$PO" -f '' "bounce@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "null sender: ok3" ok3 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_match "null sender: MAIL FROM:<>" '^[Ff][Rr][Oo][Mm]: ?<>' \
	"$(jq_get "$AIO_LOG" 'select(.ev=="cmd" and .verb=="MAIL") | .arg' | tail -1)"
zt_done
