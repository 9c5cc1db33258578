#!/bin/sh
# smtp-proto.sh - protocol options and broken peers: -E (banner without
# ESMTP -> HELO), -77 (HELO only), -T cmd=5 with a stalling peer, the -l
# transcript format, -s state text in /proc/PID/cmdline, replies split into
# single bytes, malformed and over-long replies, a peer closing mid-DATA.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
scratch_po
T=$'\t'
H='[127.0.0.1]'
DEFER='^(deferred|retryat|deferall|deferback)$'

raw_peer() { # raw-mode peer: sets AIO_PORT AIO_LOG
	start_aiosmtpd --raw "$@"
}
no_crash() { # WHAT - agent exit status is a normal one
	if [ "$TA_RC" -lt 128 ] && [ "$TA_RC" != 124 ]; then pass "$1: exit $TA_RC"; else fail "$1: exit status $TA_RC (crash or hang)"; fi
}

# 1. -E: banner without ESMTP -> HELO; without -E the same peer gets EHLO
start_aiosmtpd --banner "zmta test peer, plain SMTP"
j=$(mkjob -P "$PO" "e1@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -E -p "$AIO_PORT"
check_eq "-E: delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "-E, no ESMTP in banner: HELO" "1 0" \
	"$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="HELO"') $(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "e2@$H")
run_ta "$ZT_W/t1b" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "without -E: EHLO" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"
start_aiosmtpd
j=$(mkjob -P "$PO" "e3@$H")
run_ta "$ZT_W/t1c" "$j$T$H"$'\n' -c smtp -E -p "$AIO_PORT"
check_eq "-E, ESMTP banner: EHLO" 1 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"

# 2. -77: HELO only, no ESMTP parameters
start_aiosmtpd
j=$(mkjob -P "$PO" -8 "s77@$H")
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -77 -p "$AIO_PORT"
check_eq "-77: delivered" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "-77: no EHLO" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="EHLO"')"
check_eq "-77: session was plain SMTP" SMTP "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .proto')"
check_eq "-77: 8-bit body downgraded" false "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .body_8bit')"

# 3. EHLO refused (502) -> HELO on the same peer
start_aiosmtpd --no-esmtp
j=$(mkjob -P "$PO" "helo@$H")
run_ta "$ZT_W/t3" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "EHLO refused: HELO fallback delivers" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"

# 4. -T cmd=5: the peer never answers MAIL -> deferred, the run finishes
start_aiosmtpd --stall MAIL
j=$(mkjob -P "$PO" "stall@$H")
run_ta "$ZT_W/t4" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "-T cmd=5 with a stall"
check_match "-T cmd=5: deferred" "$DEFER" "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "-T cmd=5: tag blank" _ "$(ctl_tags "$(ctlpath "$j")")"
# -T dot=10: the final dot is never answered -> deferred after 10 s, not
# the 10-minute default (the 50 s bound of run_ta would catch that)
start_aiosmtpd --stall DOT
j=$(mkjob -P "$PO" "dotstall@$H")
run_ta "$ZT_W/t4d" "$j$T$H"$'\n' -c smtp -T dot=10 -p "$AIO_PORT"
no_crash "-T dot=10 with a stalled dot"
check_match "-T dot=10: deferred" "$DEFER" "$(report_word "$ZT_W/t4d.out" "$(rcpt_id "$j" 1)")"
# bad -T values are usage errors
run_ta "$ZT_W/t4b" "" -c smtp -T cmd=1 -p "$AIO_PORT"
check_eq "-T cmd=1 (below minimum): EX_USAGE" 64 "$TA_RC"
run_ta "$ZT_W/t4c" "" -c smtp -T bogus=5 -p "$AIO_PORT"
check_eq "-T bogus=5: EX_USAGE" 64 "$TA_RC"

# 5. -l transcript
start_aiosmtpd
L=$ZT_W/transcript.log
j=$(mkjob -P "$PO" "log1@$H" "rcpt-perm9@$H")
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -l "$L" -p "$AIO_PORT"
if [ -s "$L" ]; then
	bad=$(grep -cvE '^[0-9]{5}[0-9A-F]{4}-[0-9]{4}-[0-9]{4}[wr#]'$'\t' "$L")
	check_eq "-l: every line is <tag><kind>TAB<text>" 0 "$bad"
	check_match "-l: MAIL written" $'w\tMAIL '"[Ff][Rr][Oo][Mm]"':<mkjob@src.test>' "$(cat "$L")"
	check_match "-l: 550 read" $'r\t550' "$(cat "$L")"
	check_match "-l: a # event line" $'#\t' "$(cat "$L")"
	check_match "-l: DIAG line for the failed recipient" 'DIAG:.*rcpt-perm9' "$(cat "$L")"
else
	fail "-l: no transcript written"
fi

# 6. -s: the state is visible in /proc/PID/cmdline during a slow DATA reply
start_aiosmtpd --slow 5
mkfifo "$ZT_W/jobs"
j=$(mkjob -P "$PO" -z 20000 "slow1@$H")
( cd "$PO/transport" && exec "$ZT_SMTP" -c smtp -s -p "$AIO_PORT" ) < "$ZT_W/jobs" > "$ZT_W/t6.out" 2> "$ZT_W/t6.err" &
TAPID=$!
track $TAPID
exec 3> "$ZT_W/jobs"
printf '%s\t%s\n' "$j" "$H" >&3
titles=""
for i in $(seq 1 60); do
	t=$(tr '\0' ' ' < "/proc/$TAPID/cmdline" 2>/dev/null)
	case "$titles" in *"$t"*) ;; *) titles="$titles | $t" ;; esac
	grep -q $'\tok3' "$ZT_W/t6.out" 2>/dev/null && break
	sleep 0.1
done
exec 3>&-
wait_lines "$ZT_W/t6.out" 2 10
check_match "-s: process title shows the DATA/dot state" 'DATA|dot' "$titles"
check_match "-s: process title shows the peer" '127\.0\.0\.1' "$titles"
info "titles seen: $titles"
check_eq "-s: delivered" ok3 "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"

# 7. replies written one byte at a time
raw_peer --split
j=$(mkjob -P "$PO" "split@$H" "split2@$H")
run_ta "$ZT_W/t7" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "split replies: delivered" "ok3 ok3" "$(words "$ZT_W/t7.out")"

# 8. malformed reply to MAIL
raw_peer --reply 'MAIL=hello, this is not SMTP'
j=$(mkjob -P "$PO" "garbage@$H")
run_ta "$ZT_W/t8" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "malformed reply"
check_match "malformed reply: deferred" "$DEFER" "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
check_match "malformed reply: text says so" '[Mm]alformed|[Bb]ad|[Ii]nvalid|syntax|protocol' "$(report_line "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"

# 9. a four-digit code and a code without text
raw_peer --reply 'RCPT=2500 what'
j=$(mkjob -P "$PO" "code4@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "four-digit code"
check_match "four-digit code: not delivered" "$DEFER" "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"

# 10. over-long reply line (20000 bytes) and a 500-line reply to MAIL
#     (not to EHLO: a failed EHLO legitimately falls back to HELO)
long=$(head -c 20000 /dev/zero | tr '\0' 'x')
raw_peer --reply "MAIL=250 $long"
j=$(mkjob -P "$PO" "long@$H")
run_ta "$ZT_W/t10" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "over-long reply"
check_match "over-long reply: deferred" "$DEFER" "$(report_word "$ZT_W/t10.out" "$(rcpt_id "$j" 1)")"
check_match "over-long reply: text says why" '[Ll]ong|[Tt]oo|[Ll]imit' "$(report_line "$ZT_W/t10.out" "$(rcpt_id "$j" 1)")"
many=$(for i in $(seq 1 500); do printf '250-line %d\\r\\n' "$i"; done)
raw_peer --reply "MAIL=${many}250 end"
j=$(mkjob -P "$PO" "many@$H")
run_ta "$ZT_W/t11" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "500-line reply"
check_match "500-line reply: not delivered" "$DEFER" "$(report_word "$ZT_W/t11.out" "$(rcpt_id "$j" 1)")"
check_match "500-line reply: text says why" '[Ll]ong|[Tt]oo|[Ll]ines|[Ll]imit' "$(report_line "$ZT_W/t11.out" "$(rcpt_id "$j" 1)")"

# 11. the peer closes the connection in the middle of DATA
raw_peer --close-in-data 200
j=$(mkjob -P "$PO" -z 8000 "cut@$H")
run_ta "$ZT_W/t12" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "close mid-DATA"
check_match "close mid-DATA: deferred" "$DEFER" "$(report_word "$ZT_W/t12.out" "$(rcpt_id "$j" 1)")"
check_eq "close mid-DATA: tag blank" _ "$(ctl_tags "$(ctlpath "$j")")"

# 12. greeting never comes
raw_peer --stall GREETING
j=$(mkjob -P "$PO" "nogreet@$H")
run_ta "$ZT_W/t13" "$j$T$H"$'\n' -c smtp -T cmd=5 -p "$AIO_PORT"
no_crash "stalled greeting"
check_match "stalled greeting: deferred" "$DEFER" "$(report_word "$ZT_W/t13.out" "$(rcpt_id "$j" 1)")"

# 13. CHUNKING: a small message goes as BDAT, the body arrives intact
raw_peer --chunking
j=$(mkjob -P "$PO" -z 3000 "bdat@$H")
run_ta "$ZT_W/t15" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "CHUNKING: delivered" ok3 "$(report_word "$ZT_W/t15.out" "$(rcpt_id "$j" 1)")"
check_eq "CHUNKING: BDAT used, no DATA" "1 0" \
	"$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="BDAT"') $(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="DATA"')"
o=$(grep -a '^o ' "$(ctlpath "$j")" | cut -c3-)
tail -c +$((o + 1)) "$PO/queue/$j" > "$ZT_W/bdat.orig"
f=$(ls "$AIO_SAVE"/*.eml 2>/dev/null | head -1)
if [ -n "$f" ] && "$ZT_PY" - "$f" "$ZT_W/bdat.orig" <<'PY'
import sys
got = open(sys.argv[1], 'rb').read(); orig = open(sys.argv[2], 'rb').read()
body = got.split(b'\r\n\r\n', 1)[1] if b'\r\n\r\n' in got else b''
sys.exit(0 if body.replace(b'\r\n', b'\n') == orig else 1)
PY
then pass "CHUNKING: body intact (CRLF, no dot-stuffing)"; else fail "CHUNKING: body differs"; fi

# 14. connection refused
j=$(mkjob -P "$PO" "refused@$H")
dead_tcp_port
run_ta "$ZT_W/t14" "$j$T$H"$'\n' -c smtp -p "$DEAD_TCP_PORT"
check_match "connection refused: deferred" "$DEFER" "$(report_word "$ZT_W/t14.out" "$(rcpt_id "$j" 1)")"
zt_done
