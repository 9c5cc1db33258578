#!/bin/sh
# smtp-basic.sh - the smtp agent delivers to smtp-sink: 1 and 100 recipients,
# several messages over one connection, #idle keeps the connection, -1, -c,
# -h, job for an unselected channel -> #resync.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_agent
need_cmd smtp-sink
start_sink
scratch_po
T=$'\t'
H='[127.0.0.1]'

# 1. one message, one recipient
j=$(mkjob -P "$PO" "one@$H")
run_ta "$ZT_W/t1" "$j$T$H"$'\n' -c smtp -p "$SINK_PORT"
check_eq "exit status 0" 0 "$TA_RC"
check_eq "1 rcpt: report word" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "1 rcpt: control tag" + "$(ctl_tags "$(ctlpath "$j")")"
wait_sink_msgs 1 5
check_eq "1 rcpt: sink got 1 message" 1 "$(sink_msgs)"
check_eq "1 rcpt: sink got 1 recipient" 1 "$(sink_rcpts)"
grep -q '^#hungry' "$ZT_W/t1.out" && pass "#hungry printed" || fail "no #hungry in output"

# 2. one message, 100 recipients: one transaction (default limit 100)
rm -f "$SINK_DUMP"/*
rc=""; for i in $(seq 1 100); do rc="$rc r$i@$H"; done
j=$(mkjob -P "$PO" $rc)
run_ta "$ZT_W/t2" "$j$T$H"$'\n' -c smtp -p "$SINK_PORT"
check_eq "100 rcpts: 100 ok3 reports" 100 "$(grep -c $'\tok3' "$ZT_W/t2.out")"
check_eq "100 rcpts: all tags +" "$(printf '+%.0s' $(seq 1 100))" "$(ctl_tags "$(ctlpath "$j")")"
wait_sink_msgs 1 5
check_eq "100 rcpts: one transaction" 1 "$(sink_msgs)"
check_eq "100 rcpts: sink saw 100 RCPT" 100 "$(sink_rcpts)"
[ -z "$(ctl_dlines "$(ctlpath "$j")")" ] && pass "no d lines for ok3" || fail "d lines written for ok3"

# 3. several jobs, one connection (and #idle in between keeps it): aiosmtpd counts connections
start_aiosmtpd
jobs=""
for i in 1 2 3; do jobs="$jobs$(mkjob -P "$PO" "m$i@$H")$T$H"$'\n'; done
jobs="$jobs#idle"$'\n'"$(mkjob -P "$PO" "m4@$H")$T$H"$'\n'
run_ta "$ZT_W/t3" "$jobs" -c smtp -p "$AIO_PORT"
check_eq "4 jobs: 4 ok3" 4 "$(grep -c $'\tok3' "$ZT_W/t3.out")"
wait_lines "$AIO_LOG" 5 5
check_eq "4 jobs incl. #idle: one connection" 1 "$(aio_conns)"
check_eq "4 jobs: 4 transactions" 4 "$(aio_msgs)"
check_eq "EHLO sent once" 1 "$(jq_count "$AIO_LOG" '.ev == "cmd" and .verb == "EHLO"')"

# 4. -1: one message per connection
: > "$AIO_LOG"
jobs=""
for i in 1 2 3; do jobs="$jobs$(mkjob -P "$PO" "n$i@$H")$T$H"$'\n'; done
run_ta "$ZT_W/t4" "$jobs" -c smtp -1 -p "$AIO_PORT"
check_eq "-1: 3 ok3" 3 "$(grep -c $'\tok3' "$ZT_W/t4.out")"
sleep 0.3
check_eq "-1: 3 connections" 3 "$(aio_conns)"

# 5. -c channel: only recipients of that channel; others -> #resync
jo=$(mkjob -P "$PO" -c other "x1@$H")
run_ta "$ZT_W/t5" "$jo$T$H"$'\n' -c smtp -p "$AIO_PORT"
grep -q "^#resync $jo" "$ZT_W/t5.out" && pass "-c smtp on channel other: #resync" || fail "-c: no #resync ($(cat "$ZT_W/t5.out" | tr '\n\t' '|^'))"
check_eq "-c smtp did not touch channel other" _ "$(ctl_tags "$(ctlpath "$jo")")"
run_ta "$ZT_W/t6" "$jo$T$H"$'\n' -c other -p "$AIO_PORT"
check_eq "-c other delivers" ok3 "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$jo" 1)")"

# 6. -h name in EHLO
: > "$AIO_LOG"
j=$(mkjob -P "$PO" "h1@$H")
run_ta "$ZT_W/t7" "$j$T$H"$'\n' -c smtp -h client.example.test -p "$AIO_PORT"
wait_lines "$AIO_LOG" 2 5
check_eq "-h: EHLO name" client.example.test "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .helo')"

# 7. host fixed on the command line: job lines without a host
j=$(mkjob -P "$PO" "fixed@$H")
run_ta "$ZT_W/t8" "$j"$'\n' -c smtp -p "$SINK_PORT" "$H"
check_eq "host from argv" ok3 "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
# 8. body transparency: leading dots are doubled on the wire and undone by
#    the peer, LF becomes CRLF, "From " and a lone "." survive
printf 'line one\n.hidden\n..two dots\n.\nFrom here\n \n\nlast line without dot\n' > "$ZT_W/body"
: > "$AIO_LOG"
j=$(mkjob -P "$PO" -b "$ZT_W/body" "dots@$H")
run_ta "$ZT_W/t9" "$j$T$H"$'\n' -c smtp -p "$AIO_PORT"
check_eq "dot body: delivered" ok3 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
f=$(ls -t "$AIO_SAVE"/*.eml | head -1)
if "$ZT_PY" - "$f" "$ZT_W/body" <<'PY'
import sys
got = open(sys.argv[1], 'rb').read(); orig = open(sys.argv[2], 'rb').read()
body = got.split(b'\r\n\r\n', 1)[1]
sys.exit(0 if body == orig.replace(b'\n', b'\r\n') else 1)
PY
then pass "dot body: received byte for byte (CRLF)"; else fail "dot body: differs (dot-stuffing or line ends)"; fi
check_eq "no bare LF on the wire" false "$(jq_get "$AIO_LOG" 'select(.ev=="msg") | .bare_lf')"
zt_done
