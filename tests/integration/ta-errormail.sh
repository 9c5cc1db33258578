#!/bin/sh
# ta-errormail.sh - the errormail agent run by hand in $POSTOFFICE/transport:
# a channel-error recipient with form nosuchuser becomes one bounce in
# router/ (null sender, NOTIFY=NEVER, form text, delivery-status, the
# original attached) and is reported ok3; a null-sender message is
# "error bounce dropped" with no bounce; ADR lines add recipients; a
# missing form still bounces; RET=HDRS attaches headers only; two
# recipients of one sender make one bounce.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
EM=$top_builddir/transport/errormail/errormail
need_built "$EM" "$ZT_MKJOB"
T=$'\t'
SHARE=$ZT_W/share
mkdir -p "$SHARE/forms"
cp "$top_srcdir"/transport/errormail/forms/* "$SHARE/forms/"
scratch_po "MAILSHARE=$SHARE" "MYHOSTNAME=mx.zmta.test"
# run_em OUTBASE JOBTEXT ARGS... - the errormail agent instead of smtp
run_em() { ZT_SMTP=$EM run_ta "$@"; }
# new_bounces - files in router/ (the bounces written so far)
new_bounces() { find "$PO/router" -type f | sort; }

# 1. unknown user: one bounce with the form, the report and the original
j=$(mkjob -P "$PO" -c error -X nosuchuser -f alice@src.test -N FAILURE \
	-h 'Subject: lunch plans' bob@local.test)
run_em "$ZT_W/t1" "$j${T}nosuchuser"$'\n' -c error
check_eq "nosuchuser: exit 0" 0 "$TA_RC"
check_eq "nosuchuser: ok3" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "nosuchuser: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
check_match "nosuchuser: report names the bounce" 'bounce sent to <alice@src.test>' \
	"$(report_line "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "nosuchuser: one bounce submitted" 1 "$(new_bounces | wc -l)"
B=$(new_bounces | head -1)
if [ -n "$B" ]; then
	env=$(sed '/^env-end$/q' "$B")
	check_match "bounce: channel error" '^channel error$' "$(echo "$env" | head -1)"
	check_match "bounce: errormsg" '^errormsg$' "$env"
	check_match "bounce: to the sender" 'to <alice@src\.test>' "$env"
	check_match "bounce: NOTIFY=NEVER" 'todsn NOTIFY=NEVER ORCPT=rfc822;alice@src\.test' "$env"
	check_eq "bounce: one recipient" 1 "$(echo "$env" | grep -c '^to ')"
	msg=$(cat "$B")
	check_match "bounce: To header" 'To: <alice@src\.test>' "$msg"
	check_match "bounce: subject from the form (SUB)" 'Subject: Undeliverable mail: no such user' "$msg"
	check_match "bounce: form text" 'no mailbox or alias exists here' "$msg"
	check_match "bounce: failing address listed" $'\tbob@local\\.test' "$msg"
	check_match "bounce: multipart/report" 'multipart/report; report-type=delivery-status' "$msg"
	check_match "bounce: Final-Recipient" 'Final-Recipient: rfc822; bob@local\.test' "$msg"
	check_match "bounce: Status 5.1.1" 'Status: 5\.1\.1' "$msg"
	check_match "bounce: Reporting-MTA" 'Reporting-MTA: dns; mx\.zmta\.test' "$msg"
	check_match "bounce: original attached" 'Content-Type: message/rfc822' "$msg"
	check_match "bounce: original header" 'Subject: lunch plans' "$msg"
	check_match "bounce: original body" 'Test message from mkjob\.' "$msg"
	check_match "bounce: closing boundary" '=_/errmail/mx\.zmta\.test--' "$(tail -2 "$B")"
fi

# 2. the message was itself a bounce (null sender): dropped, no new file
n0=$(new_bounces | wc -l)
j=$(mkjob -P "$PO" -c error -X nosuchuser -f '' bob@local.test)
run_em "$ZT_W/t2" "$j${T}nosuchuser"$'\n' -c error
check_eq "null sender: ok3" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_match "null sender: error bounce dropped" 'error bounce dropped' \
	"$(report_line "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "null sender: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
check_eq "null sender: no bounce" "$n0" "$(new_bounces | wc -l)"

# 3. loopexceeded: ADR Cc: postmaster adds a NOTIFY=NEVER recipient
before=$(new_bounces)
j=$(mkjob -P "$PO" -c error -X loopexceeded -f carol@src.test dave@local.test)
run_em "$ZT_W/t3" "$j${T}loopexceeded"$'\n' -c error
check_eq "loop: ok3" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
B=$(comm -13 <(echo "$before") <(new_bounces) | head -1)
check_match "loop: postmaster is a recipient" 'to <postmaster>' "$(sed '/^env-end$/q' "$B" 2>/dev/null)"
check_match "loop: Cc header from the form" 'Cc: postmaster' "$(cat "$B" 2>/dev/null)"
check_match "loop: Status 5.4.6" 'Status: 5\.4\.6' "$(cat "$B" 2>/dev/null)"

# 4. a form that does not exist: the bounce goes out with a built-in text
before=$(new_bounces)
j=$(mkjob -P "$PO" -c error -X no-such-form -f erin@src.test frank@local.test)
run_em "$ZT_W/t4" "$j${T}no-such-form"$'\n' -c error
check_eq "missing form: ok3" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
B=$(comm -13 <(echo "$before") <(new_bounces) | head -1)
check_match "missing form: built-in text" 'could not be delivered to the addresses below' "$(cat "$B" 2>/dev/null)"

# 4b. a form name that tries to leave the forms directory is not opened
before=$(new_bounces)
j=$(mkjob -P "$PO" -c error -X ../../../../../etc/passwd -f erin@src.test fred@local.test)
run_em "$ZT_W/t4b" "$j${T}../../../../../etc/passwd"$'\n' -c error
check_eq "path as form name: ok3" ok3 "$(report_word "$ZT_W/t4b.out" "$(rcpt_id "$j" 1)")"
B=$(comm -13 <(echo "$before") <(new_bounces) | head -1)
check_match "path as form name: built-in text" 'could not be delivered to the addresses below' "$(cat "$B" 2>/dev/null)"
check_nomatch "path as form name: no passwd content" '^root:' "$(cat "$B" 2>/dev/null)"
check_match "path as form name: logged" 'not a valid form name' "$(cat "$ZT_W/t4b.err" "$ZT_W/t4b.out")"

# 5. RET=HDRS: only the headers come back; two recipients -> one bounce
before=$(new_bounces)
j=$(mkjob -P "$PO" -c error -X nosuchuser -f gina@src.test -R HDRS -z 3000 h1@local.test h2@local.test)
run_em "$ZT_W/t5" "$j${T}nosuchuser"$'\n' -c error
check_eq "two rcpts: both ok3" "ok3 ok3" "$(words "$ZT_W/t5.out")"
check_eq "two rcpts: one bounce" 1 "$(comm -13 <(echo "$before") <(new_bounces) | wc -l)"
B=$(comm -13 <(echo "$before") <(new_bounces) | head -1)
msg=$(cat "$B" 2>/dev/null)
check_match "RET=HDRS: text/rfc822-headers" 'Content-Type: text/rfc822-headers' "$msg"
check_nomatch "RET=HDRS: no body" 'quick brown fox' "$msg"
check_eq "two rcpts: both listed" 2 "$(grep -c '^Final-Recipient:' "$B" 2>/dev/null)"

# 6. a job for another channel selects nothing: #resync
j=$(mkjob -P "$PO" -c smtp -f hank@src.test ivy@remote.test)
run_em "$ZT_W/t6" "$j${T}remote.test"$'\n' -c error
check_match "other channel: #resync" '^#resync' "$(grep '^#resync' "$ZT_W/t6.out")"
check_eq "other channel: untouched" _ "$(ctl_tags "$(ctlpath "$j")")"

[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/t1.out" "$ZT_W/t1.err" "$(new_bounces | head -1)"
zt_done
