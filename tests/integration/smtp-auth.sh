#!/bin/sh
# smtp-auth.sh - SMTP AUTH (-A secrets file, ZMailer's format with base64
# user and secret) against aiosmtpd --auth: secrets go only over TLS whose
# certificate verified, unless the line's flags allow more (tls=any:
# unverified TLS, clear: CRAM-MD5 in clear, plain-clear: PLAIN/LOGIN in
# clear); remotehost matching (with and without brackets, -F [ip]:port);
# a secrets file readable by the group or others is refused; no part of a
# secret in the -l transcript or the -d output; bad secret.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd openssl
need_cmd base64
scratch_po
T=$'\t'
H='[127.0.0.1]'
DEFER='^(deferred|retryat|deferall)$'

b64() { printf '%s' "$1" | base64 | tr -d '\n'; }
secrets() { # NAME USER SECRET [FLAGS [REMOTEHOST]] - a 0600 secrets file
	local f=$ZT_W/$1.auth
	{
		echo "# test secrets"
		echo "# channel remotehost base64(user) base64(secret) [flags]"
		echo "smtp nomatch.example $(b64 nobody) $(b64 nothing)"
		echo "* ${5:-[127.0.0.1]} $(b64 "$2") $(b64 "$3") ${4:-}"
	} > "$f"
	chmod 600 "$f"
	echo "$f"
}
auth_mechs_used() { jq_get "$AIO_LOG" 'select(.ev=="auth") | "\(.mech):\(.ok):\(.tls)"' | tr '\n' ' ' | sed 's/ $//'; }
last_auth() { jq_get "$AIO_LOG" 'select(.ev=="auth") | "\(.mech):\(.ok):\(.tls)"' | tail -1; }
auth_cmds() { jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="AUTH"'; }

A=$(secrets plain alice s3cret)
AC=$(secrets clear alice s3cret clear)
AP=$(secrets plainclear alice s3cret plain-clear)
AB=$(secrets bad alice wrong clear)

# 1. CRAM-MD5 offered (with PLAIN, LOGIN) in clear, line says "clear": CRAM-MD5
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN,LOGIN,CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "cram@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -A "$AC" -p "$AIO_PORT"
check_eq "CRAM-MD5 (clear): delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "CRAM-MD5 (clear): used and accepted" "CRAM-MD5:true:false" "$(auth_mechs_used)"
check_eq "CRAM-MD5 (clear): message authenticated" true "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .auth' | tail -1)"

# 1b. the same server, a line without flags: no secret in clear, not even
# CRAM-MD5; the server is unusable for now (deferred, not failed)
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN,LOGIN,CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "nocram@$H")
run_ta "$ZT_W/t1b" "$j$T$H"$'\n' -c smtp -A "$A" -p "$AIO_PORT"
check_eq "no flags, no TLS: no AUTH command" 0 "$(auth_cmds)"
check_match "no flags, no TLS: deferred" "$DEFER" "$(report_word "$ZT_W/t1b.out" "$(rcpt_id "$j" 1)")"
check_match "no flags, no TLS: the reason names the flag" 'clear' "$(report_line "$ZT_W/t1b.out" "$(rcpt_id "$j" 1)")"

# 2. only PLAIN/LOGIN offered in clear, "clear" (CRAM-MD5 only): no AUTH at all
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN,LOGIN --auth-clear
j=$(mkjob -P "$PO" "noplain@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -A "$AC" -p "$AIO_PORT"
check_eq "no PLAIN/LOGIN in clear: no AUTH command" 0 "$(auth_cmds)"
check_match "no PLAIN/LOGIN in clear: deferred" "$DEFER" "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"

# 3. plain-clear: PLAIN in clear
start_aiosmtpd --auth alice:s3cret --auth-mechs PLAIN --auth-clear --auth-required
j=$(mkjob -P "$PO" "plainok@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -A "$AP" -p "$AIO_PORT"
check_eq "plain-clear: delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "plain-clear: PLAIN used" "PLAIN:true:false" "$(auth_mechs_used)"

# 4. plain-clear: LOGIN when it is the only mechanism; transcript (-l) and
# debug output (-d) carry no part of the secret
start_aiosmtpd --auth alice:s3cret --auth-mechs LOGIN --auth-clear --auth-required
j=$(mkjob -P "$PO" "login@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -A "$AP" -p "$AIO_PORT" -l "$ZT_W/t4.log" -d
check_eq "LOGIN: delivered" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "LOGIN: used" "LOGIN:true:false" "$(auth_mechs_used)"
S64=$(b64 s3cret)
if grep -q -e s3cret -e "$S64" "$ZT_W/t4.log" "$ZT_W/t4.err" "$ZT_W/t4.out"; then
	fail "LOGIN: secret in the transcript or debug output"
else
	pass "LOGIN: secret not in the transcript or debug output"
fi
check_eq "LOGIN: the secret's line is shown as (hidden) only" "(hidden)" \
	"$(awk -F'\t' '{ k = substr($1, length($1), 1) } k == "w" && /hidden/ { print $2 }' "$ZT_W/t4.log")"
check_nomatch "LOGIN: -d shows no part of the secret line" '<<- [^ ]+ \(hidden\)' "$(cat "$ZT_W/t4.err")"

C=$ZT_W/certs
if make_certs "$C"; then
	# 5. PLAIN offered over unverified TLS (may, no trust anchor for the
	# test CA): a line without flags sends nothing
	printf 'tls-verify may\n' > "$ZT_W/tls.conf"
	start_aiosmtpd --tls "$C/server.pem" "$C/server.key" --auth alice:s3cret --auth-mechs PLAIN --auth-required
	j=$(mkjob -P "$PO" "tlsplain@$H")
	run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -A "$A" -S "$ZT_W/tls.conf" -p "$AIO_PORT"
	check_eq "unverified TLS, no flags: no AUTH command" 0 "$(auth_cmds)"
	check_match "unverified TLS, no flags: deferred" "$DEFER" "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
	check_match "unverified TLS, no flags: the reason names tls=any" 'tls=any' "$(report_line "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
	# 5b. the same with tls=any on the line
	AT=$(secrets tlsany alice s3cret tls=any)
	j=$(mkjob -P "$PO" "tlsany@$H")
	run_ta "$ZT_W/t5b" "$j$T$H"$'\n' -c smtp -A "$AT" -S "$ZT_W/tls.conf" -p "$AIO_PORT" -l "$ZT_W/t5b.log"
	check_eq "tls=any: delivered" ok3 "$(report_word "$ZT_W/t5b.out" "$(rcpt_id "$j" 1)")"
	check_eq "tls=any: PLAIN over TLS" "PLAIN:true:true" "$(auth_mechs_used)"
	P64=$(printf '\0alice\0s3cret' | base64 | tr -d '\n')
	if grep -q -e s3cret -e "$P64" "$ZT_W/t5b.log"; then fail "tls=any: secret in the transcript"; else pass "tls=any: secret not in the transcript"; fi
	# 5c. verified TLS (tls-verify verify with the test CA; the certificate
	# names 127.0.0.1): a line without flags is enough
	printf 'tls-verify verify\ntls-CAfile %s\n' "$C/ca.pem" > "$ZT_W/tlsv.conf"
	j=$(mkjob -P "$PO" "tlsverified@$H")
	run_ta "$ZT_W/t5c" "$j$T$H"$'\n' -c smtp -A "$A" -S "$ZT_W/tlsv.conf" -p "$AIO_PORT"
	check_eq "verified TLS: delivered" ok3 "$(report_word "$ZT_W/t5c.out" "$(rcpt_id "$j" 1)")"
	check_eq "verified TLS: PLAIN over TLS" "PLAIN:true:true" "$(last_auth)"
	# 5d. may with the CA: the session happens to verify, that counts
	printf 'tls-verify may\ntls-CAfile %s\n' "$C/ca.pem" > "$ZT_W/tlsmv.conf"
	j=$(mkjob -P "$PO" "mayverified@$H")
	run_ta "$ZT_W/t5d" "$j$T$H"$'\n' -c smtp -A "$A" -S "$ZT_W/tlsmv.conf" -p "$AIO_PORT"
	check_eq "may, verified: delivered" ok3 "$(report_word "$ZT_W/t5d.out" "$(rcpt_id "$j" 1)")"
	check_eq "may, verified: PLAIN over TLS" "PLAIN:true:true" "$(last_auth)"
	# 5e. opportunistic TLS without -S, tls=any: PLAIN over TLS
	j=$(mkjob -P "$PO" "nos@$H")
	run_ta "$ZT_W/t5e" "$j$T$H"$'\n' -c smtp -A "$AT" -p "$AIO_PORT"
	check_eq "no -S, tls=any: delivered" ok3 "$(report_word "$ZT_W/t5e.out" "$(rcpt_id "$j" 1)")"
	check_eq "no -S, tls=any: PLAIN over TLS" "PLAIN:true:true" "$(last_auth)"
else
	info "make-certs failed: TLS cases skipped"
fi

# 6. wrong secret: rejected, not delivered, secret not in the report
start_aiosmtpd --auth alice:s3cret --auth-mechs CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "badauth@$H")
run_ta "$ZT_W/t6" "$j$T$H"$'\n' -c smtp -A "$AB" -p "$AIO_PORT"
check_match "bad secret: not delivered" '^(deferred|retryat|error2|deferall)$' "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_eq "bad secret: peer refused it" "CRAM-MD5:false:false" "$(auth_mechs_used)"
if grep -q wrong "$ZT_W/t6.out" "$ZT_W/t6.err"; then fail "secret leaked into output"; else pass "secret not in output"; fi

# 7. -F [127.0.0.1]:port: a "[127.0.0.1]" line matches (port ignored); the
# job's own host is another domain
start_aiosmtpd --auth alice:s3cret --auth-mechs CRAM-MD5 --auth-clear --auth-required
j=$(mkjob -P "$PO" "forced@example.test")
run_ta "$ZT_W/t7" "$j${T}example.test"$'\n' -c smtp -A "$AC" -F "[127.0.0.1]:$AIO_PORT"
check_eq "-F [ip]:port: delivered" ok3 "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
check_eq "-F [ip]:port: CRAM-MD5 used" "CRAM-MD5:true:false" "$(auth_mechs_used)"

# 7b. a line naming the address without brackets matches [127.0.0.1]
AN=$(secrets nobrackets alice s3cret clear 127.0.0.1)
j=$(mkjob -P "$PO" "nobr@$H")
run_ta "$ZT_W/t7b" "$j$T$H"$'\n' -c smtp -A "$AN" -p "$AIO_PORT"
check_eq "127.0.0.1 line for [127.0.0.1]: delivered" ok3 "$(report_word "$ZT_W/t7b.out" "$(rcpt_id "$j" 1)")"

# 8. a secrets file readable by the group (or others) is refused with a log
# line; nothing is sent, the recipient is deferred
for mode in 640 604; do
	AG=$(secrets "mode$mode" alice s3cret clear)
	chmod "$mode" "$AG"
	a0=$(auth_cmds)
	j=$(mkjob -P "$PO" "mode$mode@$H")
	run_ta "$ZT_W/t8$mode" "$j$T$H"$'\n' -c smtp -A "$AG" -p "$AIO_PORT"
	check_match "secrets mode $mode: deferred" "$DEFER" "$(report_word "$ZT_W/t8$mode.out" "$(rcpt_id "$j" 1)")"
	check_eq "secrets mode $mode: no AUTH command" "$a0" "$(auth_cmds)"
	check_match "secrets mode $mode: logged" 'group or others' "$(cat "$ZT_W/t8$mode.err")"
done

# 9. the old literal format is refused with the file and line named
printf '* [127.0.0.1] alice s3cret\n' > "$ZT_W/literal.auth"; chmod 600 "$ZT_W/literal.auth"
j=$(mkjob -P "$PO" "literal@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -A "$ZT_W/literal.auth" -p "$AIO_PORT"
check_match "literal secrets: deferred" "$DEFER" "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
check_match "literal secrets: file and line named" 'literal\.auth:1: .*base64' "$(report_line "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
zt_done
