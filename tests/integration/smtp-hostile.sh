#!/bin/sh
# smtp-hostile.sh - hostile or broken job lines: "../" paths, absolute
# paths, a symlink out of transport/, garbage, an over-long line, a missing
# body file, and a last job line without its newline.  Nothing outside
# $POSTOFFICE/transport may be read or patched, and later good jobs still
# get delivered.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
start_aiosmtpd
scratch_po
T=$'\t'
H='[127.0.0.1]'

# decoy control files outside transport/ that would deliver if read
PO2=$ZT_W/po2
d=$(mkjob -P "$PO2" "decoy@$H")
cp "$PO2/transport/$d" "$PO/decoy"
cp "$PO2/transport/$d" "$ZT_W/decoy-abs"
ln -s "$ZT_W/decoy-abs" "$PO/transport/77777"
good1=$(mkjob -P "$PO" "good1@$H")
abs=$(mkjob -P "$PO" "absolute@$H")
long=$(head -c 100000 /dev/zero | tr '\0' '9')

jobs="../decoy$T$H
../../po/decoy$T$H
$PO/transport/$abs$T$H
/etc/passwd$T$H
77777$T$H
abc$T$H
12 34$T$H
K/../../decoy$T$H
$long$T$H
$good1$T$H
"
run_ta "$ZT_W/t1" "$jobs" -c smtp -p "$AIO_PORT"
if [ "$TA_RC" -lt 128 ] && [ "$TA_RC" != 124 ]; then pass "agent survived (exit $TA_RC)"; else fail "agent exit $TA_RC"; fi
check_eq "decoy ../ untouched" _ "$(ctl_tags "$PO/decoy")"
check_eq "decoy via symlink untouched" _ "$(ctl_tags "$ZT_W/decoy-abs")"
check_eq "absolute path to a real job: untouched" _ "$(ctl_tags "$(ctlpath "$abs")")"
check_eq "no report for anything but good1" "$(basename "$good1")" \
	"$(awk -F'\t' '/^[0-9]+\/[0-9]+\t/ {split($1, a, "/"); print a[1]}' "$ZT_W/t1.out" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "good job after the garbage delivered" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$good1" 1)")"
check_eq "peer got only good1" '["good1@[127.0.0.1]"]' "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .rcpt_tos' | jq -c . 2>/dev/null)"
# zmta-ta(7): an invalid job line gets "# prog:pid: bad job line: reason";
# a valid path that cannot be used (the symlink) gets "#resync path"
n=$(grep -c '^# .*bad job line' "$ZT_W/t1.out")
check_eq "8 malformed job lines answered 'bad job line'" 8 "$n"
if grep -q '^#resync 77777$' "$ZT_W/t1.out"; then pass "symlink job: #resync"; else fail "symlink job: no '#resync 77777'"; fi
check_match "over-long job line: said so" 'bad job line: .*(long|too)' "$(grep 'bad job line' "$ZT_W/t1.out" | tail -1)"

# missing body file: every recipient fails permanently
j=$(mkjob -P "$PO" "nobody1@$H" "nobody2@$H")
mv "$PO/queue/$j" "$ZT_W/moved-body"
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "missing body: error2 for both" "error2 error2" "$(words "$ZT_W/t2.out")"
check_eq "missing body: tags" "--" "$(ctl_tags "$(ctlpath "$j")")"
check_match "missing body: text says the message file is missing" '[Mm]issing|not found|[Nn]o such' "$(report_line "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"

# a job line without its newline (the scheduler died mid-write): discarded
ja=$(mkjob -P "$PO" "complete@$H")
jb=$(mkjob -P "$PO" "partial@$H")
run_ta "$ZT_W/t3" "$ja$T$H"$'\n'"$jb$T$H" -c smtp -p "$AIO_PORT"
check_eq "complete job delivered" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$ja" 1)")"
check_eq "partial job line not processed" _ "$(ctl_tags "$(ctlpath "$jb")")"
check_eq "partial job line: no report" "" "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$jb" 1)")"

# a job for a host none of its recipients has: #resync, untouched
j=$(mkjob -P "$PO" "elsewhere@$H")
run_ta "$ZT_W/t4" "$j${T}other.host.test"$'\n' -c smtp -p "$AIO_PORT"
check_eq "wrong host: untouched" _ "$(ctl_tags "$(ctlpath "$j")")"
grep -q "^#resync $j" "$ZT_W/t4.out" && pass "wrong host: #resync" || fail "wrong host: no #resync"

# a recipient already locked by a live process is not taken
j=$(mkjob -P "$PO" "locked@$H")
off=$(ctl_rcpt_offsets "$(ctlpath "$j")" | head -1)
printf '~%6d' "$$" | dd of="$(ctlpath "$j")" bs=1 seek=$((off + 1)) conv=notrunc 2>/dev/null
run_ta "$ZT_W/t5" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "locked recipient: no report" "" "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_eq "locked recipient: lock kept" "~" "$(ctl_tags "$(ctlpath "$j")")"
# hostile addresses inside a control file (the libspool writer refuses
# them, so the file is patched by hand, same length): '>' and a bare CR must
# never reach the wire (command injection); good recipients still go
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "ok-before@$H" "aXb@$H" "injYRSET@$H" "ok-after@$H" "ok-last@$H")
"$ZT_PY" - "$(ctlpath "$j")" <<'PY'
import sys
p = sys.argv[1]; d = open(p, 'rb').read()
d = d.replace(b' aXb@', b' a>b@').replace(b' injYRSET@', b' inj\rRSET@')
open(p, 'wb').write(d)
PY
run_ta "$ZT_W/t6" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "good recipients around hostile ones delivered" "ok3 ok3" \
	"$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)") $(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 4)")"
check_match "'>' in an address: not delivered" '^(error2|deferred|retryat)$' "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 2)")"
check_match "CR in an address: not delivered" '^(error2|deferred|retryat)$' "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 3)")"
check_eq "no RSET injected" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="RSET"')"
check_eq "no RCPT with '>' inside" 0 "$(jq_count "$AIO_LOG" '.ev=="cmd" and .verb=="RCPT" and (.arg|test("a>b"))')"
zt_done
