#!/bin/sh
# smtp-tls.sh - STARTTLS (-S smtp-tls.conf) against aiosmtpd with the test
# PKI of tests/peers/make-certs.sh: no -S -> no STARTTLS; opportunistic
# (may); verify with the CA (good, self-signed, expired); secure with the
# right and a wrong name -> deferred, never a plaintext fallback;
# demand-tls-mode with a peer without STARTTLS -> deferred; the window
# (pipelining across jobs) over TLS.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd openssl
C=$ZT_W/certs
make_certs "$C" || skip "make-certs failed"
smtp_env
T=$'\t'
H='[127.0.0.1]'
DEFER='^(deferred|retryat|deferall)$'

tlsconf() { # NAME LINES... - write $ZT_W/NAME.conf
	local f=$ZT_W/$1.conf
	shift
	printf '%s\n' "$@" > "$f"
	echo "$f"
}
# plain_mail - MAIL commands the peer saw outside TLS
plain_mail() { jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL" and (.tls|not)'; }

start_aiosmtpd --tls "$C/server.pem" "$C/server.key"
GOOD=$AIO_PORT; GOODLOG=$AIO_LOG

# 1. without -S: STARTTLS is not used
j=$(mkjob -P "$PO" "notls@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -p "$GOOD"
check_eq "no -S: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "no -S: in clear" false "$(jq_get "$GOODLOG" 'select(.ev=="msg") | .tls' | tail -1)"

# 2. opportunistic
f=$(tlsconf may "tls-verify may")
j=$(mkjob -P "$PO" "may@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -S "$f" -p "$GOOD"
check_eq "may: delivered" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "may: over TLS" true "$(jq_get "$GOODLOG" 'select(.ev=="msg") | .tls' | tail -1)"

# 2b. the window over TLS: three jobs on one stdin, one TLS connection,
# each next MAIL group written behind the previous dot
f=$(tlsconf maywin "tls-verify may")
w1=$(mkjob -P "$PO" "tw1@$H"); w2=$(mkjob -P "$PO" "rcpt-perm2@$H" "tw2@$H"); w3=$(mkjob -P "$PO" "tw3@$H")
c0=$(jq_count "$GOODLOG" '.ev=="conn"'); m0=$(jq_count "$GOODLOG" '.ev=="msg" and .tls')
run_ta "$ZT_W/t2w" "$w1$T$H"$'\n'"$w2$T$H"$'\n'"$w3$T$H"$'\n' -c smtp -S "$f" -l "$ZT_W/t2w.log" -p "$GOOD"
check_eq "TLS window: results" "ok3 error2 ok3 ok3" \
	"$(report_word "$ZT_W/t2w.out" "$(rcpt_id "$w1" 1)") $(report_word "$ZT_W/t2w.out" "$(rcpt_id "$w2" 1)") $(report_word "$ZT_W/t2w.out" "$(rcpt_id "$w2" 2)") $(report_word "$ZT_W/t2w.out" "$(rcpt_id "$w3" 1)")"
check_eq "TLS window: one connection" 1 "$(( $(jq_count "$GOODLOG" '.ev=="conn"') - c0 ))"
check_eq "TLS window: three messages over TLS" 3 "$(( $(jq_count "$GOODLOG" '.ev=="msg" and .tls') - m0 ))"
check_eq "TLS window: next MAIL written before the previous dot reply was read" 2 \
	"$(awk -F'\t' '{ k = substr($1, length($1), 1) }
		k == "w" && $2 == "." { d = 1; next }
		k == "r" { d = 0 }
		k == "w" && $2 ~ /^MAIL / && d { n++; d = 0 }
		END { print n + 0 }' "$ZT_W/t2w.log")"

# 3. verify with the CA against the good certificate
f=$(tlsconf verify "tls-verify verify" "tls-CAfile $C/ca.pem")
j=$(mkjob -P "$PO" "verify@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -S "$f" -p "$GOOD"
check_eq "verify, good chain: delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "verify, good chain: over TLS" true "$(jq_get "$GOODLOG" 'select(.ev=="msg") | .tls' | tail -1)"

# 4. secure with the right name
f=$(tlsconf secure "tls-verify secure" "tls-CAfile $C/ca.pem" "tls-verify-name peer.test")
j=$(mkjob -P "$PO" "secure@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -S "$f" -p "$GOOD"
check_eq "secure, right name: delivered" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"

# 5. secure against a certificate for another name: deferred, no plaintext
start_aiosmtpd --tls "$C/wrongname.pem" "$C/wrongname.key"
j=$(mkjob -P "$PO" "wrongname@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -S "$f" -p "$AIO_PORT"
check_match "secure, wrong name: deferred" "$DEFER" "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_eq "secure, wrong name: tag blank" _ "$(ctl_tags "$(ctlpath "$j")")"
check_eq "secure, wrong name: STARTTLS was tried" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="STARTTLS"')"
check_eq "secure, wrong name: no plaintext MAIL" 0 "$(plain_mail)"
check_eq "secure, wrong name: no message" 0 "$(aio_msgs)"

# 6. verify: self-signed and expired certificates are refused
fv=$ZT_W/verify.conf
for bad in selfsigned expired; do
	[ -f "$C/$bad.pem" ] || { info "no $bad certificate (faketime?)"; continue; }
	start_aiosmtpd --tls "$C/$bad.pem" "$C/$bad.key"
	j=$(mkjob -P "$PO" "$bad@$H")
	run_ta "$ZT_W/t6$bad" "$j$T$H"$'\n' -c smtp -S "$fv" -p "$AIO_PORT"
	check_match "verify, $bad: deferred" "$DEFER" "$(report_word "$ZT_W/t6$bad.out" "$(rcpt_id "$j" 1)")"
	check_eq "verify, $bad: no plaintext MAIL" 0 "$(plain_mail)"
done

# 7. demand-tls-mode, peer without STARTTLS: deferred, MAIL never sent
start_aiosmtpd
f=$(tlsconf demand "demand-tls-mode")
j=$(mkjob -P "$PO" "demand@$H")
run_ta "$ZT_W/t7" "$j$T$H"$'\n' -c smtp -S "$f" -p "$AIO_PORT"
check_match "demand-tls-mode without STARTTLS: deferred" "$DEFER" "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
check_eq "demand-tls-mode: no MAIL in clear" 0 "$(plain_mail)"
# the same with tls-verify encrypt
f=$(tlsconf encrypt "tls-verify encrypt")
j=$(mkjob -P "$PO" "encrypt@$H")
run_ta "$ZT_W/t8" "$j$T$H"$'\n' -c smtp -S "$f" -p "$AIO_PORT"
check_match "encrypt without STARTTLS: deferred" "$DEFER" "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
check_eq "encrypt: no MAIL in clear" 0 "$(plain_mail)"
# and 'may' with the same peer just goes on in clear
f=$(tlsconf may2 "tls-verify may")
j=$(mkjob -P "$PO" "may2@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -S "$f" -p "$AIO_PORT"
check_eq "may without STARTTLS: delivered in clear" ok3 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
zt_done
