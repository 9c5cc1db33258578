#!/bin/sh
# smtp-auth.sh - SMTP AUTH (-A secrets file) against aiosmtpd --auth:
# CRAM-MD5 (allowed in clear), PLAIN and LOGIN only over TLS unless the
# entry says plain-ok, never PLAIN/LOGIN in clear otherwise; bad secret.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd openssl
smtp_env
T=$'\t'
H='[127.0.0.1]'

secrets() { # NAME USER SECRET [plain-ok]
	local f=$ZT_W/$1.auth
	{
		echo "# test secrets"
		echo "* [127.0.0.1] $2 $3 ${4:-}"
		echo "* 127.0.0.1 $2 $3 ${4:-}"
	} > "$f"
	chmod 600 "$f"
	echo "$f"
}
auth_mechs_used() { jq_get "$AIO_LOG" 'select(.ev=="auth") | "\(.mech):\(.ok):\(.tls)"' | tr '\n' ' ' | sed 's/ $//'; }
auth_cmds() { jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="AUTH"'; }

A=$(secrets plain alice s3cret)
AP=$(secrets plainok alice s3cret plain-ok)
AB=$(secrets bad alice wrong)

# 1. CRAM-MD5 offered (with PLAIN, LOGIN) in clear: CRAM-MD5 is used
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN,LOGIN,CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "cram@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -A "$A" -p "$AIO_PORT"
check_eq "CRAM-MD5: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "CRAM-MD5: used and accepted" "CRAM-MD5:true:false" "$(auth_mechs_used)"
check_eq "CRAM-MD5: message authenticated" true "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .auth' | tail -1)"

# 2. only PLAIN/LOGIN offered in clear, no plain-ok: no AUTH at all
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN,LOGIN --auth-clear
j=$(mkjob -P "$PO" "noplain@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -A "$A" -p "$AIO_PORT"
check_eq "no PLAIN/LOGIN in clear: no AUTH command" 0 "$(auth_cmds)"
# delivering unauthenticated or deferring are both fine; failing is not
check_match "no PLAIN/LOGIN in clear: delivered or deferred" '^(ok3|retryat|deferred)$' "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"

# 3. plain-ok: PLAIN in clear
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN --auth-clear --auth-required
j=$(mkjob -P "$PO" "plainok@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -A "$AP" -p "$AIO_PORT"
check_eq "plain-ok: delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "plain-ok: PLAIN used" "PLAIN:true:false" "$(auth_mechs_used)"

# 4. plain-ok: LOGIN when it is the only mechanism
start_aiosmtpd --auth alice:s3cret --auth-mechs LOGIN --auth-clear --auth-required
j=$(mkjob -P "$PO" "login@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -A "$AP" -p "$AIO_PORT"
check_eq "LOGIN: delivered" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "LOGIN: used" "LOGIN:true:false" "$(auth_mechs_used)"

# 5. PLAIN after STARTTLS (no plain-ok needed)
C=$ZT_W/certs
if make_certs "$C"; then
	printf 'tls-verify may\n' > "$ZT_W/tls.conf"
	start_aiosmtpd --tls "$C/server.pem" "$C/server.key" --auth alice:s3cret --auth-mechs PLAIN --auth-required
	j=$(mkjob -P "$PO" "tlsplain@$H")
	run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -A "$A" -S "$ZT_W/tls.conf" -p "$AIO_PORT"
	check_eq "PLAIN over TLS: delivered" ok3 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
	check_eq "PLAIN over TLS: used over TLS" "PLAIN:true:true" "$(auth_mechs_used)"
fi

# 6. wrong secret: rejected, not delivered, secret not in the report
start_aiosmtpd --auth alice:s3cret --auth-mechs CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "badauth@$H")
run_ta "$ZT_W/t6" "$j$T$H"$'\n' -c smtp -A "$AB" -p "$AIO_PORT"
check_match "bad secret: not delivered" '^(deferred|retryat|error2|deferall)$' "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_eq "bad secret: peer refused it" "CRAM-MD5:false:false" "$(auth_mechs_used)"
if grep -q wrong "$ZT_W/t6.out" "$ZT_W/t6.err"; then fail "secret leaked into output"; else pass "secret not in output"; fi
zt_done
