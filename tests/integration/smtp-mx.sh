#!/bin/sh
# smtp-mx.sh - MX handling with NSD serving tests/peers/mta.test.zone:
# dead best MX (connection refused) -> next preference; null MX -> error2
# 5.1.10; NXDOMAIN -> error2; no MX -> implicit MX (A); -x (no MX lookup);
# -F [127.0.0.1]:port and -F host; DNS SERVFAIL (dns-faulty) -> deferall.
# MX addresses 127.0.0.2..4 are mapped to local ports by SMTP_TEST_ADDRMAP.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd nsd
start_nsd "$ZT_PEERS/mta.test.zone" mta.test
start_aiosmtpd; P1=$AIO_PORT; L1=$AIO_LOG
start_aiosmtpd; P2=$AIO_PORT; L2=$AIO_LOG
dead_tcp_port; PDEAD=$DEAD_TCP_PORT
scratch_po "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=127.0.0.2=127.0.0.1:$PDEAD 127.0.0.3=127.0.0.1:$P1 127.0.0.4=127.0.0.1:$P2"
T=$'\t'

# 1. prefs: MX 10 dead, MX 20 live (peer 1), MX 30 (peer 2, must not be used)
j=$(mkjob -P "$PO" a@prefs.mta.test)
run_ta "$ZT_W/t1" "$j${T}prefs.mta.test"$'\n' -c smtp
check_eq "dead best MX -> next MX delivers" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "pref 20 peer got it" 1 "$(jq_count "$L1" '.ev=="msg"')"
check_eq "pref 30 peer not used" 0 "$(jq_count "$L2" '.ev=="conn"')"

# 2. null MX (RFC 7505): permanent, 5.1.10, no connection at all
j=$(mkjob -P "$PO" b@nullmx.mta.test)
run_ta "$ZT_W/t2" "$j${T}nullmx.mta.test"$'\n' -c smtp
check_eq "null MX: error2" error2 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_match "null MX: 5.1.10 in the report" '5\.1\.10' "$(report_line "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_match "null MX: 5.1.10 in the d line" '5\.1\.10' "$(ctl_dlines "$(ctlpath "$j")")"
check_eq "null MX: tag -" - "$(ctl_tags "$(ctlpath "$j")")"

# 3. NXDOMAIN: permanent
j=$(mkjob -P "$PO" c@nosuchdomain.mta.test)
run_ta "$ZT_W/t3" "$j${T}nosuchdomain.mta.test"$'\n' -c smtp
check_eq "NXDOMAIN: error2" error2 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"

# 4. no MX, only A: implicit MX
n1=$(jq_count "$L1" '.ev=="msg"')
j=$(mkjob -P "$PO" d@noamx.mta.test)
run_ta "$ZT_W/t4" "$j${T}noamx.mta.test"$'\n' -c smtp
check_eq "implicit MX: ok3" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "implicit MX: peer 1 got it" $((n1 + 1)) "$(jq_count "$L1" '.ev=="msg"')"

# 5. -x: the host's own A record, no MX: prefs has no A -> not deliverable,
#    mxlive has one -> delivered
j=$(mkjob -P "$PO" e@prefs.mta.test)
run_ta "$ZT_W/t5" "$j${T}prefs.mta.test"$'\n' -c smtp -x
check_match "-x on an MX-only name: not delivered" '^(error2|deferred|retryat|deferall)$' "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_eq "-x on an MX-only name: no peer contacted" 0 "$(jq_count "$L2" '.ev=="conn"')"
j=$(mkjob -P "$PO" f@mxlive.mta.test)
run_ta "$ZT_W/t6" "$j${T}mxlive.mta.test"$'\n' -c smtp -x
check_eq "-x on a name with A: ok3" ok3 "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"

# 6. -F [127.0.0.1]:port overrides routing (even a null-MX domain)
j=$(mkjob -P "$PO" g@nullmx.mta.test)
run_ta "$ZT_W/t7" "$j${T}nullmx.mta.test"$'\n' -c smtp -F "[127.0.0.1]:$P2"
check_eq "-F [literal]:port: ok3" ok3 "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
check_eq "-F [literal]:port: peer 2 got it" 1 "$(jq_count "$L2" '.ev=="msg"')"

# 7. -F host: MX-resolved (prefs -> pref 20 = peer 1)
n1=$(jq_count "$L1" '.ev=="msg"')
j=$(mkjob -P "$PO" h@other.example)
run_ta "$ZT_W/t8" "$j${T}other.example"$'\n' -c smtp -F prefs.mta.test
check_eq "-F host: ok3" ok3 "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
check_eq "-F host: via its MX" $((n1 + 1)) "$(jq_count "$L1" '.ev=="msg"')"

# 8. -W: MX hosts without a WKS record for SMTP are not used
n2=$(jq_count "$L2" '.ev=="msg"')
j=$(mkjob -P "$PO" w1@wksless.mta.test)
run_ta "$ZT_W/t10" "$j${T}wksless.mta.test"$'\n' -c smtp -W
check_match "-W, MX without WKS: not delivered" '^(error2|deferred|retryat|deferall)$' "$(report_word "$ZT_W/t10.out" "$(rcpt_id "$j" 1)")"
check_eq "-W, MX without WKS: peer 2 not used" "$n2" "$(jq_count "$L2" '.ev=="msg"')"
j=$(mkjob -P "$PO" w2@wksless.mta.test)
run_ta "$ZT_W/t11" "$j${T}wksless.mta.test"$'\n' -c smtp
check_eq "without -W the same domain is delivered" ok3 "$(report_word "$ZT_W/t11.out" "$(rcpt_id "$j" 1)")"
j=$(mkjob -P "$PO" w3@prefs.mta.test)
run_ta "$ZT_W/t12" "$j${T}prefs.mta.test"$'\n' -c smtp -W
check_eq "-W, MX with WKS (mxlive): delivered" ok3 "$(report_word "$ZT_W/t12.out" "$(rcpt_id "$j" 1)")"

# 9. -e: a recipient of another domain whose MX is the server we are
#    connected to rides along; without -e it is left alone
j0=$(mkjob -P "$PO" e00@prefs.mta.test)
j=$(mkjob -P "$PO" e1@prefs.mta.test e2@samemx.mta.test)
run_ta "$ZT_W/t13" "$j0${T}prefs.mta.test"$'\n'"$j${T}prefs.mta.test"$'\n' -c smtp
check_eq "without -e: only the job host's recipient" "+_" "$(ctl_tags "$(ctlpath "$j")")"
# (the selector knows the MX of an open connection: a first job opens it)
j0=$(mkjob -P "$PO" e0@prefs.mta.test)
j=$(mkjob -P "$PO" e3@prefs.mta.test e4@samemx.mta.test)
run_ta "$ZT_W/t14" "$j0${T}prefs.mta.test"$'\n'"$j${T}prefs.mta.test"$'\n' -c smtp -e
check_eq "-e: both recipients delivered" "++" "$(ctl_tags "$(ctlpath "$j")")"
check_eq "-e: all reported ok3" "ok3 ok3 ok3" "$(words "$ZT_W/t14.out")"

# 10. -6 toggles IPv6-first: dual has A 127.0.0.3 (-> peer 1) and AAAA
#     ::1 (mapped -> peer 2; nothing is sent to ::1 itself)
write_zconf "$ZT_W/zmta6.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=127.0.0.3=127.0.0.1:$P1 ::1=127.0.0.1:$P2"
n1=$(jq_count "$L1" '.ev=="msg"'); n2=$(jq_count "$L2" '.ev=="msg"')
j=$(mkjob -P "$PO" v4@dual.mta.test)
run_ta "$ZT_W/t15" "$j${T}dual.mta.test"$'\n' -c smtp -x
check_eq "default address order: delivered" ok3 "$(report_word "$ZT_W/t15.out" "$(rcpt_id "$j" 1)")"
d1=$(( $(jq_count "$L1" '.ev=="msg"') - n1 )); d2=$(( $(jq_count "$L2" '.ev=="msg"') - n2 ))
j=$(mkjob -P "$PO" v6@dual.mta.test)
run_ta "$ZT_W/t16" "$j${T}dual.mta.test"$'\n' -c smtp -x -6
check_eq "-6: delivered" ok3 "$(report_word "$ZT_W/t16.out" "$(rcpt_id "$j" 1)")"
e1=$(( $(jq_count "$L1" '.ev=="msg"') - n1 - d1 )); e2=$(( $(jq_count "$L2" '.ev=="msg"') - n2 - d2 ))
check_eq "-6 (IPv6 first): the AAAA (::1, mapped to peer 2) is tried before the A (peer 1)" "$d1$d2 differs" "$d1$d2 $([ "$d1$d2" != "$e1$e2" ] && echo differs || echo same)"

# 11. self detection: SELFADDRESSES makes the best MX ourselves -> error2;
#     -x to our own address on port 25 is refused unless -X
write_zconf "$ZT_W/zmtaself.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
	"SMTP_TEST_ADDRMAP=127.0.0.2=127.0.0.1:$PDEAD 127.0.0.3=127.0.0.1:$P1 127.0.0.4=127.0.0.1:$P2" \
	"SELFADDRESSES=127.0.0.2"
j=$(mkjob -P "$PO" self@prefs.mta.test)
run_ta "$ZT_W/t17" "$j${T}prefs.mta.test"$'\n' -c smtp
check_eq "we are the best MX: error2" error2 "$(report_word "$ZT_W/t17.out" "$(rcpt_id "$j" 1)")"
if [ -z "$(ss -Hltn 'sport = :25' 2>/dev/null)" ]; then
	write_zconf "$ZT_W/zmtaX.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" "SELFADDRESSES=127.0.0.1" \
		"SMTP_TEST_ALLOW_LOOPBACK=yes"
	j=$(mkjob -P "$PO" x1@live1.mta.test)
	run_ta "$ZT_W/t18" "$j${T}live1.mta.test"$'\n' -c smtp -x
	check_match "-x to our own address, port 25: refused as self" 'own address' "$(report_line "$ZT_W/t18.out" "$(rcpt_id "$j" 1)")"
	j=$(mkjob -P "$PO" x2@live1.mta.test)
	run_ta "$ZT_W/t19" "$j${T}live1.mta.test"$'\n' -c smtp -x -X
	check_nomatch "-X: the self check is off (port 25 is closed here)" 'own address' "$(report_line "$ZT_W/t19.out" "$(rcpt_id "$j" 1)")"
	check_match "-X: not delivered (nothing on port 25)" '^(deferred|retryat)$' "$(report_word "$ZT_W/t19.out" "$(rcpt_id "$j" 1)")"
else
	info "-X part skipped: something listens on port 25"
fi

# 12. DNS SERVFAIL (dns-faulty.py): deferall, nothing final
if [ -f "$ZT_PEERS/dns-faulty.py" ] && "$ZT_PY" -c 'import dnslib' 2>/dev/null; then
	start_dns_faulty
	write_zconf "$ZT_W/zmta2.conf" "POSTOFFICE=$PO" "DNS_SERVERS=127.0.0.1:$DNS_PORT" \
		"SMTP_TEST_ADDRMAP=127.0.0.2=127.0.0.1:$PDEAD 127.0.0.3=127.0.0.1:$P1"
	j=$(mkjob -P "$PO" i@servfail.mta.test k@servfail.mta.test)
	run_ta "$ZT_W/t9" "$j${T}servfail.mta.test"$'\n' -c smtp
	check_eq "SERVFAIL: deferall" deferall "$(awk -F'\t' '/^[0-9]+\/[0-9]+\t/ {split($3,a," "); print a[1]}' "$ZT_W/t9.out" | sort -u | tr '\n' ' ' | sed 's/ $//')"
	check_eq "SERVFAIL: tags blank" "__" "$(ctl_tags "$(ctlpath "$j")")"
	check_eq "SERVFAIL: no d line" "" "$(ctl_dlines "$(ctlpath "$j")")"
else
	info "SERVFAIL part skipped (no tests/peers/dns-faulty.py or dnslib)"
fi
zt_done
