#!/bin/sh
# smtp-tls.sh - STARTTLS (-S smtp-tls.conf) against aiosmtpd with the test
# PKI of tests/peers/make-certs.sh: no -S -> opportunistic TLS all the
# same (tls-verify none turns it off); opportunistic (may); verify with the
# CA (good, self-signed, expired, wrong name); secure with the right and a
# wrong name -> deferred, never a plaintext fallback; demand-tls-mode with
# a peer without STARTTLS -> deferred; the window (pipelining across jobs)
# over TLS.  With NSD serving a test zone: verify matches the MX host name,
# secure the next-hop domain (or tls-secure-match), RFC 6125 wildcards.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd openssl
C=$ZT_W/certs
make_certs "$C" || skip "make-certs failed"
scratch_po
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

# 1. without -S: opportunistic TLS is on by default
j=$(mkjob -P "$PO" "notls@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -p "$GOOD"
check_eq "no -S: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "no -S: over TLS (may by default)" true "$(jq_get "$GOODLOG" 'select(.ev=="msg") | .tls' | tail -1)"
# 1b. tls-verify none: STARTTLS is not used
f=$(tlsconf none "tls-verify none")
j=$(mkjob -P "$PO" "none@$H")
run_ta "$ZT_W/t1b" "$j$T$H"$'\n' -c smtp -S "$f" -p "$GOOD"
check_eq "tls-verify none: delivered" ok3 "$(report_word "$ZT_W/t1b.out" "$(rcpt_id "$j" 1)")"
check_eq "tls-verify none: in clear" false "$(jq_get "$GOODLOG" 'select(.ev=="msg") | .tls' | tail -1)"
# 1c. the shipped smtp-tls.conf uses opportunistic TLS
check_match "shipped smtp-tls.conf: tls-verify may" '^tls-verify may$' "$(grep '^tls-verify' "$top_srcdir/etc/smtp-tls.conf")"

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

# 5b. verify: the chain is good but the certificate names other.test, not
# the host connected to ([127.0.0.1]): deferred
fv=$(tlsconf verify "tls-verify verify" "tls-CAfile $C/ca.pem")
j=$(mkjob -P "$PO" "verifywrong@$H")
m0=$(aio_msgs)
run_ta "$ZT_W/t5b" "$j$T$H"$'\n' -c smtp -S "$fv" -p "$AIO_PORT"
check_match "verify, wrong name: deferred" "$DEFER" "$(report_word "$ZT_W/t5b.out" "$(rcpt_id "$j" 1)")"
check_match "verify, wrong name: reason" 'name mismatch.*other\.test' "$(report_line "$ZT_W/t5b.out" "$(rcpt_id "$j" 1)")"
check_eq "verify, wrong name: no message" "$m0" "$(aio_msgs)"

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

# ---- names: MX host (verify) and next hop (secure), with DNS ----
# plain.tls.test has MX mx1.tls.test, sub.tls.test has MX mx.sub.tls.test;
# both MX hosts are at 127.0.0.3, which SMTP_TEST_ADDRMAP maps to the
# peer of each case.
leaf() { # NAME SAN - a certificate of the test CA
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2" > "$C/$1.ext" &&
	openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-days 30 -extfile "$C/$1.ext" -out "$C/$1.pem" 2>/dev/null
}
# mxcase NAME CERT DOMAIN WANT CONF-LINES... - deliver to DOMAIN through a
# peer with CERT; WANT ok (delivered over TLS) or defer (no message at all)
mxcase() {
	local name=$1 cert=$2 dom=$3 want=$4 f j w
	shift 4
	f=$(tlsconf "mx-$name" "tls-CAfile $C/ca.pem" "$@")
	start_aiosmtpd --tls "$C/$cert.pem" "$C/$cert.key" || { fail "$name: peer"; return; }
	write_zconf "$ZT_W/zmta-$name.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
		"SMTP_TEST_ADDRMAP=127.0.0.3=127.0.0.1:$AIO_PORT"
	j=$(mkjob -P "$PO" "$name@$dom")
	run_ta "$ZT_W/m-$name" "$j$T$dom"$'\n' -c smtp -S "$f"
	w=$(report_word "$ZT_W/m-$name.out" "$(rcpt_id "$j" 1)")
	if [ "$want" = ok ]; then
		check_eq "$name: delivered" ok3 "$w"
		check_eq "$name: over TLS" true "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .tls' | tail -1)"
	else
		check_match "$name: deferred" "$DEFER" "$w"
		check_eq "$name: no message" 0 "$(aio_msgs)"
	fi
	stop_pid "$AIO_PID"
}
if ! command -v nsd >/dev/null 2>&1; then
	info "no nsd: MX-name cases skipped"
else
	cat > "$ZT_W/tls.zone" <<'EOF'
$ORIGIN tls.test.
$TTL 60
@       IN SOA ns.tls.test. hostmaster.tls.test. ( 1 3600 600 86400 60 )
@       IN NS  ns.tls.test.
ns      IN A   127.0.0.1
plain   IN MX  10 mx1.tls.test.
mx1     IN A   127.0.0.3
sub     IN MX  10 mx.sub.tls.test.
mx.sub  IN A   127.0.0.3
EOF
	start_nsd "$ZT_W/tls.zone" tls.test || fail "nsd did not start"
	leaf mxname "DNS:mx1.tls.test" && leaf domname "DNS:plain.tls.test" &&
	leaf wild "DNS:*.tls.test" && leaf wildsub "DNS:*.sub.tls.test" &&
	leaf partial "DNS:mx*.tls.test" || fail "leaf certificates"

	# a certificate for the MX host: verify passes; secure does not (the MX
	# name came from DNS) unless tls-secure-match names it
	mxcase verify-mxname mxname plain.tls.test ok "tls-verify verify"
	mxcase secure-mxname mxname plain.tls.test defer "tls-verify secure"
	mxcase secure-matchlist mxname plain.tls.test ok "tls-verify secure" \
		"tls-secure-match nexthop, dot-nexthop, mx1.tls.test"
	# a certificate for the domain only: verify fails (not the MX host),
	# secure passes
	mxcase verify-domname domname plain.tls.test defer "tls-verify verify"
	mxcase secure-domname domname plain.tls.test ok "tls-verify secure"
	# tls-verify-match can accept the next hop in verify mode
	mxcase verify-match-nexthop domname plain.tls.test ok "tls-verify verify" \
		"tls-verify-match hostname, nexthop"
	# wildcards (RFC 6125): "*" is one whole leftmost label
	mxcase verify-wild wild plain.tls.test ok "tls-verify verify"
	mxcase verify-wild-2labels wild sub.tls.test defer "tls-verify verify"
	mxcase verify-wildsub wildsub sub.tls.test ok "tls-verify verify"
	mxcase secure-wildsub wildsub sub.tls.test ok "tls-verify secure"
	mxcase verify-partial partial plain.tls.test defer "tls-verify verify"
fi
zt_done
