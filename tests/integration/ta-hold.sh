#!/bin/sh
# ta-hold.sh - the hold agent run by hand in $POSTOFFICE/transport with NSD
# serving tests/peers/mta.test.zone: NS: for a name with records (and for
# NXDOMAIN, also a definite answer) resubmits the recipient to the router
# (via suspension, original sender, DSN data, headers and body) and reports
# ok3; the same condition with no DNS server answering is retryat; TIMEOUT:
# and AGE: in the past resubmit, in the future give retryat with the time
# left; SCRIPT: and HOME: conditions; a condition without a class is error2,
# an unknown class retryat.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
HOLD=$top_builddir/transport/hold/hold
need_built "$HOLD" "$ZT_MKJOB"
need_cmd nsd
start_nsd "$ZT_PEERS/mta.test.zone" mta.test
MB=$ZT_W/mailbin
mkdir -p "$MB/bin"
printf '#!/bin/sh\nexit 0\n' > "$MB/bin/yes"
printf '#!/bin/sh\n[ "$1" = pass ]\n' > "$MB/bin/argcheck"
printf '#!/bin/sh\nexit 1\n' > "$MB/bin/no"
chmod 755 "$MB" "$MB/bin" "$MB/bin/"*
scratch_po "DNS_SERVERS=127.0.0.1:$DNS_PORT" "MAILBIN=$MB"
GOOD_ZCONFIG=$ZCONFIG
write_zconf "$ZT_W/deaddns.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$(dead_port)" "MAILBIN=$MB"
DEAD_ZCONFIG=$ZCONFIG
ZCONFIG=$GOOD_ZCONFIG
T=$'\t'
run_hold() { ZT_SMTP=$HOLD run_ta "$@"; }
subs() { find "$PO/router" -type f | sort; }
# newsub BEFORE - the one submission that is not in BEFORE
newsub() { comm -13 <(echo "$1") <(subs) | head -1; }
# retry_secs OUT ID - the N of "retryat +N" (or of "retryat N")
retry_secs() { report_line "$1" "$2" | awk -F'\t' '{ split($3, a, " "); sub(/^\+/, "", a[2]); print a[2] }'; }

# 1. NS: a name with an A record: resubmitted with the original envelope
before=$(subs)
j=$(mkjob -P "$PO" -c hold -X NS:implicit.mta.test -f alice@src.test -N SUCCESS,FAILURE \
	-n ENV123 -R HDRS -h 'Subject: held mail' bob@implicit.mta.test)
run_hold "$ZT_W/t1" "$j${T}NS:implicit.mta.test"$'\n' -c hold
check_eq "NS resolvable: exit 0" 0 "$TA_RC"
check_eq "NS resolvable: ok3 (NOTIFY went on)" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "NS resolvable: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
check_match "NS resolvable: relayed" 'relayed via deferral channel' "$(report_line "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
S=$(newsub "$before")
check_match "resubmitted: a new router file" . "$S"
if [ -n "$S" ]; then
	env=$(sed '/^env-end$/q' "$S")
	check_match "resubmitted: via suspension" '^via suspension$' "$env"
	check_match "resubmitted: original sender" '^from <alice@src\.test>$' "$env"
	check_match "resubmitted: envid" '^envid ENV123$' "$env"
	check_match "resubmitted: notaryret" '^notaryret HDRS$' "$env"
	check_match "resubmitted: todsn" '^todsn NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@implicit\.mta\.test$' "$env"
	check_match "resubmitted: recipient" '^to <bob@implicit\.mta\.test>$' "$env"
	check_match "resubmitted: headers" '^Subject: held mail$' "$(cat "$S")"
	check_match "resubmitted: body" '^Test message from mkjob\.$' "$(cat "$S")"
fi

# 2. NS:/mx and NXDOMAIN are definite answers too
before=$(subs)
j=$(mkjob -P "$PO" -c hold -X NS:one.mta.test/mx c@one.mta.test)
run_hold "$ZT_W/t2" "$j${T}NS:one.mta.test/mx"$'\n' -c hold
check_eq "NS /mx: ok3" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" -c hold -X NS:nosuchname.mta.test d@nosuchname.mta.test)
run_hold "$ZT_W/t3" "$j${T}NS:nosuchname.mta.test"$'\n' -c hold
check_eq "NS NXDOMAIN (definite): ok3" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "two more submissions" 2 "$(comm -13 <(echo "$before") <(subs) | wc -l)"

# 3. no DNS server answers: deferred with a retry hint, nothing submitted
before=$(subs)
j=$(mkjob -P "$PO" -c hold -X NS:implicit.mta.test e@implicit.mta.test)
ZCONFIG=$DEAD_ZCONFIG run_hold "$ZT_W/t4" "$j${T}NS:implicit.mta.test"$'\n' -c hold -r 7m
check_eq "NS unresolvable: retryat" retryat "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "NS unresolvable: hint = -r" 420 "$(retry_secs "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "NS unresolvable: tag back to blank" _ "$(ctl_tags "$(ctlpath "$j")")"
check_eq "NS unresolvable: nothing submitted" 0 "$(comm -13 <(echo "$before") <(subs) | wc -l)"

# 4. TIMEOUT: past -> resubmit; future -> retryat with the time left
now=$(date +%s)
j=$(mkjob -P "$PO" -c hold -X "TIMEOUT:$((now - 10))" f@x.test)
run_hold "$ZT_W/t5" "$j${T}TIMEOUT:$((now - 10))"$'\n' -c hold
check_eq "TIMEOUT past: ok3" ok3 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" -c hold -X "TIMEOUT:$((now + 3600))" g@x.test)
run_hold "$ZT_W/t6" "$j${T}TIMEOUT:$((now + 3600))"$'\n' -c hold
check_eq "TIMEOUT future: retryat" retryat "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
s=$(retry_secs "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")
check_match "TIMEOUT future: hint is the time left" '^3[0-9][0-9][0-9]$' "$s"

# 5. AGE: a new message is not a day old; an old queue file is
j=$(mkjob -P "$PO" -c hold -X AGE:1d h@x.test)
run_hold "$ZT_W/t7" "$j${T}AGE:1d"$'\n' -c hold
check_eq "AGE not reached: retryat" retryat "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
s=$(retry_secs "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")
check_match "AGE not reached: hint about a day" '^8[0-9][0-9][0-9][0-9]$' "$s"
j=$(mkjob -P "$PO" -c hold -X AGE:1d i@x.test)
touch -d '2 days ago' "$PO/queue/$j"
run_hold "$ZT_W/t8" "$j${T}AGE:1d"$'\n' -c hold
check_eq "AGE reached: ok3" ok3 "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"

# 6. SCRIPT: MAILBIN/bin/<name> [arg] exit 0 clears
j=$(mkjob -P "$PO" -c hold -X SCRIPT:yes k@x.test)
run_hold "$ZT_W/t9" "$j${T}SCRIPT:yes"$'\n' -c hold
check_eq "SCRIPT exit 0: ok3" ok3 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" -c hold -X SCRIPT:no l@x.test)
run_hold "$ZT_W/t10" "$j${T}SCRIPT:no"$'\n' -c hold
check_eq "SCRIPT exit 1: retryat" retryat "$(report_word "$ZT_W/t10.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" -c hold -X SCRIPT:argcheck/pass m@x.test)
run_hold "$ZT_W/t11" "$j${T}SCRIPT:argcheck/pass"$'\n' -c hold
check_eq "SCRIPT with an argument: ok3" ok3 "$(report_word "$ZT_W/t11.out" "$(rcpt_id "$j" 1)")"

# 7. HOME: the running user's home exists
me=$(id -un)
j=$(mkjob -P "$PO" -c hold -X "HOME:$me" n@x.test)
run_hold "$ZT_W/t12" "$j${T}HOME:$me"$'\n' -c hold
check_eq "HOME exists: ok3" ok3 "$(report_word "$ZT_W/t12.out" "$(rcpt_id "$j" 1)")"

# 8. bad conditions: no class -> error2 (abnormal); unknown class -> retryat
j=$(mkjob -P "$PO" -c hold -X example.org o@x.test)
run_hold "$ZT_W/t13" "$j${T}example.org"$'\n' -c hold
check_eq "no class: error2" error2 "$(report_word "$ZT_W/t13.out" "$(rcpt_id "$j" 1)")"
check_eq "no class: tag -" - "$(ctl_tags "$(ctlpath "$j")")"
j=$(mkjob -P "$PO" -c hold -X FOO:bar p@x.test)
run_hold "$ZT_W/t14" "$j${T}FOO:bar"$'\n' -c hold
check_eq "unknown class: retryat" retryat "$(report_word "$ZT_W/t14.out" "$(rcpt_id "$j" 1)")"

[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/t1.out" "$ZT_W/t1.err" "$ZT_W/t4.out" "$ZT_W/t6.out"
zt_done
