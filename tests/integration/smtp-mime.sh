#!/bin/sh
# smtp-mime.sh - 8bit/7bit handling: -7 and a strict 7-bit peer get
# quoted-printable whose decoded body equals the original UTF-8 text;
# DKIM-signed 8-bit mail to a 7-bit peer is refused (error2) instead of
# being altered; -8 sends 8-bit to a peer without 8BITMIME; BODY=8BITMIME to
# 8-bit peers; header text: RFC 2047 unless -H.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
scratch_po
T=$'\t'
H='[127.0.0.1]'

# body_of RELPATH - the original body bytes of a job (queue file from 'o')
body_of() {
	local o
	o=$(grep -a '^o ' "$PO/transport/$1" | head -1 | cut -c3-)
	tail -c +$((o + 1)) "$PO/queue/$1"
}
# last_saved - newest message the current aiosmtpd peer saved
last_saved() { ls -t "$AIO_SAVE"/*.eml 2>/dev/null | head -1; }
# mimecheck EML ORIG - "<cte> <same|diff> <8bit|7bit>" of the saved message
mimecheck() {
	"$ZT_PY" - "$1" "$2" <<'PY'
import email, sys
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw)
pl = m.get_payload(decode=True) or b''
orig = open(sys.argv[2], 'rb').read()
n = lambda b: b.replace(b'\r\n', b'\n').rstrip(b'\n')
print((m.get('Content-Transfer-Encoding') or 'none').lower(),
      'same' if n(pl) == n(orig) else 'diff',
      '8bit' if any(c > 127 for c in raw) else '7bit')
PY
}
# header_of EML NAME - raw header line(s) of the saved message
header_of() { "$ZT_PY" -c 'import sys,email; m=email.message_from_bytes(open(sys.argv[1],"rb").read()); print(m.get_all(sys.argv[2], [""])[0])' "$1" "$2" 2>/dev/null; }

# 1. -7 against an 8BITMIME peer: QP, no BODY=8BITMIME
start_aiosmtpd
j=$(mkjob -P "$PO" -8 -z 600 "seven@$H")
body_of "$j" > "$ZT_W/orig1"
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -7 -p "$AIO_PORT"
check_eq "-7: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "-7: QP body decodes to the original, no 8-bit byte sent" "quoted-printable same 7bit" \
	"$(mimecheck "$(last_saved)" "$ZT_W/orig1")"
check_eq "-7: no BODY=8BITMIME" 0 "$(jq_count "$AIO_LOG" '.ev=="msg" and .body_param=="8BITMIME"')"

# 2. BODY=8BITMIME to an 8-bit peer, body untouched
j=$(mkjob -P "$PO" -8 -z 600 "eight@$H")
body_of "$j" > "$ZT_W/orig2"
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "8BITMIME peer: delivered" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "8BITMIME peer: BODY=8BITMIME sent" 8BITMIME \
	"$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .body_param' | tail -1)"
check_eq "8BITMIME peer: 8bit body as is" "8bit same 8bit" "$(mimecheck "$(last_saved)" "$ZT_W/orig2")"

# 3. strict 7-bit peer (no 8BITMIME, rejects 8-bit bodies): automatic QP
start_aiosmtpd --no-8bitmime --strict-7bit
j=$(mkjob -P "$PO" -8 -z 900 "strict@$H")
body_of "$j" > "$ZT_W/orig3"
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "7-bit peer: delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "7-bit peer: QP decodes to the original UTF-8" "quoted-printable same 7bit" \
	"$(mimecheck "$(last_saved)" "$ZT_W/orig3")"
check_eq "7-bit peer: no MAIL refused for BODY=" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="MAIL" and (.arg | test("BODY=8BITMIME"))')"

# 4. DKIM-signed 8-bit to the 7-bit peer: conversion prohibited -> error2
n=$(ls "$AIO_SAVE" 2>/dev/null | wc -l)
j=$(mkjob -P "$PO" -8 -h 'DKIM-Signature: v=1; a=rsa-sha256; d=src.test; s=x; bh=AAAA; b=BBBB' "dkim@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "DKIM 8bit to 7-bit peer: error2" error2 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "DKIM 8bit to 7-bit peer: nothing accepted" "$n" "$(ls "$AIO_SAVE" 2>/dev/null | wc -l)"
check_eq "DKIM: tag -" - "$(ctl_tags "$(ctlpath "$j")")"

# 5. Content-Conversion: prohibited behaves the same
j=$(mkjob -P "$PO" -8 -h 'Content-Conversion: prohibited' "prohib@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "Content-Conversion: prohibited: error2" error2 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"

# 6. -8 to a peer without 8BITMIME (not strict): no downgrade
start_aiosmtpd --no-8bitmime
j=$(mkjob -P "$PO" -8 -z 300 "minus8@$H")
body_of "$j" > "$ZT_W/orig6"
run_ta "$ZT_W/t6" "$j$T$H"$'\n' -c smtp -8 -p "$AIO_PORT"
check_eq "-8: delivered" ok3 "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_eq "-8: body sent as 8bit" "8bit same 8bit" "$(mimecheck "$(last_saved)" "$ZT_W/orig6")"
# without -8 the same peer gets QP
j=$(mkjob -P "$PO" -8 -z 300 "no8@$H")
body_of "$j" > "$ZT_W/orig7"
run_ta "$ZT_W/t7" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "no -8, 7-bit peer: QP" "quoted-printable same 7bit" "$(mimecheck "$(last_saved)" "$ZT_W/orig7")"

# 7. 8-bit header text: RFC 2047 encoded words for a 7-bit peer, raw with -H
SUBJ=$(printf 'Subject: Caf\303\251 cr\303\250me')
j=$(mkjob -P "$PO" -8 -h "$SUBJ" "hdr@$H")
run_ta "$ZT_W/t8" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
s=$(header_of "$(last_saved)" Subject)
check_match "8-bit Subject to 7-bit peer: encoded word" '=\?[A-Za-z0-9_-]+\?[QqBb]\?' "$s"
j=$(mkjob -P "$PO" -8 -h "$SUBJ" "hdrH@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -H -p "$AIO_PORT"
f=$(last_saved)
if grep -aq "$(printf 'Caf\303\251 cr\303\250me')" "$f"; then pass "-H: 8-bit Subject left alone"; else fail "-H: Subject was rewritten: $(header_of "$f" Subject)"; fi
zt_done
