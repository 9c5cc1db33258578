#!/bin/bash
# smtpd-polactions.sh - what smtpserver does with each policy action, at
# RCPT and at END-OF-MESSAGE, against a scripted policy server (python, on
# 127.0.0.1 at a free port; it answers by the sender's local part and logs
# every request) and swaks as the client:
#   - END-OF-MESSAGE is asked once per message with size and
#     recipient_count (recipient only when there is one); its REJECT is the
#     reply to the final dot and nothing is queued;
#   - HOLD (at RCPT and at END-OF-MESSAGE): 250, the submission is in
#     freezer/, not router/, and the log names the reason; router -1
#     leaves it there, and routes it once it is moved to router/;
#   - DISCARD (both stages): 250, nothing queued, a log line with the
#     reason; a discarded message is not shown to END-OF-MESSAGE;
#   - PREPEND at END-OF-MESSAGE: the header is in the queued message;
#   - REDIRECT / FILTER: not supported, the message is held, logged;
#     BCC: logged, delivered as DUNNO; 421: 450 without hanging up;
#   - a HOLD given for a recipient that greylisting then defers does not
#     hold the message of the other recipients (second server, greylisting).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks
[ -x "$ZT_PY" ] || skip "python3 missing"

ME=$(id -un)
scratch_po "ROUTERCONF=$ZT_W/router.conf"
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"

# --- the policy server -----------------------------------------------------------
POLPORT=$(pick_port)
"$ZT_PY" "$ZT_PEERS/policy-peer.py" "$POLPORT" "$ZT_W/policy.log" > "$ZT_W/policy.err" 2>&1 &
track $!
wait_port "$POLPORT" 20 || { show "$ZT_W/policy.err"; fail "policy server did not start"; zt_done; }

PORT=$(pick_port)
{
	echo "hostname mail.local.test"
	echo "policy-service inet:127.0.0.1:$POLPORT"
	echo "policy-service-eom 127.0.0.1:$POLPORT"
	echo "policy-timeout 10s"
	echo "listen 127.0.0.1:$PORT smtp"
} > "$ZT_W/smtpserver.conf"
"$SMTPD" -n -C "$ZT_W/smtpserver.conf" && pass "smtpserver -n accepts policy-service-eom" ||
	fail "smtpserver -n refuses policy-service-eom"
printf 'policy-service-eom inet:nowhere\n' > "$ZT_W/bad.conf"
out=$("$SMTPD" -n -C "$ZT_W/bad.conf" 2>&1)
check_match "smtpserver -n: a bad policy-service-eom endpoint is refused" 'policy service .inet:nowhere.' "$out"
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$PORT" || { show "$ZT_W/smtpd.err" "$ZT_W/smtpd.log"; fail "smtpserver did not start"; zt_done; }

# send FROM-LOCAL [swaks options] - one message from FROM-LOCAL@client.test
send() {
	local from=$1
	shift
	timeout 30 swaks --server "127.0.0.1:$PORT" --helo client.test --from "$from@client.test" \
		--to "$ME@local.test" --header "Subject: $from" "$@" 2>&1
}
# qid OUTPUT - the queue id of "Ok: queued as N"
qid() { printf '%s\n' "$1" | sed -n 's/.*Ok: queued as \([0-9][0-9]*\).*/\1/p' | head -1; }
# req STATE SENDER-LOCAL - the last request logged for that stage and sender
req() { grep "\"protocol_state\": \"$1\"" "$ZT_W/policy.log" | grep "\"sender\": \"$2@client.test\"" | tail -1; }
nfiles() { find "$PO/$1" -type f | wc -l; }
log() { cat "$ZT_W/smtpd.log"; }

# --- DUNNO everywhere: queued, END-OF-MESSAGE asked with size ------------------------
out=$(send plain)
id=$(qid "$out")
[ -n "$id" ] && [ -f "$PO/router/$id" ] && pass "DUNNO: queued into router/" || fail "DUNNO: not queued ($out)"
r=$(req END-OF-MESSAGE plain)
check_match "END-OF-MESSAGE asked after the data" '"protocol_state": "END-OF-MESSAGE"' "$r"
check_match "END-OF-MESSAGE: size of the message" '"size": "[1-9][0-9]*"' "$r"
check_match "END-OF-MESSAGE: recipient_count 1 and the recipient" \
	"\"recipient\": \"$ME@local.test\".*\"recipient_count\": \"1\"" "$r"
r=$(req RCPT plain)
check_match "RCPT: size 0, recipient_count 0" '"recipient_count": "0", "size": "0"' "$r"
out=$(send plain2 --to "$ME@local.test,postmaster@local.test")
r=$(req END-OF-MESSAGE plain2)
check_match "END-OF-MESSAGE with two recipients: recipient empty, count 2" \
	'"recipient": "".*"recipient_count": "2"' "$r"

# --- END-OF-MESSAGE refusal ---------------------------------------------------------------
before=$(nfiles router)
out=$(send big --body "$(head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 70)")
check_match "END-OF-MESSAGE 552: the reply to the final dot" '<\*\* +552 5\.3\.4 Message too big for the policy' "$out"
check_eq "END-OF-MESSAGE 552: nothing queued" "$before" "$(nfiles router)"
check_match "END-OF-MESSAGE refusal logged" 'message from <big@client.test> refused at END-OF-MESSAGE: 552' "$(log)"

# --- HOLD --------------------------------------------------------------------------------
out=$(send hold)
id=$(qid "$out")
check_match "HOLD at RCPT: the client gets 250" '250 2.0.0 Ok: queued as' "$out"
[ -n "$id" ] && [ -f "$PO/freezer/$id" ] && [ ! -e "$PO/router/$id" ] &&
	pass "HOLD at RCPT: the submission is in freezer/, not router/" || fail "HOLD: freezer/$id missing"
check_match "HOLD at RCPT: the held file is a whole submission" '^env-end' "$(cat "$PO/freezer/$id" 2>/dev/null)"
check_match "HOLD at RCPT: logged with the reason" "$id: held in freezer/ \\(policy HOLD at RCPT: suspicious sender\\)" "$(log)"
# the router leaves freezer/ alone; moved to router/, the message is routed
hid=$id
ROUTER=$top_builddir/router/router
if [ -x "$ROUTER" ]; then
	timeout 60 "$ROUTER" -1 -L "$ZT_W/router.log" 2>>"$ZT_W/router.log"
	[ -f "$PO/freezer/$hid" ] && [ ! -e "$PO/transport/$hid" ] &&
		pass "router -1 leaves the held message in freezer/" || fail "the router took freezer/$hid"
	mv "$PO/freezer/$hid" "$PO/router/$hid"
	timeout 60 "$ROUTER" -1 -L "$ZT_W/router.log" 2>>"$ZT_W/router.log"
	[ -f "$PO/transport/$hid" ] && [ ! -e "$PO/router/$hid" ] &&
		pass "released (mv freezer/ -> router/): routed, control file in transport/" ||
		{ show "$ZT_W/router.log"; fail "released message $hid not routed"; }
else
	info "router not built: release not checked"
fi
out=$(send eomhold)
id=$(qid "$out")
[ -n "$id" ] && [ -f "$PO/freezer/$id" ] && pass "HOLD at END-OF-MESSAGE: in freezer/" ||
	fail "HOLD at END-OF-MESSAGE: freezer/$id missing"
check_match "HOLD at END-OF-MESSAGE: logged" "$id: held in freezer/ \\(policy HOLD at END-OF-MESSAGE: looked at the body\\)" "$(log)"

# --- DISCARD -----------------------------------------------------------------------------
before_r=$(nfiles router) before_f=$(nfiles freezer)
out=$(send discard)
check_match "DISCARD at RCPT: 250 to the final dot" '250 2.0.0 Ok: message accepted' "$out"
check_eq "DISCARD at RCPT: nothing queued" "$before_r $before_f" "$(nfiles router) $(nfiles freezer)"
check_match "DISCARD at RCPT: logged with the reason" \
	'discarded a message from <discard@client.test>, 1 recipient, [0-9]+ bytes \(policy DISCARD at RCPT: spam trap\)' "$(log)"
check_eq "DISCARD at RCPT: END-OF-MESSAGE not asked" "" "$(req END-OF-MESSAGE discard)"
out=$(send eomdiscard)
check_match "DISCARD at END-OF-MESSAGE: 250" '250 2.0.0 Ok: message accepted' "$out"
check_eq "DISCARD at END-OF-MESSAGE: nothing queued" "$before_r $before_f" "$(nfiles router) $(nfiles freezer)"
check_match "DISCARD at END-OF-MESSAGE: logged" '\(policy DISCARD at END-OF-MESSAGE: body is spam\)' "$(log)"

# --- PREPEND and WARN at END-OF-MESSAGE ----------------------------------------------------
out=$(send eomprepend)
id=$(qid "$out")
check_match "PREPEND at END-OF-MESSAGE: the header is in the queued message" '^X-Policy-EOM: seen' \
	"$(cat "$PO/router/$id" 2>/dev/null)"
out=$(send eomwarn)
check_match "WARN at END-OF-MESSAGE: accepted" '250 2.0.0 Ok: queued' "$out"
check_match "WARN at END-OF-MESSAGE: logged" 'policy warning at END-OF-MESSAGE .*: odd body' "$(log)"

# --- actions not supported -------------------------------------------------------------------
for a in redirect filter; do
	out=$(send $a)
	id=$(qid "$out")
	[ -n "$id" ] && [ -f "$PO/freezer/$id" ] && pass "${a^^}: not supported, the message is held" ||
		fail "${a^^}: freezer/$id missing"
done
check_match "REDIRECT: logged as not supported" \
	'policy action "REDIRECT quarantine@local.test" at RCPT not supported: the message is held instead' "$(log)"
out=$(send bcc)
id=$(qid "$out")
[ -n "$id" ] && [ -f "$PO/router/$id" ] && pass "BCC: delivered as for DUNNO" || fail "BCC: router/$id missing"
check_match "BCC: logged as not supported" 'policy action "BCC archive@local.test" at RCPT not supported: taken as DUNNO' "$(log)"
out=$(send bye --quit-after RCPT)
check_match "421 from the policy service: 450 with its text" '<\*\* +450 4\.7\.0 go away' "$out"
check_match "421: logged, no hang-up" 'policy action "421 4.7.0 go away" at RCPT not supported: deferred without hanging up' "$(log)"
check_match "421: the session went on to QUIT" '221 ' "$out"

# --- HOLD for a recipient that greylisting then defers: not applied ------------------------
# a second server (own postoffice) greylisting 127.0.0.1; holdme is an alias
PO2=$ZT_W/po2
mk_postoffice "$PO2"
printf 'holdme: %s\n' "$ME" > "$ZT_W/aliases"
printf 'myhostname mail.local.test\nlocaldomains local.test\naliases %s\n' "$ZT_W/aliases" > "$ZT_W/router2.conf"
write_zconf "$ZT_W/zmta2.conf" "POSTOFFICE=$PO2" "ROUTERCONF=$ZT_W/router2.conf"
PORT2=$(pick_port)
{
	echo "hostname mail2.local.test"
	echo "trusted-networks 198.51.100.0/24"
	echo "greylist on"
	echo "greylist-delay 1s"
	echo "policy-service inet:127.0.0.1:$POLPORT"
	echo "listen 127.0.0.1:$PORT2 smtp"
} > "$ZT_W/smtpserver2.conf"
ZCONFIG=$ZT_W/zmta2.conf "$SMTPD" -F -C "$ZT_W/smtpserver2.conf" -L "$ZT_W/smtpd2.log" 2> "$ZT_W/smtpd2.err" &
SPID2=$!
track "$SPID2"
wait_port "$PORT2" || { show "$ZT_W/smtpd2.err" "$ZT_W/smtpd2.log"; fail "smtpserver 2 did not start"; zt_done; }
SW2=(timeout 30 swaks --server "127.0.0.1:$PORT2" --helo client.test --from mixed@client.test)
# allow-list the triplet to $ME (polled past the 1 s delay)
for i in $(seq 1 20); do
	out=$("${SW2[@]}" --to "$ME@local.test" 2>&1)
	case "$out" in *Greylisted*) sleep 1; continue ;; esac
	break
done
check_match "second server: $ME allow-listed" '250 2.0.0 Ok: queued' "$out"
out=$("${SW2[@]}" --to "$ME@local.test,holdme@local.test" 2>&1)
check_match "holdme: HOLD from the policy, then greylisted 450" '<\*\* +450 4\.7\.1 <holdme@local.test>: Greylisted' "$out"
id=$(qid "$out")
[ -n "$id" ] && [ -f "$PO2/router/$id" ] &&
	pass "the HOLD of a deferred recipient does not hold the message of the others" ||
	fail "router/$id missing in the second postoffice ($(ls "$PO2/freezer"))"
check_match "the policy did say HOLD for holdme" '"recipient": "holdme@local.test".*"action": "HOLD only for holdme"' \
	"$(cat "$ZT_W/policy.log")"

for p in "$SPID" "$SPID2"; do
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
done
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/smtpd.err" "$ZT_W/smtpd2.err"; then
	show "$ZT_W/smtpd.err" "$ZT_W/smtpd2.err"
	fail "sanitizer report from smtpserver"
fi
[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/smtpd.log" "$ZT_W/smtpd2.log" "$ZT_W/policy.err"
zt_done
